import type { DomainEventShape } from './envelope.js';

/**
 * Deal registration event contracts (DOMAIN.md, "Deal registration"). Every registration of one customer
 * lives in the customer account stream `customer-<registrable domain>`, so overlap, conflicts and "at most
 * one approved registration per customer + product" are decided against one stream revision. The `type`
 * strings and data field names are persisted and read by subscribers: never rename them. Times are UTC ISO
 * 8601 strings (`toISOString()`), money is `{ amountMinor, currency }`.
 *
 * Every event names `dealId`, `partnerId` and `customerKey`; events that used policy name the tier program
 * `programVersion` in force when they were recorded.
 */
export type DealStatus = 'submitted' | 'conflicted' | 'approved' | 'rejected' | 'expired' | 'won' | 'lost';

export const DEAL_STATUSES: readonly DealStatus[] = ['submitted', 'conflicted', 'approved', 'rejected', 'expired', 'won', 'lost'];

/** Reason of a `DealRegistrationRejected` recorded because another registration of the conflict was approved. */
export const CONFLICT_LOST = 'conflict-lost';

export interface DealMoney {
  readonly amountMinor: number;
  readonly currency: string;
}

export interface DealCustomer {
  readonly name: string;
  /** As the caller spelled it; `customerKey` is its registrable domain. */
  readonly domain: string;
  readonly country?: string;
}

/**
 * How one registration changed one registration conflict: opened it (`opened`), or joined it. `addedDealIds`
 * are the registrations that became members through this event (the new registration, plus earlier
 * overlapping ones that were in no open conflict); `products` are the conflict's contested products after it.
 */
export interface ConflictChange {
  readonly conflictId: string;
  readonly opened: boolean;
  readonly addedDealIds: readonly string[];
  readonly products: readonly string[];
}

/** A conflict that no longer has two active, overlapping members after the event that carries it. */
export interface ConflictResolution {
  readonly conflictId: string;
  /** The member approved most recently, when any member was ever approved. */
  readonly winnerDealId?: string;
}

export type DealRegistered = DomainEventShape<
  'DealRegistered',
  {
    readonly dealId: string;
    readonly partnerId: string;
    readonly customerKey: string;
    readonly customer: DealCustomer;
    readonly products: readonly string[];
    readonly estimatedValue: DealMoney;
    readonly expectedCloseDate: string;
    readonly registeredAt: string;
    /** `submitted` when it overlaps no active registration, `conflicted` otherwise. */
    readonly status: 'submitted' | 'conflicted';
    /** The active registrations it overlaps, in registration order (empty when submitted). */
    readonly conflictsWith: readonly string[];
    /** The conflicts it opened or joined (empty when submitted). */
    readonly conflicts: readonly ConflictChange[];
  }
>;

export type DealRegistrationApproved = DomainEventShape<
  'DealRegistrationApproved',
  {
    readonly dealId: string;
    readonly partnerId: string;
    readonly customerKey: string;
    readonly products: readonly string[];
    readonly approvedAt: string;
    /** `approvedAt + protectionDays`. */
    readonly protectedUntil: string;
    readonly protectionDays: number;
    readonly programVersion: number;
    /** The overlapping registrations rejected (`conflict-lost`) in the same append. */
    readonly rejectedDealIds: readonly string[];
    readonly resolvedConflicts: readonly ConflictResolution[];
  }
>;

export type DealRegistrationRejected = DomainEventShape<
  'DealRegistrationRejected',
  {
    readonly dealId: string;
    readonly partnerId: string;
    readonly customerKey: string;
    /** Free text from channel ops, or `conflict-lost` (then `winnerDealId` is set). */
    readonly reason: string;
    readonly winnerDealId?: string;
    readonly rejectedAt: string;
    readonly resolvedConflicts: readonly ConflictResolution[];
  }
>;

export type DealRegistrationExtended = DomainEventShape<
  'DealRegistrationExtended',
  {
    readonly dealId: string;
    readonly partnerId: string;
    readonly customerKey: string;
    readonly days: number;
    readonly previousProtectedUntil: string;
    readonly protectedUntil: string;
    readonly maxExtensionDays: number;
    readonly programVersion: number;
    readonly extendedAt: string;
  }
>;

export type DealRegistrationExpired = DomainEventShape<
  'DealRegistrationExpired',
  {
    readonly dealId: string;
    readonly partnerId: string;
    readonly customerKey: string;
    readonly products: readonly string[];
    readonly protectedUntil: string;
    /** Business time of the expiry run; `protectedUntil` is before it. */
    readonly asOf: string;
    readonly expiredAt: string;
    readonly resolvedConflicts: readonly ConflictResolution[];
  }
>;

export type DealWon = DomainEventShape<
  'DealWon',
  {
    readonly dealId: string;
    readonly partnerId: string;
    readonly customerKey: string;
    readonly products: readonly string[];
    readonly amount: DealMoney;
    /** Business time of the close; at or before `protectedUntil`. */
    readonly closedAt: string;
    readonly protectedUntil: string;
    readonly wonAt: string;
    readonly resolvedConflicts: readonly ConflictResolution[];
  }
>;

export type DealLost = DomainEventShape<
  'DealLost',
  {
    readonly dealId: string;
    readonly partnerId: string;
    readonly customerKey: string;
    readonly reason: string;
    readonly lostAt: string;
    readonly resolvedConflicts: readonly ConflictResolution[];
  }
>;

/** The events of a `customer-<registrable domain>` stream. */
export type DealEvent =
  | DealRegistered
  | DealRegistrationApproved
  | DealRegistrationRejected
  | DealRegistrationExtended
  | DealRegistrationExpired
  | DealWon
  | DealLost;

export type DealEventType = DealEvent['type'];

export const DEAL_EVENT_TYPES: readonly DealEventType[] = [
  'DealRegistered',
  'DealRegistrationApproved',
  'DealRegistrationRejected',
  'DealRegistrationExtended',
  'DealRegistrationExpired',
  'DealWon',
  'DealLost',
];

export const CUSTOMER_STREAM_PREFIX = 'customer-';


/**
 * Bookkeeping, not a business fact: the claim of a deal id in a `dealid-<dealId>` stream. A deal id is
 * unique across all customers, while each registration is decided in its customer's stream; claiming the
 * id first (expected revision read) makes two registrations of one id for different customers collide on
 * one stream. It also routes `POST /v1/deals/{id}/...` to the customer stream. Kept out of `DealEvent`
 * because it never appears in a customer stream.
 */
export type DealIdClaimed = DomainEventShape<
  'DealIdClaimed',
  { readonly dealId: string; readonly partnerId: string; readonly customerKey: string }
>;

export const DEAL_ID_EVENT_TYPES: readonly DealIdClaimed['type'][] = ['DealIdClaimed'];
