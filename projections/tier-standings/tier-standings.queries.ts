import type Database from 'better-sqlite3';
import type { PartnerType } from '#events/partners.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { countsUnregisteredRevenue, DEFAULT_PROGRAM, type TierProgram } from '#libs/program/program.js';
import { qualifyingTier, shortfallToNext, windowEnding, type Shortfall, type TierInputs } from '#libs/tiers/qualification.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { statement } from '../statements.js';

export interface TierOverrideView {
  readonly tier: string;
  readonly reason: string;
  readonly until: string;
  readonly since: string;
}

export interface TierStanding {
  readonly partnerId: string;
  readonly partnerType: string;
  readonly currentTier: string;
  readonly qualifyingTier: string;
  readonly nextTier: string | null;
  /** A JSON integer; its exact decimal string beyond ±(2^53 − 1) (only in a store written before amount-out-of-range). */
  readonly trailingSourcedRevenueMinor: number | string;
  readonly certifiedSellers: number;
  readonly wonDeals: number;
  readonly shortfall: Shortfall;
  readonly downgradeScheduledFor?: string;
  readonly downgradeTo?: string;
  readonly override?: TierOverrideView;
  readonly asOf: string;
  /** The program version effective at `asOf` among those known then. */
  readonly programVersion: number;
}

/** "Known at": every fact the read model holds (an evaluation now, a replay's own database). */
export const EVERYTHING_KNOWN = Number.MAX_SAFE_INTEGER;

/**
 * The program version in force at business time `asOf` as known at `knownMs` (DOMAIN.md, "Tier program v2"): of
 * the versions recorded by then, the latest defined whose `effectiveFrom` is at or before `asOf`; else the default.
 */
export function programAt(db: Database.Database, asOf: Date, knownMs: number = EVERYTHING_KNOWN): TierProgram {
  const row = statement(db, 'SELECT version, program FROM tier_programs WHERE known_ms <= ? AND effective_ms <= ? ORDER BY version DESC LIMIT 1').get(knownMs, asOf.getTime()) as
    | { version: number; program: string }
    | undefined;
  return row ? { ...(JSON.parse(row.program) as Omit<TierProgram, 'version'>), version: row.version } : DEFAULT_PROGRAM;
}

/** The evaluation inputs of one partner as of `asOf`, over the program's look-back window, from what was known at `knownMs`. */
export function tierInputs(db: Database.Database, partnerId: string, asOf: Date, program: TierProgram, knownMs: number = EVERYTHING_KNOWN): TierInputs {
  const w = windowEnding(asOf, program);
  const from = w.from.getTime();
  const to = w.to.getTime();
  // Only amounts in the version's reporting currency are summed (a version never changes it once revenue is
  // attributed: reporting-currency-fixed); unregistered attributions only when the version counts them.
  const revenue = statement(
    db,
    `SELECT COALESCE(SUM(amount_minor), 0) AS s FROM tier_revenue
      WHERE partner_id = ? AND at_ms >= ? AND at_ms <= ? AND known_ms <= ? AND currency = ? AND (unregistered = 0 OR ? = 1)`,
    { safeIntegers: true },
  ).get(partnerId, from, to, knownMs, program.reportingCurrency, countsUnregisteredRevenue(program) ? 1 : 0) as { s: bigint };
  const won = statement(db, 'SELECT COUNT(*) AS c FROM tier_won_deals WHERE partner_id = ? AND closed_ms >= ? AND closed_ms <= ? AND known_ms <= ?').get(partnerId, from, to, knownMs) as { c: number };
  const held = statement(
    db,
    `SELECT c.seller_id, c.certification FROM tier_certifications c
      WHERE c.partner_id = ? AND c.earned_ms <= ? AND (c.expires_ms IS NULL OR c.expires_ms > ?) AND c.known_ms <= ?
        AND NOT EXISTS (SELECT 1 FROM tier_revocations r WHERE r.partner_id = c.partner_id AND r.seller_id = c.seller_id AND r.certification = c.certification
                          AND r.position > c.position AND r.revoked_ms <= ? AND r.known_ms <= ?)`,
  ).all(partnerId, to, to, knownMs, to, knownMs) as { seller_id: string; certification: string }[];
  const sellers = new Set<string>();
  const byName = new Map<string, Set<string>>();
  for (const h of held) {
    sellers.add(h.seller_id);
    let set = byName.get(h.certification);
    if (!set) byName.set(h.certification, (set = new Set()));
    set.add(h.seller_id);
  }
  // Only a store written before amount-out-of-range can hold a sum beyond 2^53 − 1 (two attributions of 2^53 − 1):
  // it meets every requirement (none is larger), and the standing answers it exactly, as a decimal string.
  const exact = revenue.s > BigInt(Number.MAX_SAFE_INTEGER) || revenue.s < BigInt(Number.MIN_SAFE_INTEGER);
  return {
    netSourcedRevenueMinor: exact ? (revenue.s > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER) : Number(revenue.s),
    ...(exact ? { netSourcedRevenueExact: revenue.s.toString() } : {}),
    certifiedSellers: sellers.size,
    wonDeals: won.c,
    certifications: Object.fromEntries([...byName].map(([k, v]) => [k, v.size])),
  };
}

interface PartnerAt {
  readonly partnerId: string;
  readonly type: PartnerType;
  readonly tier: string;
  readonly status: string;
  readonly downgrade?: { to: string; effectiveAt: string };
  readonly override?: TierOverrideView;
}

/**
 * A partner's tier as it stood: its history folded in log order, keeping what was known at `knownMs` and, for tier
 * decisions, what was decided as of `asOf` or before. Undefined when the partner was not known yet.
 */
