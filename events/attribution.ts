import type { DomainEventShape } from './envelope.js';

/**
 * Revenue attribution contracts (DOMAIN.md, "Revenue attribution"), stream `attribution-<attributionId>`.
 * The `type` strings and data field names are persisted and read by subscribers: never rename them.
 * Amounts are integer minor units; times are UTC ISO 8601 (`toISOString`).
 *
 * Reporting currency: `reportingCurrency` is the program's reporting currency when the event was recorded.
 * When `amount.currency` differs from it, the event and every allocation carry `reportingAmountMinor`
 * (minor units of `reportingCurrency`); when they are the same currency the field is absent and the
 * reporting amount is `amountMinor` itself. Tier revenue reads `reportingAmountMinor ?? amountMinor`.
 */
export type CreditType = 'sourced' | 'influenced';

export const CREDIT_TYPES: readonly CreditType[] = ['sourced', 'influenced'];

export interface AttributionCredit {
  readonly partnerId: string;
  readonly type: CreditType;
  /** Basis points of its type: each type present sums to exactly 10,000. */
  readonly shareBps: number;
}

/** One partner's part of one credit type. The allocations of each type present sum to the whole amount. */
export interface AttributionAllocation {
  readonly partnerId: string;
  readonly type: CreditType;
  readonly amountMinor: number;
  /** Present only when the attribution's currency is not its reporting currency. */
  readonly reportingAmountMinor?: number;
}

/**
 * How the reporting amount of a foreign-currency attribution was obtained (v2): a published rate in force at
 * `recognizedAt` (`rate`, `rateDate`, its `source`), or the caller's own figure (`source: "caller"`, no rate).
 */
export interface AttributionConversion {
  readonly rate?: string;
  readonly rateDate?: string;
  readonly source: string;
  readonly reportingAmountMinor: number;
}

export type RevenueAttributed = DomainEventShape<
  'RevenueAttributed',
  {
    readonly attributionId: string;
    readonly dealId?: string;
    readonly amount: { readonly amountMinor: number; readonly currency: string };
    readonly reportingCurrency: string;
    /** The caller's conversion at close; present only when `amount.currency !== reportingCurrency`. */
    readonly reportingAmountMinor?: number;
    /** Business time: the finance period of the allocations. */
    readonly recognizedAt: string;
    readonly credits: readonly AttributionCredit[];
    /** Sourced first, then influenced; by partnerId within a type. */
    readonly allocations: readonly AttributionAllocation[];
    readonly programVersion: number;
    /** v2: true when no deal is named. Absent in events recorded before v2: read it as `dealId === undefined`. */
    readonly unregistered?: boolean;
    /** v2: present exactly when `reportingAmountMinor` is (the conversion behind it). */
    readonly conversion?: AttributionConversion;
  }
>;

export type RevenueAttributionReversed = DomainEventShape<
  'RevenueAttributionReversed',
  {
    readonly attributionId: string;
    /** 1 for the first reversal of the attribution, then 2, … */
    readonly sequence: number;
    /** Taken back from every credit type present (each type carries the whole amount). */
    readonly amountMinor: number;
    readonly currency: string;
    readonly reportingCurrency: string;
    /** Present exactly when the attribution carries one: its share of what remained in the reporting currency. */
    readonly reportingAmountMinor?: number;
    readonly reason: string;
    /** Business time: the finance period the reversal counts in. */
    readonly reversedAt: string;
    /** The amounts taken back (positive numbers), per partner and type, summing to `amountMinor` within each type. */
    readonly allocations: readonly AttributionAllocation[];
    /** What remains of the attribution after this reversal, per type. */
    readonly remainingMinor: number;
  }
>;

export type AttributionEvent = RevenueAttributed | RevenueAttributionReversed;

export type AttributionEventType = AttributionEvent['type'];

export const ATTRIBUTION_EVENT_TYPES: readonly AttributionEventType[] = ['RevenueAttributed', 'RevenueAttributionReversed'];

/**
 * Bookkeeping, not a business fact: the reservation of part of a won deal's amount for one attribution, in the
 * deal's revenue stream `dealrevenue-<dealId>` (docs/money.md, "The won-amount cap"). Every attribution of a deal
 * reserves its amount there first, at the stream's revision, so the attributions of a deal (each in its own
 * stream) never exceed the won amount net of reversals, under any concurrency. Kept out of `AttributionEvent`.
 */
export type DealRevenueReserved = DomainEventShape<
  'DealRevenueReserved',
  {
    readonly dealId: string;
    readonly attributionId: string;
    readonly amount: { readonly amountMinor: number; readonly currency: string };
    /** The won amount the reservation was checked against. */
    readonly wonAmountMinor: number;
  }
>;

export const DEAL_REVENUE_RESERVATION_TYPES: readonly DealRevenueReserved['type'][] = ['DealRevenueReserved'];

export const dealRevenueStreamId = (dealId: string): string => `dealrevenue-${dealId}`;
