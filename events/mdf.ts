import type { DomainEventShape } from './envelope.js';

/**
 * Market development fund contracts (DOMAIN.md, "Market development funds"), stream
 * `mdf-<partnerId>.<period>`: one fund, one partner and one period (`YYYY-Qn`), in the currency of its first
 * allocation. The `type` strings and data field names are persisted: never rename them. Amounts are integer
 * minor units of the fund's currency; `...At` fields stamped by the ledger are the decision's record time,
 * `paidAt` is the caller's business time.
 */
export interface MdfMoney {
  readonly amountMinor: number;
  readonly currency: string;
}

export type MdfFundsAllocated = DomainEventShape<
  'MdfFundsAllocated',
  {
    readonly partnerId: string;
    readonly period: string;
    readonly amount: MdfMoney;
    /** The partner's tier when the allocation was decided, MDF eligible under `programVersion`. */
    readonly tier: string;
    readonly programVersion: number;
    readonly allocatedAt: string;
  }
>;

export type MdfRequested = DomainEventShape<
  'MdfRequested',
  {
    readonly partnerId: string;
    readonly period: string;
    readonly requestId: string;
    readonly activity: string;
    readonly amount: MdfMoney;
    readonly requestedAt: string;
    /** v2: business time the activity ends; its claims are due by activityEndsAt + mdfClaimDays. */
    readonly activityEndsAt?: string;
  }
>;

/** All or part of a request: `amount` is what was approved (≤ requested, ≤ available when decided). */
export type MdfApproved = DomainEventShape<
  'MdfApproved',
  {
    readonly partnerId: string;
    readonly period: string;
    readonly requestId: string;
    readonly amount: MdfMoney;
    readonly approvedAt: string;
    /**
     * v2: claims are due by this instant, (activityEndsAt or approvedAt) + mdfClaimDays of the program in force
     * at approval. Absent in events recorded before v2: read it as approvedAt + 90 days (the default).
     */
    readonly claimDeadline?: string;
    readonly mdfClaimDays?: number;
  }
>;

/**
 * v2: a release run (`asOf`) gives back to the fund what an approval past its claim deadline no claim used
 * (approved − released − claims approved or pending).
 */
export type MdfApprovalReleased = DomainEventShape<
  'MdfApprovalReleased',
  {
    readonly partnerId: string;
    readonly period: string;
    readonly requestId: string;
    readonly amount: MdfMoney;
    readonly claimDeadline: string;
    readonly asOf: string;
    readonly releasedAt: string;
  }
>;

export type MdfRequestRejected = DomainEventShape<
  'MdfRequestRejected',
  {
    readonly partnerId: string;
    readonly period: string;
    readonly requestId: string;
    readonly reason: string;
    readonly rejectedAt: string;
  }
>;

export type MdfClaimSubmitted = DomainEventShape<
  'MdfClaimSubmitted',
  {
    readonly partnerId: string;
    readonly period: string;
    readonly requestId: string;
    readonly claimId: string;
    readonly amount: MdfMoney;
    /** URLs or document references, 1 to 20. */
    readonly proofOfPerformance: readonly string[];
    readonly submittedAt: string;
  }
>;

/** All or part of a claim: `amount` ≤ the amount claimed. */
export type MdfClaimApproved = DomainEventShape<
  'MdfClaimApproved',
  {
    readonly partnerId: string;
    readonly period: string;
    readonly requestId: string;
    readonly claimId: string;
    readonly amount: MdfMoney;
    readonly approvedAt: string;
  }
>;

export type MdfClaimRejected = DomainEventShape<
  'MdfClaimRejected',
  {
    readonly partnerId: string;
    readonly period: string;
    readonly requestId: string;
    readonly claimId: string;
    readonly reason: string;
    readonly rejectedAt: string;
  }
>;

/** Pays the claim's approved amount, once. */
export type MdfClaimPaid = DomainEventShape<
  'MdfClaimPaid',
  {
    readonly partnerId: string;
    readonly period: string;
    readonly requestId: string;
    readonly claimId: string;
    readonly amount: MdfMoney;
    readonly paidAt: string;
    readonly reference: string;
  }
>;

/** The events of an `mdf-<partnerId>.<period>` stream. */
export type MdfEvent =
  | MdfFundsAllocated
  | MdfRequested
  | MdfApproved
  | MdfRequestRejected
  | MdfClaimSubmitted
  | MdfClaimApproved
  | MdfClaimRejected
  | MdfClaimPaid
  | MdfApprovalReleased;

export type MdfEventType = MdfEvent['type'];

export const MDF_EVENT_TYPES: readonly MdfEventType[] = [
  'MdfFundsAllocated',
  'MdfRequested',
  'MdfApproved',
  'MdfRequestRejected',
  'MdfClaimSubmitted',
  'MdfClaimApproved',
  'MdfClaimRejected',
  'MdfClaimPaid',
  'MdfApprovalReleased',
];


/**
 * Bookkeeping, not business facts: the reservation of a request id (`mdfrequest-<requestId>`) or a claim id
 * (`mdfclaim-<claimId>`) for one fund stream. It makes ids globally unique on a store that guarantees one
 * stream at a time, and it is the directory that routes `/v1/mdf/requests/{id}/...` and
 * `/v1/mdf/claims/{id}/...` to their fund. Kept out of `MdfEvent`: it never appears in a fund stream.
 */
export type MdfRequestIdReserved = DomainEventShape<
  'MdfRequestIdReserved',
  { readonly requestId: string; readonly partnerId: string; readonly period: string; readonly fundStreamId: string }
>;

export type MdfClaimIdReserved = DomainEventShape<
  'MdfClaimIdReserved',
  {
    readonly claimId: string;
    readonly requestId: string;
    readonly partnerId: string;
    readonly period: string;
    readonly fundStreamId: string;
  }
>;

export type MdfIdReservation = MdfRequestIdReserved | MdfClaimIdReserved;

export const MDF_ID_RESERVATION_TYPES: readonly MdfIdReservation['type'][] = ['MdfRequestIdReserved', 'MdfClaimIdReserved'];

/**
 * v2 MDF budgets (DOMAIN.md, "Budget per period"), stream `mdfbudget-<period>`: the budget of a period, per
 * currency, and a reservation of every allocation of the period, appended at the stream's revision before the
 * allocation itself (claim-then-decide), so the allocations of a period across partners' funds never exceed its
 * budget whatever the concurrency.
 */
export type MdfBudgetSet = DomainEventShape<
  'MdfBudgetSet',
  {
    readonly period: string;
    readonly amount: MdfMoney;
    readonly setAt: string;
  }
>;

/** Bookkeeping: an allocation's share of its period, reserved before the allocation is appended to its fund. */
export type MdfAllocationReserved = DomainEventShape<
  'MdfAllocationReserved',
  {
    readonly period: string;
    readonly partnerId: string;
    readonly fundStreamId: string;
    readonly amount: MdfMoney;
  }
>;

export type MdfBudgetEvent = MdfBudgetSet | MdfAllocationReserved;

export const MDF_BUDGET_EVENT_TYPES: readonly MdfBudgetEvent['type'][] = ['MdfBudgetSet', 'MdfAllocationReserved'];

export const mdfBudgetStreamId = (period: string): string => `mdfbudget-${period}`;
