import { ID_PATTERN } from '#libs/kernel/decider.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type Database from 'better-sqlite3';
import { DEFAULT_PROGRAM, type TierProgram } from '#libs/program/program.js';
import { qualifyingTier, shortfallToNext, windowEnding, type TierInputs } from '#libs/tiers/qualification.js';
import { statement } from '../statements.js';

export interface TierStanding {
  readonly partnerId: string;
  readonly currentTier: string;
  readonly qualifyingTier: string;
  readonly nextTier: string | null;
  readonly trailingSourcedRevenueMinor: number;
  readonly certifiedSellers: number;
  readonly wonDeals: number;
  readonly shortfall: { readonly revenueMinor: number; readonly certifiedSellers: number; readonly wonDeals: number };
  readonly downgradeScheduledFor?: string;
  readonly downgradeTo?: string;
  readonly asOf: string;
  readonly programVersion: number;
}

/** The program as the read model last saw it defined (the default until then). */
export function programOf(db: Database.Database): TierProgram {
  const row = statement(db, 'SELECT version, program FROM tier_program WHERE id = 1').get() as { version: number; program: string } | undefined;
  return row ? { ...(JSON.parse(row.program) as Omit<TierProgram, 'version'>), version: row.version } : DEFAULT_PROGRAM;
}

/** The evaluation inputs of one partner as of `asOf`, over the program's look-back window. */
export function tierInputs(db: Database.Database, partnerId: string, asOf: Date, program: TierProgram): TierInputs {
  const w = windowEnding(asOf, program);
  const from = w.from.getTime();
  const to = w.to.getTime();
  const revenue = statement(db, 'SELECT COALESCE(SUM(amount_minor), 0) AS s FROM tier_revenue WHERE partner_id = ? AND at_ms >= ? AND at_ms <= ?').get(partnerId, from, to) as { s: number };
  const won = statement(db, 'SELECT COUNT(*) AS c FROM tier_won_deals WHERE partner_id = ? AND closed_ms >= ? AND closed_ms <= ?').get(partnerId, from, to) as { c: number };
  const sellers = statement(db, 'SELECT COUNT(DISTINCT seller_id) AS c FROM tier_certifications WHERE partner_id = ? AND earned_ms <= ? AND (expires_ms IS NULL OR expires_ms > ?)').get(
    partnerId,
    to,
    to,
  ) as { c: number };
  return { netSourcedRevenueMinor: revenue.s, certifiedSellers: sellers.c, wonDeals: won.c };
}

interface PartnerRow {
  partner_id: string;
  tier: string;
  downgrade_to: string | null;
  downgrade_effective_at: string | null;
}

function standingOf(db: Database.Database, row: PartnerRow, asOf: Date, program: TierProgram): TierStanding {
  const inputs = tierInputs(db, row.partner_id, asOf, program);
  const next = shortfallToNext(program, row.tier, inputs);
  return {
    partnerId: row.partner_id,
    currentTier: row.tier,
    qualifyingTier: qualifyingTier(program, inputs).name,
    nextTier: next.next?.name ?? null,
    trailingSourcedRevenueMinor: inputs.netSourcedRevenueMinor,
    certifiedSellers: inputs.certifiedSellers,
    wonDeals: inputs.wonDeals,
    shortfall: next.shortfall,
    ...(row.downgrade_effective_at ? { downgradeScheduledFor: row.downgrade_effective_at, downgradeTo: row.downgrade_to ?? undefined } : {}),
    asOf: asOf.toISOString(),
    programVersion: program.version,
  };
}

export function getTierStanding(db: Database.Database, partnerId: string, asOf: Date): TierStanding | undefined {
  const row = statement(db, 'SELECT partner_id, tier, downgrade_to, downgrade_effective_at FROM tier_partners WHERE partner_id = ?').get(partnerId) as PartnerRow | undefined;
  return row ? standingOf(db, row, asOf, programOf(db)) : undefined;
}

export interface TierStandingFilter {
  readonly tier?: string;
  readonly partnerId?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export function listTierStandings(db: Database.Database, filter: TierStandingFilter, asOf: Date): { items: TierStanding[]; nextCursor: string | null } {
  const limit = filter.limit ?? 100;
  const after = filter.cursor === undefined ? '' : decodeCursor(filter.cursor, [ID_PATTERN])[0]!;
  const where = ['terminated = 0', 'partner_id > @after'];
  if (filter.tier !== undefined) where.push('tier = @tier');
  if (filter.partnerId !== undefined) where.push('partner_id = @partnerId');
  const rows = statement(db, `SELECT partner_id, tier, downgrade_to, downgrade_effective_at FROM tier_partners WHERE ${where.join(' AND ')} ORDER BY partner_id LIMIT @limit`).all({ after, tier: filter.tier ?? null, partnerId: filter.partnerId ?? null, limit: limit + 1 }) as PartnerRow[];
  const program = programOf(db);
  const page = rows.slice(0, limit);
  return {
    items: page.map((r) => standingOf(db, r, asOf, program)),
    nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1]!.partner_id]) : null,
  };
}

/** Every partner an evaluation covers: all that are not terminated. */
export function evaluablePartners(db: Database.Database): string[] {
  return (statement(db, 'SELECT partner_id FROM tier_partners WHERE terminated = 0 ORDER BY partner_id').all() as { partner_id: string }[]).map((r) => r.partner_id);
}
