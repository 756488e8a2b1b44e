import type Database from 'better-sqlite3';
import { isRecorded, type RecordedEvent } from '#events/envelope.js';
import type { PartnerEvent } from '#events/partners.js';
import type { Projection } from '../runner/projection.js';

/**
 * What `GET /v1/partners/{id}` shows. Certifications are kept row by row (not as a count) because the
 * count depends on the `now` of the query: certifications expire without an event.
 */
const HANDLED = [
  'PartnerEnrolled',
  'PartnerActivated',
  'PartnerSuspended',
  'PartnerReinstated',
  'PartnerTerminated',
  'SellerCertified',
  'PartnerTierChanged',
  'SellerCertificationRevoked',
  'PartnerTierOverridden',
  'PartnerTierOverrideEnded',
] as const satisfies readonly PartnerEvent['type'][];

type Handled = Extract<PartnerEvent, { type: (typeof HANDLED)[number] }>;

interface Statements {
  readonly enroll: Database.Statement;
  readonly status: Database.Statement;
  readonly tier: Database.Statement;
  readonly certify: Database.Statement;
  readonly touch: Database.Statement;
  readonly revoke: Database.Statement;
}

// Prepared once per connection; dropped on reset so nothing outlives the tables it was compiled for.
const statements = new WeakMap<Database.Database, Statements>();

function prepared(db: Database.Database): Statements {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      // A replayed enrollment must not overwrite the lifecycle that followed it.
      enroll: db.prepare(`INSERT INTO partners (partner_id, name, type, domain, country, status, tier, enrolled_at, updated_position)
        VALUES (@partnerId, @name, @type, @domain, @country, 'pending', @tier, @enrolledAt, @position)
        ON CONFLICT(partner_id) DO NOTHING`),
      status: db.prepare('UPDATE partners SET status = ?, updated_position = ? WHERE partner_id = ?'),
      tier: db.prepare('UPDATE partners SET tier = ?, updated_position = ? WHERE partner_id = ?'),
      // The decider refuses a second expiry for one (seller, certification, earnedAt), so a conflict here
      // can only be a repeat.
      certify: db.prepare(`INSERT INTO partner_certifications (partner_id, seller_id, certification, earned_at, expires_at)
        VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      touch: db.prepare('UPDATE partners SET updated_position = ? WHERE partner_id = ?'),
      revoke: db.prepare('UPDATE partner_certifications SET revoked_at = ? WHERE partner_id = ? AND seller_id = ? AND certification = ? AND revoked_at IS NULL'),
    };
    statements.set(db, s);
  }
  return s;
}

/** Canonical `toISOString` form, so that the queries' string comparisons order instants correctly. */
function canonical(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : iso;
}

function apply(db: Database.Database, e: Handled, position: bigint): void {
  const s = prepared(db);
  switch (e.type) {
    case 'PartnerEnrolled': {
      const d = e.data;
      s.enroll.run({
        partnerId: d.partnerId,
        name: d.name,
        type: d.type,
        domain: d.domain,
        country: d.country ?? null,
        tier: d.tier,
        enrolledAt: d.enrolledAt,
        position,
      });
      return;
    }
    case 'PartnerActivated':
    case 'PartnerReinstated':
      s.status.run('active', position, e.data.partnerId);
      return;
    case 'PartnerSuspended':
      s.status.run('suspended', position, e.data.partnerId);
      return;
    case 'PartnerTerminated':
      s.status.run('terminated', position, e.data.partnerId);
      return;
    case 'PartnerTierChanged':
      s.tier.run(e.data.to, position, e.data.partnerId);
      return;
    // Tier program v2: the tier shown is the one the partner is at, an override's while it holds.
    case 'PartnerTierOverridden':
      s.tier.run(e.data.tier, position, e.data.partnerId);
      return;
    case 'PartnerTierOverrideEnded':
      s.tier.run(e.data.restoredTier, position, e.data.partnerId);
      return;
    case 'SellerCertificationRevoked':
      s.revoke.run(canonical(e.data.revokedAt), e.data.partnerId, e.data.sellerId, e.data.certification);
      s.touch.run(position, e.data.partnerId);
      return;
    case 'SellerCertified': {
      const d = e.data;
      s.certify.run(
        d.partnerId,
        d.sellerId,
        d.certification,
        canonical(d.earnedAt),
        d.expiresAt === undefined ? null : canonical(d.expiresAt),
      );
      s.touch.run(position, d.partnerId);
      return;
    }
    default: {
      const _exhaustive: never = e;
      return;
    }
  }
}

export const partnersProjection: Projection = {
  name: 'partners',
  // 2: certifications can be revoked (tier program v2); a version-1 read model is rebuilt from the log.
  version: 2,
  canHandle: HANDLED,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS partners (
        partner_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        domain TEXT NOT NULL,
        country TEXT,
        status TEXT NOT NULL,
        tier TEXT NOT NULL,
        enrolled_at TEXT NOT NULL,
        updated_position INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS partners_status ON partners (status, partner_id);
      CREATE TABLE IF NOT EXISTS partner_certifications (
        partner_id TEXT NOT NULL,
        seller_id TEXT NOT NULL,
        certification TEXT NOT NULL,
        earned_at TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT,
        PRIMARY KEY (partner_id, seller_id, certification, earned_at)
      );`);
  },
  reset(db) {
    statements.delete(db);
    db.exec('DROP TABLE IF EXISTS partner_certifications; DROP TABLE IF EXISTS partners;');
  },
  evolve(db, event: RecordedEvent) {
    if (isRecorded<Handled>(event, HANDLED)) apply(db, event, event.position);
  },
};
