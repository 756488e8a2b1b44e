import type { CreditType } from './attribution.js';
import type { DomainEventShape } from './envelope.js';
import type { PartnerType } from './partners.js';

/**
 * Commission contracts (DOMAIN.md, "Commissions and payouts (v2)"), plan stream `commission-plan`.
 * The `type` strings and data field names are persisted and read by subscribers: never rename them.
 * Amounts are integer minor units of the program's reporting currency; rates are basis points.
 */
export interface CommissionRuleData {
  /** The partner's tier at `recognizedAt`; absent: any tier. */
  readonly tier?: string;
  /** Absent: any partner type. */
  readonly partnerType?: PartnerType;
  readonly creditType: CreditType;
  /** 0 to 10,000 (100 %). */
  readonly rateBps: number;
}

/** A new version of the commission plan: policy is data, and each accrual names the version it used. */
export type CommissionPlanDefined = DomainEventShape<
  'CommissionPlanDefined',
  {
    readonly version: number;
    /** Days after `recognizedAt` before an accrual is payable. */
    readonly holdDays: number;
    /** Balances below it carry forward to the next payout run. */
    readonly minimumPayoutMinor: number;
    readonly rules: readonly CommissionRuleData[];
    readonly definedAt: string;
  }
>;

export type CommissionPlanEvent = CommissionPlanDefined;
export const COMMISSION_PLAN_EVENT_TYPES = ['CommissionPlanDefined'] as const;
export const COMMISSION_PLAN_STREAM_ID = 'commission-plan';

/**
 * One allocation's commission, in the stream `attribution-<attributionId>`, appended in the same append as the
 * `RevenueAttributed` that causes it (one per allocation with a non-zero amount). An allocation is identified
 * by (attributionId, creditType, partnerId).
 */
export type CommissionAccrued = DomainEventShape<
  'CommissionAccrued',
  {
    readonly attributionId: string;
    readonly partnerId: string;
    readonly creditType: CreditType;
    readonly planVersion: number;
    /** The rule that applied (the most specific match). */
    readonly rule: CommissionRuleData;
    /** The partner's type and its tier at `recognizedAt`, as the rule read them. */
    readonly partnerType: PartnerType;
    readonly tier: string;
    /** The allocation's amount in `currency` (the reporting currency). */
    readonly baseMinor: number;
    readonly rateBps: number;
    readonly amountMinor: number;
    readonly currency: string;
    readonly recognizedAt: string;
    /** `recognizedAt + holdDays` of the plan version. */
    readonly payableFrom: string;
  }
>;

/**
 * The part of an accrual a reversal takes back, in the stream `attribution-<attributionId>`, appended in the
 * same append as the `RevenueAttributionReversed` (its `sequence`) that causes it. It counts against the
 * balance from `reversedAt` on, whether or not the accrual was payable or paid.
 */
export type CommissionClawedBack = DomainEventShape<
  'CommissionClawedBack',
  {
    readonly attributionId: string;
    readonly partnerId: string;
    readonly creditType: CreditType;
    /** The reversal's sequence in the attribution. */
    readonly sequence: number;
    /** Of the accrual clawed back. */
    readonly planVersion: number;
    readonly rule: CommissionRuleData;
    /** The reversed part of the allocation, in `currency`. */
    readonly baseMinor: number;
    readonly rateBps: number;
    readonly amountMinor: number;
    readonly currency: string;
    readonly reversedAt: string;
    /** The accrual's. */
    readonly payableFrom: string;
  }
>;

export type CommissionEvent = CommissionAccrued | CommissionClawedBack;
export const COMMISSION_EVENT_TYPES = ['CommissionAccrued', 'CommissionClawedBack'] as const;


// --- Payout runs: one stream `payout-runs`, so every run is decided at the revision of every other ---

export const PAYOUT_RUNS_STREAM_ID = 'payout-runs';

/** An accrual, by its allocation: (attributionId, creditType) of the line's partner. */
export interface PayoutAccrualRef {
  readonly attributionId: string;
  readonly creditType: CreditType;
}

export interface PayoutLineData {
  readonly partnerId: string;
  /** What the run pays the partner: its payable balance at `asOf` less what live runs already hold. */
  readonly amountMinor: number;
  /** The accruals this line pays for the first time (payable by `asOf`, in no other live run). */
  readonly accruals: readonly PayoutAccrualRef[];
}

export interface CarriedForwardData {
  readonly partnerId: string;
  /** The balance carried to a later run (may be negative: a clawback after payment). */
  readonly amountMinor: number;
  readonly reason: 'below-minimum' | 'not-positive';
}

/** A payout run for `asOf` in `currency` (the reporting currency when created). */
export type PayoutRunCreated = DomainEventShape<
  'PayoutRunCreated',
  {
    readonly payoutId: string;
    readonly asOf: string;
    readonly currency: string;
    readonly planVersion: number;
    readonly minimumPayoutMinor: number;
    readonly lines: readonly PayoutLineData[];
    readonly carriedForward: readonly CarriedForwardData[];
    readonly createdAt: string;
  }
>;

export type PayoutRunApproved = DomainEventShape<'PayoutRunApproved', { readonly payoutId: string; readonly approvedAt: string }>;

/** Only before approval; its accruals are free for a later run. */
export type PayoutRunCancelled = DomainEventShape<'PayoutRunCancelled', { readonly payoutId: string; readonly reason: string; readonly cancelledAt: string }>;

/** One line of an approved run paid, with the bank or payment provider's reference. Once per line. */
export type PayoutLinePaid = DomainEventShape<
  'PayoutLinePaid',
  {
    readonly payoutId: string;
    readonly partnerId: string;
    readonly amountMinor: number;
    readonly currency: string;
    /** Business time of the payment. */
    readonly paidAt: string;
    readonly reference: string;
  }
>;

export type PayoutEvent = PayoutRunCreated | PayoutRunApproved | PayoutRunCancelled | PayoutLinePaid;
export const PAYOUT_EVENT_TYPES = ['PayoutRunCreated', 'PayoutRunApproved', 'PayoutRunCancelled', 'PayoutLinePaid'] as const;