function partnerAt(db: Database.Database, partnerId: string, asOf: Date, knownMs: number): PartnerAt | undefined {
  const head = statement(db, 'SELECT type FROM tier_partners WHERE partner_id = ? AND known_ms <= ?').get(partnerId, knownMs) as { type: PartnerType } | undefined;
  if (!head) return undefined;
  const rows = statement(db, 'SELECT kind, data FROM tier_history WHERE partner_id = ? AND known_ms <= ? AND (business_ms IS NULL OR business_ms <= ?) ORDER BY position').all(partnerId, knownMs, asOf.getTime()) as {
    kind: string;
    data: string;
  }[];
  let p: PartnerAt = { partnerId, type: head.type, tier: '', status: 'pending' };
  for (const r of rows) {
    const d = JSON.parse(r.data) as Record<string, string>;
    switch (r.kind) {
      case 'PartnerEnrolled':
        p = { ...p, tier: d.tier! };
        break;
      case 'PartnerActivated':
      case 'PartnerReinstated':
      case 'PartnerSuspended':
      case 'PartnerTerminated':
        p = { ...p, status: d.status! };
        break;
      case 'PartnerTierChanged': {
        const { downgrade: _d, ...rest } = p;
        p = { ...rest, tier: d.tier! };
        break;
      }
      case 'TierDowngradeScheduled':
        p = { ...p, downgrade: { to: d.to!, effectiveAt: d.effectiveAt! } };
        break;
      case 'TierDowngradeCancelled': {
        const { downgrade: _d, ...rest } = p;
        p = rest;
        break;
      }
      case 'PartnerTierOverridden':
        p = { ...p, override: { tier: d.tier!, reason: d.reason!, until: d.until!, since: d.overriddenAt! } };
        break;
      case 'PartnerTierOverrideEnded': {
        const { override: _o, ...rest } = p;
        p = rest;
        break;
      }
    }
  }
  // An override holds until its end date: at or after it, the partner is back on its own tier.
  if (p.override !== undefined && Date.parse(p.override.until) <= asOf.getTime()) {
    const { override: _o, ...rest } = p;
    p = rest;
  }
  return p;
}

function standingOf(db: Database.Database, p: PartnerAt, asOf: Date, knownMs: number, program: TierProgram): TierStanding {
  const inputs = tierInputs(db, p.partnerId, asOf, program, knownMs);
  const current = p.override?.tier ?? p.tier;
  const next = shortfallToNext(program, current, inputs, p.type);
  return {
    partnerId: p.partnerId,
    partnerType: p.type,
    currentTier: current,
    qualifyingTier: qualifyingTier(program, inputs, p.type).name,
    nextTier: next.next?.name ?? null,
    trailingSourcedRevenueMinor: inputs.netSourcedRevenueExact ?? inputs.netSourcedRevenueMinor,
    certifiedSellers: inputs.certifiedSellers,
    wonDeals: inputs.wonDeals,
    shortfall: next.shortfall,
    ...(p.downgrade ? { downgradeScheduledFor: p.downgrade.effectiveAt, downgradeTo: p.downgrade.to } : {}),
    ...(p.override ? { override: p.override } : {}),
    asOf: asOf.toISOString(),
    programVersion: program.version,
  };
}

/**
 * One partner's standing at business time `asOf`, as the ledger knew it at `knownAt` (default: `asOf`, so that
 * the answer is what the tier-standings replay at that instant answers).
 */
export function getTierStanding(db: Database.Database, partnerId: string, asOf: Date, knownAt: Date = asOf): TierStanding | undefined {
  const knownMs = knownAt.getTime();
  const p = partnerAt(db, partnerId, asOf, knownMs);
  return p ? standingOf(db, p, asOf, knownMs, programAt(db, asOf, knownMs)) : undefined;
}

export interface TierStandingFilter {
  readonly tier?: string;
  readonly partnerId?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

/** Standings of the partners not terminated at `asOf` (as known at `knownAt`), filtered by their tier then. */
export function listTierStandings(db: Database.Database, filter: TierStandingFilter, asOf: Date, knownAt: Date = asOf): { items: TierStanding[]; nextCursor: string | null } {
  const limit = filter.limit ?? 100;
  const knownMs = knownAt.getTime();
  let after = filter.cursor === undefined ? '' : decodeCursor(filter.cursor, [ID_PATTERN])[0]!;
  const program = programAt(db, asOf, knownMs);
  const items: TierStanding[] = [];
  let more = false;
  // The tier and the status are as of then, so the filter runs on folded partners, a batch of ids at a time.
  for (;;) {
    const ids = (
      filter.partnerId === undefined
        ? statement(db, 'SELECT partner_id FROM tier_partners WHERE known_ms <= ? AND partner_id > ? ORDER BY partner_id LIMIT 200').all(knownMs, after)
        : statement(db, 'SELECT partner_id FROM tier_partners WHERE known_ms <= ? AND partner_id > ? AND partner_id = ?').all(knownMs, after, filter.partnerId)
    ) as { partner_id: string }[];
    for (const { partner_id } of ids) {
      const p = partnerAt(db, partner_id, asOf, knownMs);
      if (!p || p.status === 'terminated') continue;
      if (filter.tier !== undefined && (p.override?.tier ?? p.tier) !== filter.tier) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(standingOf(db, p, asOf, knownMs, program));
    }
    if (more || ids.length < 200) break;
    after = ids[ids.length - 1]!.partner_id;
  }
  return { items, nextCursor: more ? encodeCursor([items[items.length - 1]!.partnerId]) : null };
}

/** Every partner an evaluation covers: all that are not terminated. */
export function evaluablePartners(db: Database.Database): string[] {
  return (statement(db, 'SELECT partner_id FROM tier_partners WHERE terminated = 0 ORDER BY partner_id').all() as { partner_id: string }[]).map((r) => r.partner_id);
}
