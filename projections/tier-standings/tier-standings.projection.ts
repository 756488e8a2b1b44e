import type Database from 'better-sqlite3';
import type { AttributionAllocation, RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import type { DealWon } from '#events/deals.js';
import { isRecorded, type RecordedEvent } from '#events/envelope.js';
import type {
  PartnerActivated,
  PartnerEnrolled,
  PartnerReinstated,
  PartnerSuspended,
  PartnerTerminated,
  PartnerTierChanged,
  PartnerTierOverridden,
  PartnerTierOverrideEnded,
  SellerCertificationRevoked,
  SellerCertified,
  TierDowngradeCancelled,
  TierDowngradeScheduled,
} from '#events/partners.js';
import type { TierProgramDefined } from '#events/program.js';
import type { Projection } from '../runner/projection.js';

/**
 * The facts a tier standing is measured from, kept row by row with two times each (DOMAIN.md, "Tier program v2"):
 * its business time (when revenue was recognized, a deal closed, a certification was earned, an evaluation was as
 * of) and `known_ms`, the record time from which the log showed it. A standing at `asOf` reads what was known at
 * `asOf` and measures it at `asOf`, so it answers what a replay of the log recorded up to `asOf` answers; the same
 * code then serves that replay. Every program version is kept with its `effectiveFrom`.
 *
 * `known_ms` is the running maximum of the record times seen (a replay stops at the first event stamped later than
 * its instant, so an event is visible from the latest stamp up to it, not from its own).
 */
const HANDLED = [
  'TierProgramDefined',
  'PartnerEnrolled',
  'PartnerActivated',
  'PartnerSuspended',
  'PartnerReinstated',
  'PartnerTerminated',
  'SellerCertified',
  'PartnerTierChanged',
  'TierDowngradeScheduled',
  'TierDowngradeCancelled',
  'DealWon',
  'RevenueAttributed',
  'RevenueAttributionReversed',
  'SellerCertificationRevoked',
  'PartnerTierOverridden',
  'PartnerTierOverrideEnded',
] as const;

type Handled =
  | TierProgramDefined
  | PartnerEnrolled
  | PartnerActivated
  | PartnerSuspended
  | PartnerReinstated
  | PartnerTerminated
  | SellerCertified
  | PartnerTierChanged
  | TierDowngradeScheduled
  | TierDowngradeCancelled
  | DealWon
  | RevenueAttributed
  | RevenueAttributionReversed
  | SellerCertificationRevoked
  | PartnerTierOverridden
  | PartnerTierOverrideEnded;

const ms = (iso: string): number => Date.parse(iso);

const statements = new WeakMap<Database.Database, Record<string, Database.Statement>>();

function prepared(db: Database.Database): Record<string, Database.Statement> {
  let s = statements.get(db);
  if (!s) {
    s = {
      known: db.prepare('SELECT known_ms FROM tier_watermark WHERE id = 1'),
      setKnown: db.prepare('INSERT INTO tier_watermark (id, known_ms) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET known_ms = excluded.known_ms'),
      program: db.prepare('INSERT OR REPLACE INTO tier_programs (version, effective_ms, known_ms, program) VALUES (?, ?, ?, ?)'),
      enroll: db.prepare('INSERT INTO tier_partners (partner_id, type, tier, terminated, known_ms) VALUES (?, ?, ?, 0, ?) ON CONFLICT(partner_id) DO NOTHING'),
      terminate: db.prepare('UPDATE tier_partners SET terminated = 1 WHERE partner_id = ?'),
      tier: db.prepare('UPDATE tier_partners SET tier = ? WHERE partner_id = ?'),
      history: db.prepare('INSERT INTO tier_history (partner_id, position, known_ms, business_ms, kind, data) VALUES (?, ?, ?, ?, ?, ?)'),
      cert: db.prepare('INSERT INTO tier_certifications (partner_id, seller_id, certification, earned_ms, expires_ms, known_ms, position) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      won: db.prepare('INSERT INTO tier_won_deals (partner_id, deal_id, closed_ms, known_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      revoke: db.prepare('INSERT INTO tier_revocations (partner_id, seller_id, certification, revoked_ms, known_ms, position) VALUES (?, ?, ?, ?, ?, ?)'),
      revenue: db.prepare(
        'INSERT INTO tier_revenue (partner_id, at_ms, amount_minor, position, known_ms, attribution_id, currency, unregistered) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      unregistered: db.prepare('SELECT unregistered FROM tier_revenue WHERE attribution_id = ? LIMIT 1'),
    };
    statements.set(db, s);
  }
  return s;
}

/** Sourced credits only: influenced revenue never counts for tiers. Reporting-currency amounts. */
function sourced(allocations: readonly AttributionAllocation[]): { partnerId: string; amount: number }[] {
  return allocations.filter((a) => a.type === 'sourced').map((a) => ({ partnerId: a.partnerId, amount: a.reportingAmountMinor ?? a.amountMinor }));
}

/** The record time from which the log shows `event`: the latest stamp up to it. */
function knownAt(s: Record<string, Database.Statement>, event: RecordedEvent): number {
  const before = (s.known!.get() as { known_ms: number } | undefined)?.known_ms ?? 0;
  const stamp = ms(event.metadata.recordedAt);
  if (stamp > before) {
    s.setKnown!.run(stamp);
    return stamp;
  }
  return before;
}

export const tierStandingsProjection: Projection = {
  name: 'tier-standings',
  // 2: bitemporal rows (known_ms), every program version, partner history (tier program v2). The runner rebuilds
  // a version-1 read model from the log on start. 3: tier-revenue rows carry their reporting currency, their
  // attribution and whether it was unregistered (countUnregisteredRevenue); an older read model is rebuilt the same way.
  version: 3,
  canHandle: HANDLED,
  // A reversal reads whether its attribution was unregistered by attribution id.
  evolveIndexes: ['tier_revenue_by_attribution'],
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS tier_watermark (id INTEGER PRIMARY KEY CHECK (id = 1), known_ms INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS tier_programs (version INTEGER PRIMARY KEY, effective_ms INTEGER NOT NULL, known_ms INTEGER NOT NULL, program TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS tier_partners (
        partner_id TEXT PRIMARY KEY, type TEXT NOT NULL, tier TEXT NOT NULL, terminated INTEGER NOT NULL, known_ms INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS tier_history (
        partner_id TEXT NOT NULL, position INTEGER NOT NULL, known_ms INTEGER NOT NULL, business_ms INTEGER, kind TEXT NOT NULL, data TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS tier_history_by_partner ON tier_history (partner_id, position);
      CREATE TABLE IF NOT EXISTS tier_certifications (
        partner_id TEXT NOT NULL, seller_id TEXT NOT NULL, certification TEXT NOT NULL, earned_ms INTEGER NOT NULL, expires_ms INTEGER,
        known_ms INTEGER NOT NULL, position INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS tier_certifications_by_partner ON tier_certifications (partner_id);
      CREATE TABLE IF NOT EXISTS tier_revocations (
        partner_id TEXT NOT NULL, seller_id TEXT NOT NULL, certification TEXT NOT NULL, revoked_ms INTEGER NOT NULL, known_ms INTEGER NOT NULL, position INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS tier_revocations_by_seller ON tier_revocations (partner_id, seller_id, certification);
      CREATE TABLE IF NOT EXISTS tier_won_deals (partner_id TEXT NOT NULL, deal_id TEXT NOT NULL, closed_ms INTEGER NOT NULL, known_ms INTEGER NOT NULL, PRIMARY KEY (partner_id, deal_id));
      CREATE INDEX IF NOT EXISTS tier_won_deals_by_time ON tier_won_deals (partner_id, closed_ms);
      CREATE TABLE IF NOT EXISTS tier_revenue (
        partner_id TEXT NOT NULL, at_ms INTEGER NOT NULL, amount_minor INTEGER NOT NULL, position INTEGER NOT NULL, known_ms INTEGER NOT NULL,
        attribution_id TEXT NOT NULL, currency TEXT NOT NULL, unregistered INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS tier_revenue_by_time ON tier_revenue (partner_id, at_ms);
      CREATE INDEX IF NOT EXISTS tier_revenue_by_attribution ON tier_revenue (attribution_id);
    `);
  },
  reset(db) {
    statements.delete(db);
    db.exec(`DROP TABLE IF EXISTS tier_program; DROP TABLE IF EXISTS tier_watermark; DROP TABLE IF EXISTS tier_programs; DROP TABLE IF EXISTS tier_partners;
             DROP TABLE IF EXISTS tier_history; DROP TABLE IF EXISTS tier_certifications; DROP TABLE IF EXISTS tier_revocations; DROP TABLE IF EXISTS tier_won_deals; DROP TABLE IF EXISTS tier_revenue;`);
  },
  evolve(db, event: RecordedEvent) {
    const s = prepared(db);
    const known = knownAt(s, event);
    if (!isRecorded<Handled>(event, HANDLED)) return;
    const e = event;
    const history = (partnerId: string, business: string | null, data: object) => s.history!.run(partnerId, event.position, known, business === null ? null : ms(business), e.type, JSON.stringify(data));
    switch (e.type) {
      case 'TierProgramDefined': {
        const { definedAt, ...program } = e.data;
        s.program!.run(e.data.version, ms(e.data.effectiveFrom ?? definedAt), known, JSON.stringify({ ...program, effectiveFrom: e.data.effectiveFrom ?? definedAt }));
        return;
      }
      case 'PartnerEnrolled':
        s.enroll!.run(e.data.partnerId, e.data.type, e.data.tier, known);
        history(e.data.partnerId, null, { tier: e.data.tier });
        return;
      case 'PartnerActivated':
      case 'PartnerReinstated':
        history(e.data.partnerId, null, { status: 'active' });
        return;
      case 'PartnerSuspended':
        history(e.data.partnerId, null, { status: 'suspended' });
        return;
      case 'PartnerTerminated':
        s.terminate!.run(e.data.partnerId);
        history(e.data.partnerId, null, { status: 'terminated' });
        return;
      case 'PartnerTierChanged':
        s.tier!.run(e.data.to, e.data.partnerId);
        history(e.data.partnerId, e.data.asOf, { tier: e.data.to });
        return;
      case 'TierDowngradeScheduled':
        history(e.data.partnerId, e.data.asOf, { to: e.data.to, effectiveAt: e.data.effectiveAt });
        return;
      case 'TierDowngradeCancelled':
        history(e.data.partnerId, e.data.asOf, {});
        return;
      case 'SellerCertified':
        s.cert!.run(e.data.partnerId, e.data.sellerId, e.data.certification, ms(e.data.earnedAt), e.data.expiresAt === undefined ? null : ms(e.data.expiresAt), known, event.position);
        return;
      case 'DealWon':
        s.won!.run(e.data.partnerId, e.data.dealId, ms(e.data.closedAt), known);
        return;
      case 'RevenueAttributed': {
        // Events recorded before v2 carry no flag: unregistered when no deal is named (as the attribution decider reads them).
        const unregistered = (e.data.unregistered ?? e.data.dealId === undefined) ? 1 : 0;
        for (const a of sourced(e.data.allocations))
          s.revenue!.run(a.partnerId, ms(e.data.recognizedAt), a.amount, event.position, known, e.data.attributionId, e.data.reportingCurrency, unregistered);
        return;
      }
      case 'RevenueAttributionReversed': {
        // A reversal counts (or not) as its attribution does.
        const row = s.unregistered!.get(e.data.attributionId) as { unregistered: number } | undefined;
        const unregistered = row?.unregistered ?? 1;
        for (const a of sourced(e.data.allocations))
          s.revenue!.run(a.partnerId, ms(e.data.reversedAt), -a.amount, event.position, known, e.data.attributionId, e.data.reportingCurrency, unregistered);
        return;
      }
      case 'SellerCertificationRevoked':
        s.revoke!.run(e.data.partnerId, e.data.sellerId, e.data.certification, ms(e.data.revokedAt), known, event.position);
        return;
      case 'PartnerTierOverridden':
        history(e.data.partnerId, e.data.overriddenAt, { tier: e.data.tier, reason: e.data.reason, until: e.data.until, overriddenAt: e.data.overriddenAt });
        return;
      case 'PartnerTierOverrideEnded':
        history(e.data.partnerId, e.data.endedAt, {});
        return;
    }
  },
};
