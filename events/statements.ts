import type { DomainEventShape } from './envelope.js';

/**
 * Partner statement contracts (DOMAIN.md, "Partner statements (v2)"), stream `statement-<statementId>`. The
 * `type` strings and data field names are persisted and read by subscribers: never rename them. The content
 * is canonical JSON data (docs/statements.md): amounts are integer minor units, times UTC ISO 8601.
 */

/** Sums of one credit type's revenue in the period, in the reporting currency. */
export interface StatementRevenueLine {
  /** Allocations of attributions recognized in the period. */
  readonly attributedMinor: number;
  /** Reversals dated in the period (of any attribution), as a positive amount. */
  readonly reversedMinor: number;
  /** attributed − reversed. */
  readonly netMinor: number;
}

export interface StatementTierChange {
  /** Business time of the change. */
  readonly at: string;
  readonly from: string | null;
  readonly to: string;
  /** `enrolled`, `promotion`, `demotion`, `override` or `override-ended`. */
  readonly kind: string;
}

export interface StatementMdfTotals {
  readonly allocatedMinor: number;
  readonly approvedMinor: number;
  readonly releasedMinor: number;
  readonly claimedMinor: number;
  readonly claimApprovedMinor: number;
  readonly paidMinor: number;
}

/** The commission account of the period: closing = opening + accrued − clawed back − paid. */
export interface StatementCommissions {
  readonly openingMinor: number;
  readonly accruedMinor: number;
  readonly clawedBackMinor: number;
  readonly paidMinor: number;
  readonly closingMinor: number;
}

/** What a statement says: a pure function of the log up to its position (libs/statements). */
export interface StatementContent {
  /** `channel-ledger/statement/1`: how the content was computed. */
  readonly format: string;
  readonly partnerId: string;
  readonly period: string;
  /** The period as a half-open interval [from, to) of business time. */
  readonly from: string;
  readonly to: string;
  /** The program's reporting currency at the position; null before any program. */
  readonly reportingCurrency: string | null;
  readonly tier: {
    readonly atStart: string | null;
    readonly atEnd: string | null;
    readonly changes: readonly StatementTierChange[];
  };
  readonly revenue: {
    readonly sourced: StatementRevenueLine;
    readonly influenced: StatementRevenueLine;
    /** Attributions recognized in the period that credit the partner. */
    readonly attributions: number;
  };
  readonly deals: {
    readonly registered: number;
    readonly approved: number;
    readonly rejected: number;
    readonly expired: number;
    readonly won: number;
    readonly lost: number;
    /** Won amounts per deal currency. */
    readonly wonMinor: Readonly<Record<string, number>>;
  };
  /** Per fund currency. */
  readonly mdf: Readonly<Record<string, StatementMdfTotals>>;
  /** In the reporting currency. */
  readonly commissions: StatementCommissions;
}

/** The tree head `{ size, rootHash }` of the log at the statement's position. */
export interface StatementDigest {
  readonly size: number;
  readonly rootHash: string;
}

/** A statement issued: its position, digest, versions, content and the ledger's Ed25519 signature. */
export type PartnerStatementIssued = DomainEventShape<
  'PartnerStatementIssued',
  {
    readonly statementId: string;
    readonly partnerId: string;
    /** `YYYY-MM` or `YYYY-Qn`. */
    readonly period: string;
    /** The log position the content was computed at (a decimal string). */
    readonly position: string;
    readonly digest: StatementDigest;
    readonly programVersion: number;
    /** 0 when no commission plan was defined. */
    readonly commissionPlanVersion: number;
    readonly content: StatementContent;
    /** SHA-256 (hex) of the canonical JSON of `content`. */
    readonly contentHash: string;
    /** Base64 Ed25519 signature of the signing message (docs/statements.md) with the checkpoint key. */
    readonly signature: string;
    /** The signing key, as a signed-note verifier key (`<name>+<key id>+<key>`). */
    readonly verifierKey: string;
    readonly issuedAt: string;
  }
>;

export type StatementEvent = PartnerStatementIssued;
export const STATEMENT_EVENT_TYPES: readonly StatementEvent['type'][] = ['PartnerStatementIssued'];
export const statementStreamId = (statementId: string): string => `statement-${statementId}`;
