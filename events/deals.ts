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

/**
 * Why a registration was rejected (DOMAIN.md, "Rules of engagement (v2)"). Events recorded before reason codes
 * have none: `conflict-lost` when their `reason` is `conflict-lost`, `other` otherwise.
 */
export type RejectionReasonCode = 'conflict-lost' | 'duplicate' | 'existing-customer' | 'direct-account' | 'incomplete' | 'not-qualified' | 'partner-not-active' | 'other';

export const REJECTION_REASON_CODES: readonly RejectionReasonCode[] = [
  'conflict-lost',
  'duplicate',
  'existing-customer',
  'direct-account',
  'incomplete',
  'not-qualified',
  'partner-not-active',
  'other',
];

/**
 * Why a registration expired: its protection ended (`protection-ended`, also what an event without `reason`
 * means), it waited longer than the program's review SLA (`review-lapsed`), or its partner was terminated.
 */
export type ExpiryReason = 'protection-ended' | 'review-lapsed' | 'partner-terminated';

export const EXPIRY_REASONS: readonly ExpiryReason[] = ['protection-ended', 'review-lapsed', 'partner-terminated'];

/** An approval of a registration while earlier overlapping ones were still pending: first-to-register set aside. */
export interface PrecedenceOverride {
  readonly reason: string;
  /** The earlier pending registrations it was approved over (they are rejected, `conflict-lost`, in the same append). */
  readonly earlierDealIds: readonly string[];
}

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
    /**
     * Business time of the registration: the record time, or the date channel ops or an admin gave when entering
     * a past registration. First-to-register precedence, the review SLA and `closed-before-registration` use it.
     */
    readonly registeredAt: string;
    /** The CRM opportunity id, when given. */
    readonly externalRef?: string;
    /** When `customer.domain` is an alias of the account: the registrable domain it named (`customerKey` is the account's). */
    readonly viaAlias?: string;
    /** The program version whose policy (capacity, product families) decided it; absent in events before v2. */
    readonly programVersion?: number;
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
    /** Set when earlier pending registrations were set aside (first-to-register overridden, with the reason). */
    readonly precedenceOverride?: PrecedenceOverride;
    /** The CRM opportunity id given with the approval (it replaces the registration's). */
    readonly externalRef?: string;
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
    /** Absent in events before reason codes (see `RejectionReasonCode`). */
    readonly reasonCode?: RejectionReasonCode;
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
    /** Absent when it was never approved (`review-lapsed`, or a pending registration of a terminated partner). */
    readonly protectedUntil?: string;
    /** Business time of the expiry run; `protectedUntil` (or the review deadline) is before it. */
    readonly asOf: string;
    readonly expiredAt: string;
    /** Absent in events before v2: `protection-ended`. */
    readonly reason?: ExpiryReason;
    /** The program version whose review SLA applied (`review-lapsed`). */
    readonly programVersion?: number;
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

/**
 * Channel ops aliased another registrable domain to a customer account (`acme.de` → `acme.com`). Recorded in
 * both streams: in the primary account's (`customerKey`), which lists its aliases, and in the alias domain's
 * own, which from then on sends registrations naming it to the primary account.
 */
export type CustomerDomainAliased = DomainEventShape<
  'CustomerDomainAliased',
  {
    /** The primary account. */
    readonly customerKey: string;
    /** The alias (a registrable domain). */
    readonly domain: string;
    /** Which of the two streams this copy is in: the primary account's, or the alias domain's own. */
    readonly recordedOn: 'primary' | 'alias';
    readonly aliasedAt: string;
  }
>;

/** The vendor's direct sales own this customer: registrations are refused (409 `direct-account`) until released or `until`. */
export type CustomerMarkedDirect = DomainEventShape<
  'CustomerMarkedDirect',
  {
    readonly customerKey: string;
    readonly reason: string;
    readonly until?: string;
    readonly markedAt: string;
  }
>;

export type CustomerDirectReleased = DomainEventShape<
  'CustomerDirectReleased',
  {
    readonly customerKey: string;
    readonly reason: string;
    readonly releasedAt: string;
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
  | DealLost
  | CustomerDomainAliased
  | CustomerMarkedDirect
  | CustomerDirectReleased;

export type DealEventType = DealEvent['type'];

export const DEAL_EVENT_TYPES: readonly DealEventType[] = [
  'DealRegistered',
  'DealRegistrationApproved',
  'DealRegistrationRejected',
  'DealRegistrationExtended',
  'DealRegistrationExpired',
  'DealWon',
  'DealLost',
  'CustomerDomainAliased',
  'CustomerMarkedDirect',
  'CustomerDirectReleased',
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

/**
 * Bookkeeping, not a business fact: a partner's registration capacity (`maxOpenRegistrations`) in a
 * `dealslots-<partnerId>` stream. Open registrations of one partner span customer accounts, so no customer
 * stream can count them race-free; every registration of a partner under a capacity takes a slot here at the
 * revision read, so two racing registrations at the limit collide on one stream (docs/deals.md, "Capacity").
 * `freedDealIds` are slots whose registrations had ended (or never landed) when the slot was taken.
 */
export type DealSlotTaken = DomainEventShape<
  'DealSlotTaken',
  {
    readonly partnerId: string;
    readonly dealId: string;
    readonly customerKey: string;
    readonly maxOpenRegistrations: number;
    readonly programVersion: number;
    readonly freedDealIds: readonly string[];
  }
>;

export const DEAL_SLOT_EVENT_TYPES: readonly DealSlotTaken['type'][] = ['DealSlotTaken'];
