import type Database from 'better-sqlite3';
import type { AttributionAllocation, RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import type { DealWon } from '#events/deals.js';
import type { RecordedEvent } from '#events/envelope.js';
import type { PartnerEnrolled, PartnerTerminated, PartnerTierChanged, SellerCertified, TierDowngradeCancelled, TierDowngradeScheduled } from '#events/partners.js';
import type { TierProgramDefined } from '#events/program.js';
import type { Projection } from '../runner/projection.js';

/**
 * The facts a tier standing is measured from, kept row by row with their business times so that a
 * standing can be computed for any `asOf` (the look-back window moves, certifications expire): sourced
 * revenue and its reversals in the reporting currency, won deals, certifications, each partner's tier and
 * scheduled downgrade, and the program in force (so the same code answers an as-of replay).
 */
const HANDLED = [
  'TierProgramDefined',
  'PartnerEnrolled',
  'PartnerTerminated',
  'SellerCertified',
  'PartnerTierChanged',
  'TierDowngradeScheduled',
  'TierDowngradeCancelled',
  'DealWon',
  'RevenueAttributed',
  'RevenueAttributionReversed',
] as const;

type Handled =
  | TierProgramDefined
  | PartnerEnrolled
  | PartnerTerminated
  | SellerCertified
  | PartnerTierChanged
  | TierDowngradeScheduled
  | TierDowngradeCancelled
  | DealWon
  | RevenueAttributed
  | RevenueAttributionReversed;

const ms = (iso: string): number => Date.parse(iso);

const statements = new WeakMap<Database.Database, Record<string, Database.Statement>>();

function prepared(db: Database.Database): Record<string, Database.Statement> {
  let s = statements.get(db);
  if (!s) {
    s = {
      program: db.prepare(`INSERT INTO tier_program (id, version, program) VALUES (1, ?, ?)
        ON CONFLICT(id) DO UPDATE SET version = excluded.version, program = excluded.program`),
      enroll: db.prepare(`INSERT INTO tier_partners (partner_id, tier, terminated) VALUES (?, ?, 0) ON CONFLICT(partner_id) DO NOTHING`),
      terminate: db.prepare('UPDATE tier_partners SET terminated = 1 WHERE partner_id = ?'),
      tier: db.prepare('UPDATE tier_partners SET tier = ?, downgrade_to = NULL, downgrade_effective_at = NULL WHERE partner_id = ?'),
      schedule: db.prepare('UPDATE tier_partners SET downgrade_to = ?, downgrade_effective_at = ? WHERE partner_id = ?'),
      cancel: db.prepare('UPDATE tier_partners SET downgrade_to = NULL, downgrade_effective_at = NULL WHERE partner_id = ?'),
      cert: db.prepare(`INSERT INTO tier_certifications (partner_id, seller_id, earned_ms, expires_ms) VALUES (?, ?, ?, ?)`),
      won: db.prepare(`INSERT INTO tier_won_deals (partner_id, deal_id, closed_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
      revenue: db.prepare(`INSERT INTO tier_revenue (partner_id, at_ms, amount_minor, position) VALUES (?, ?, ?, ?)`),
    };
    statements.set(db, s);
  }
  return s;
}

/** Sourced credits only: influenced revenue never counts for tiers. Reporting-currency amounts. */
function sourced(allocations: readonly AttributionAllocation[]): { partnerId: string; amount: number }[] {
  return allocations.filter((a) => a.type === 'sourced').map((a) => ({ partnerId: a.partnerId, amount: a.reportingAmountMinor ?? a.amountMinor }));
}

export const tierStandingsProjection: Projection = {
  name: 'tier-standings',
  version: 1,
  canHandle: HANDLED,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS tier_program (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, program TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS tier_partners (
        partner_id TEXT PRIMARY KEY, tier TEXT NOT NULL, terminated INTEGER NOT NULL,
        downgrade_to TEXT, downgrade_effective_at TEXT);
      CREATE INDEX IF NOT EXISTS tier_partners_by_tier ON tier_partners (tier, partner_id);
      CREATE TABLE IF NOT EXISTS tier_certifications (partner_id TEXT NOT NULL, seller_id TEXT NOT NULL, earned_ms INTEGER NOT NULL, expires_ms INTEGER);
      CREATE INDEX IF NOT EXISTS tier_certifications_by_partner ON tier_certifications (partner_id);
      CREATE TABLE IF NOT EXISTS tier_won_deals (partner_id TEXT NOT NULL, deal_id TEXT NOT NULL, closed_ms INTEGER NOT NULL, PRIMARY KEY (partner_id, deal_id));
      CREATE INDEX IF NOT EXISTS tier_won_deals_by_time ON tier_won_deals (partner_id, closed_ms);
      CREATE TABLE IF NOT EXISTS tier_revenue (partner_id TEXT NOT NULL, at_ms INTEGER NOT NULL, amount_minor INTEGER NOT NULL, position INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS tier_revenue_by_time ON tier_revenue (partner_id, at_ms);
    `);
  },
  reset(db) {
    statements.delete(db);
    db.exec(`DROP TABLE IF EXISTS tier_program; DROP TABLE IF EXISTS tier_partners; DROP TABLE IF EXISTS tier_certifications;
             DROP TABLE IF EXISTS tier_won_deals; DROP TABLE IF EXISTS tier_revenue;`);
  },
  evolve(db, event: RecordedEvent) {
    const s = prepared(db);
    const e = event as unknown as Handled;
    switch (e.type) {
      case 'TierProgramDefined': {
        const { definedAt: _at, ...program } = e.data;
        s.program!.run(e.data.version, JSON.stringify(program));
        return;
      }
      case 'PartnerEnrolled':
        s.enroll!.run(e.data.partnerId, e.data.tier);
        return;
      case 'PartnerTerminated':
        s.terminate!.run(e.data.partnerId);
        return;
      case 'PartnerTierChanged':
        s.tier!.run(e.data.to, e.data.partnerId);
        return;
      case 'TierDowngradeScheduled':
        s.schedule!.run(e.data.to, e.data.effectiveAt, e.data.partnerId);
        return;
      case 'TierDowngradeCancelled':
        s.cancel!.run(e.data.partnerId);
        return;
      case 'SellerCertified':
        s.cert!.run(e.data.partnerId, e.data.sellerId, ms(e.data.earnedAt), e.data.expiresAt === undefined ? null : ms(e.data.expiresAt));
        return;
      case 'DealWon':
        s.won!.run(e.data.partnerId, e.data.dealId, ms(e.data.closedAt));
        return;
      case 'RevenueAttributed':
        for (const a of sourced(e.data.allocations)) s.revenue!.run(a.partnerId, ms(e.data.recognizedAt), a.amount, event.position);
        return;
      case 'RevenueAttributionReversed':
        for (const a of sourced(e.data.allocations)) s.revenue!.run(a.partnerId, ms(e.data.reversedAt), -a.amount, event.position);
        return;
    }
  },
};
