import type { RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import type { CommissionAccrued, CommissionClawedBack, PayoutLinePaid } from '#events/commissions.js';
import type { DealLost, DealRegistered, DealRegistrationApproved, DealRegistrationExpired, DealRegistrationRejected, DealWon } from '#events/deals.js';
import type { MdfApprovalReleased, MdfApproved, MdfClaimApproved, MdfClaimPaid, MdfClaimSubmitted, MdfFundsAllocated } from '#events/mdf.js';
import type { PartnerEnrolled, PartnerTierChanged, PartnerTierOverridden, PartnerTierOverrideEnded } from '#events/partners.js';
import type { StatementContent, StatementMdfTotals, StatementTierChange } from '#events/statements.js';
import { requirePeriod, type PeriodBounds } from './period.js';

/** How the content is computed; a change of the rules below is a new format (docs/statements.md). */
export const STATEMENT_CONTENT_FORMAT = 'channel-ledger/statement/1';

/** The commission events a statement reads (events/commissions.ts), each at its business time. */
export const COMMISSION_ACCRUED = 'CommissionAccrued' satisfies CommissionAccrued['type'];
export const COMMISSION_CLAWED_BACK = 'CommissionClawedBack' satisfies CommissionClawedBack['type'];
export const PAYOUT_LINE_PAID = 'PayoutLinePaid' satisfies PayoutLinePaid['type'];

/** Every event type a statement reads: the store filters the log by them. */
export const STATEMENT_SOURCE_TYPES: readonly string[] = [
  'TierProgramDefined',
  'CommissionPlanDefined',
  'PartnerEnrolled',
  'PartnerTierChanged',
  'PartnerTierOverridden',
  'PartnerTierOverrideEnded',
  'RevenueAttributed',
  'RevenueAttributionReversed',
  'DealRegistered',
  'DealRegistrationApproved',
  'DealRegistrationRejected',
  'DealRegistrationExpired',
  'DealWon',
  'DealLost',
  'MdfFundsAllocated',
  'MdfApproved',
  'MdfApprovalReleased',
  'MdfClaimSubmitted',
  'MdfClaimApproved',
  'MdfClaimPaid',
  COMMISSION_ACCRUED,
  COMMISSION_CLAWED_BACK,
  PAYOUT_LINE_PAID,
];

/** The source types every statement reads, whatever its partner: the program and the commission plan. */
export const STATEMENT_POLICY_TYPES: readonly string[] = ['TierProgramDefined', 'CommissionPlanDefined'];

const SOURCE_TYPES = new Set(STATEMENT_SOURCE_TYPES);
const POLICY_TYPES = new Set(STATEMENT_POLICY_TYPES);

/**
 * Whose statements an event can change: `'policy'` for the program and the plan (every partner's), the partner ids
 * it names (`data.partnerId`, and each `data.allocations[].partnerId` of an attribution or its reversal), or none
 * (not a source type, or a source event naming no partner). `StatementFold` ignores every event whose answer does
 * not hold its partner: a partner's statement is the fold of exactly the events answering its id or `'policy'`,
 * in log order, which is what the per-partner index (projections/statement-sources) relies on.
 */
export function statementSubjects(type: string, data: unknown): 'policy' | readonly string[] {
  if (!SOURCE_TYPES.has(type)) return [];
  if (POLICY_TYPES.has(type)) return 'policy';
  if (data === null || typeof data !== 'object') return [];
  const d = data as { partnerId?: unknown; allocations?: unknown };
  const ids: string[] = [];
  if (typeof d.partnerId === 'string') ids.push(d.partnerId);
  if (Array.isArray(d.allocations)) {
    for (const a of d.allocations as unknown[]) {
      const id = a !== null && typeof a === 'object' ? (a as { partnerId?: unknown }).partnerId : undefined;
      if (typeof id === 'string' && !ids.includes(id)) ids.push(id);
    }
  }
  return ids;
}

/** What the fold needs of a recorded event: its type, data, position and record time. */
export interface StatementSourceEvent {
  readonly type: string;
  readonly data: unknown;
  readonly position: bigint;
  readonly metadata: { readonly recordedAt: string };
}

export interface ComputedStatement {
  readonly content: StatementContent;
  /** The highest tier program version recorded up to the position (0: none). */
  readonly programVersion: number;
  /** The highest commission plan version recorded up to the position (0: none). */
  readonly commissionPlanVersion: number;
  /** The partner was enrolled at or before the position. */
  readonly partnerKnown: boolean;
}

interface Sum {
  attributed: bigint;
  reversed: bigint;
}

interface TierMark {
  readonly ms: number;
  readonly position: bigint;
  readonly at: string;
  readonly to: string;
  readonly kind: string;
}

type MdfSums = { -readonly [K in keyof StatementMdfTotals]: bigint };

const ms = (iso: string): number => Date.parse(iso);

/** A bigint sum as JSON: a number within 2^53 − 1 (always, given the ledger's range checks), else its decimal string. */
function out(v: bigint): number {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : (v.toString() as unknown as number);
}

function int(v: unknown): bigint {
  return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : 0n;
}

/**
 * A partner's statement for a period, folded from the log in position order (feed it the events of
 * `STATEMENT_SOURCE_TYPES` up to the statement's position; others are ignored). Pure and deterministic:
 * the same events give the same content, byte for byte once canonicalized. docs/statements.md says what
 * each line counts.
 */
export class StatementFold {
  private readonly bounds: PeriodBounds;
  private programVersion = 0;
  private reportingCurrency: string | null = null;
  private commissionPlanVersion = 0;
  private enrolled = false;
  private readonly tiers: TierMark[] = [];
  private readonly revenue = new Map<string, { sourced: Sum; influenced: Sum; attributions: Set<string> }>();
  private readonly deals = { registered: 0, approved: 0, rejected: 0, expired: 0, won: 0, lost: 0 };
  private readonly wonMinor = new Map<string, bigint>();
  private readonly mdf = new Map<string, MdfSums>();
  private readonly commissions = { opening: 0n, accrued: 0n, clawedBack: 0n, paid: 0n };

  constructor(
    readonly partnerId: string,
    readonly period: string,
  ) {
    this.bounds = requirePeriod(period);
  }

  private inPeriod(iso: string | undefined): boolean {
    if (typeof iso !== 'string') return false;
    const t = ms(iso);
    return t >= this.bounds.fromMs && t < this.bounds.toMs;
  }

  private revenueOf(currency: string) {
    let r = this.revenue.get(currency);
    if (r === undefined) this.revenue.set(currency, (r = { sourced: { attributed: 0n, reversed: 0n }, influenced: { attributed: 0n, reversed: 0n }, attributions: new Set() }));
    return r;
  }

  private mdfOf(currency: string): MdfSums {
    let m = this.mdf.get(currency);
    if (m === undefined) this.mdf.set(currency, (m = { allocatedMinor: 0n, approvedMinor: 0n, releasedMinor: 0n, claimedMinor: 0n, claimApprovedMinor: 0n, paidMinor: 0n }));
    return m;
  }

  private mdfEvent(d: { partnerId: string; amount: { amountMinor: number; currency: string } }, at: string, key: keyof MdfSums): void {
    if (d.partnerId !== this.partnerId || !this.inPeriod(at)) return;
    const m = this.mdfOf(d.amount.currency);
    m[key] += int(d.amount.amountMinor);
  }

  /** A commission movement: before the period it moves the opening balance, in it its own line. */
  private commission(d: { readonly partnerId: string; readonly amountMinor: number }, at: string, line: 'accrued' | 'clawedBack' | 'paid'): void {
    if (d.partnerId !== this.partnerId) return;
    const amount = int(d.amountMinor);
    const t = ms(at);
    const signed = line === 'accrued' ? amount : -amount;
    if (t < this.bounds.fromMs) this.commissions.opening += signed;
    else if (t < this.bounds.toMs) this.commissions[line] += amount;
  }

  add(e: StatementSourceEvent): void {
    const p = this.partnerId;
    switch (e.type) {
      case 'TierProgramDefined': {
        const d = e.data as { version: number; reportingCurrency: string };
        if (d.version >= this.programVersion) {
          this.programVersion = d.version;
          this.reportingCurrency = d.reportingCurrency;
        }
        return;
      }
      case 'CommissionPlanDefined': {
        const d = e.data as { version: number };
        this.commissionPlanVersion = Math.max(this.commissionPlanVersion, d.version);
        return;
      }
      case 'PartnerEnrolled': {
        const d = e.data as PartnerEnrolled['data'];
        if (d.partnerId !== p) return;
        this.enrolled = true;
        this.tiers.push({ ms: ms(d.enrolledAt), position: e.position, at: d.enrolledAt, to: d.tier, kind: 'enrolled' });
        return;
      }
      case 'PartnerTierChanged': {
        const d = e.data as PartnerTierChanged['data'];
        if (d.partnerId === p) this.tiers.push({ ms: ms(d.asOf), position: e.position, at: d.asOf, to: d.to, kind: d.kind });
        return;
      }
      case 'PartnerTierOverridden': {
        const d = e.data as PartnerTierOverridden['data'];
        if (d.partnerId === p) this.tiers.push({ ms: ms(d.overriddenAt), position: e.position, at: d.overriddenAt, to: d.tier, kind: 'override' });
        return;
      }
      case 'PartnerTierOverrideEnded': {
        const d = e.data as PartnerTierOverrideEnded['data'];
        if (d.partnerId === p) this.tiers.push({ ms: ms(d.endedAt), position: e.position, at: d.endedAt, to: d.restoredTier, kind: 'override-ended' });
        return;
      }
      case 'RevenueAttributed': {
        const d = e.data as RevenueAttributed['data'];
        if (!this.inPeriod(d.recognizedAt)) return;
        for (const a of d.allocations) {
          if (a.partnerId !== p) continue;
          const r = this.revenueOf(d.reportingCurrency);
          r[a.type].attributed += int(a.reportingAmountMinor ?? a.amountMinor);
          r.attributions.add(d.attributionId);
        }
        return;
      }
      case 'RevenueAttributionReversed': {
        const d = e.data as RevenueAttributionReversed['data'];
        if (!this.inPeriod(d.reversedAt)) return;
        for (const a of d.allocations) {
          if (a.partnerId !== p) continue;
          this.revenueOf(d.reportingCurrency)[a.type].reversed += int(a.reportingAmountMinor ?? a.amountMinor);
        }
        return;
      }
      case 'DealRegistered': {
        const d = e.data as DealRegistered['data'];
        if (d.partnerId === p && this.inPeriod(d.registeredAt)) this.deals.registered += 1;
        return;
      }
      case 'DealRegistrationApproved': {
        const d = e.data as DealRegistrationApproved['data'];
        if (d.partnerId === p && this.inPeriod(d.approvedAt)) this.deals.approved += 1;
        return;
      }
      case 'DealRegistrationRejected': {
        const d = e.data as DealRegistrationRejected['data'];
        if (d.partnerId === p && this.inPeriod(d.rejectedAt)) this.deals.rejected += 1;
        return;
      }
      case 'DealRegistrationExpired': {
        const d = e.data as DealRegistrationExpired['data'];
        if (d.partnerId === p && this.inPeriod(d.asOf)) this.deals.expired += 1;
        return;
      }
      case 'DealWon': {
        const d = e.data as DealWon['data'];
        if (d.partnerId !== p || !this.inPeriod(d.closedAt)) return;
        this.deals.won += 1;
        this.wonMinor.set(d.amount.currency, (this.wonMinor.get(d.amount.currency) ?? 0n) + int(d.amount.amountMinor));
        return;
      }
      case 'DealLost': {
        const d = e.data as DealLost['data'];
        if (d.partnerId === p && this.inPeriod(d.lostAt)) this.deals.lost += 1;
        return;
      }
      case 'MdfFundsAllocated': {
        const d = e.data as MdfFundsAllocated['data'];
        return this.mdfEvent(d, d.allocatedAt, 'allocatedMinor');
      }
      case 'MdfApproved': {
        const d = e.data as MdfApproved['data'];
        return this.mdfEvent(d, d.approvedAt, 'approvedMinor');
      }
      case 'MdfApprovalReleased': {
        const d = e.data as MdfApprovalReleased['data'];
        return this.mdfEvent(d, d.releasedAt, 'releasedMinor');
      }
      case 'MdfClaimSubmitted': {
        const d = e.data as MdfClaimSubmitted['data'];
        return this.mdfEvent(d, d.submittedAt, 'claimedMinor');
      }
      case 'MdfClaimApproved': {
        const d = e.data as MdfClaimApproved['data'];
        return this.mdfEvent(d, d.approvedAt, 'claimApprovedMinor');
      }
      case 'MdfClaimPaid': {
        const d = e.data as MdfClaimPaid['data'];
        return this.mdfEvent(d, d.paidAt, 'paidMinor');
      }
      case COMMISSION_ACCRUED: {
        const d = e.data as CommissionAccrued['data'];
        return this.commission(d, d.recognizedAt, 'accrued');
      }
      case COMMISSION_CLAWED_BACK: {
        const d = e.data as CommissionClawedBack['data'];
        return this.commission(d, d.reversedAt, 'clawedBack');
      }
      case PAYOUT_LINE_PAID: {
        const d = e.data as PayoutLinePaid['data'];
        return this.commission(d, d.paidAt, 'paid');
      }
      default:
        return;
    }
  }

  result(): ComputedStatement {
    const b = this.bounds;
    // Tier: each change at its business time, ties in log order.
    const marks = [...this.tiers].sort((x, y) => x.ms - y.ms || (x.position < y.position ? -1 : x.position > y.position ? 1 : 0));
    let atStart: string | null = null;
    let current: string | null = null;
    const changes: StatementTierChange[] = [];
    for (const m of marks) {
      if (m.ms >= b.toMs) break;
      if (m.ms < b.fromMs) atStart = m.to;
      else if (m.to !== current) changes.push({ at: m.at, from: current, to: m.to, kind: m.kind });
      current = m.to;
    }
    const currency = this.reportingCurrency ?? [...this.revenue.keys()].sort()[0] ?? null;
    const r = currency === null ? undefined : this.revenue.get(currency);
    const line = (s: Sum | undefined) => ({ attributedMinor: out(s?.attributed ?? 0n), reversedMinor: out(s?.reversed ?? 0n), netMinor: out((s?.attributed ?? 0n) - (s?.reversed ?? 0n)) });
    const c = this.commissions;
    const mdf: Record<string, StatementMdfTotals> = {};
    for (const k of [...this.mdf.keys()].sort()) {
      const m = this.mdf.get(k)!;
      mdf[k] = {
        allocatedMinor: out(m.allocatedMinor),
        approvedMinor: out(m.approvedMinor),
        releasedMinor: out(m.releasedMinor),
        claimedMinor: out(m.claimedMinor),
        claimApprovedMinor: out(m.claimApprovedMinor),
        paidMinor: out(m.paidMinor),
      };
    }
    const wonMinor: Record<string, number> = {};
    for (const k of [...this.wonMinor.keys()].sort()) wonMinor[k] = out(this.wonMinor.get(k)!);
    const content: StatementContent = {
      format: STATEMENT_CONTENT_FORMAT,
      partnerId: this.partnerId,
      period: this.period,
      from: b.from,
      to: b.to,
      reportingCurrency: currency,
      tier: { atStart, atEnd: current, changes },
      revenue: { sourced: line(r?.sourced), influenced: line(r?.influenced), attributions: r?.attributions.size ?? 0 },
      deals: { ...this.deals, wonMinor },
      mdf,
      commissions: {
        openingMinor: out(c.opening),
        accruedMinor: out(c.accrued),
        clawedBackMinor: out(c.clawedBack),
        paidMinor: out(c.paid),
        closingMinor: out(c.opening + c.accrued - c.clawedBack - c.paid),
      },
    };
    return { content, programVersion: this.programVersion, commissionPlanVersion: this.commissionPlanVersion, partnerKnown: this.enrolled };
  }
}

/** `StatementFold` over a list of events. */
export function statementContent(events: Iterable<StatementSourceEvent>, partnerId: string, period: string): ComputedStatement {
  const fold = new StatementFold(partnerId, period);
  for (const e of events) fold.add(e);
  return fold.result();
}

export interface StatementChange {
  readonly path: string;
  readonly issued: unknown;
  readonly now: unknown;
}

/** Leaf values of a JSON value by dotted path (array items by index); an empty object or array is a leaf. */
function leaves(value: unknown, prefix: string, into: Map<string, unknown>): Map<string, unknown> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) into.set(prefix, value);
    for (const [k, v] of entries) leaves(v, prefix === '' ? k : `${prefix}.${k}`, into);
  } else into.set(prefix, value);
  return into;
}

/**
 * The leaf paths whose values differ between two contents (a restatement's changes), in path order; a leaf
 * present on one side only has `null` on the other.
 */
export function changedLeaves(issued: unknown, now: unknown): StatementChange[] {
  const a = leaves(issued, '', new Map());
  const b = leaves(now, '', new Map());
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: StatementChange[] = [];
  for (const path of paths) {
    const x = a.has(path) ? a.get(path) : null;
    const y = b.has(path) ? b.get(path) : null;
    if (JSON.stringify(x) !== JSON.stringify(y)) changes.push({ path, issued: x, now: y });
  }
  return changes;
}
