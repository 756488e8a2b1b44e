import type Database from 'better-sqlite3';
import type { ConflictResolution, DealEvent } from '#events/deals.js';
import { isRecorded, type RecordedEvent } from '#events/envelope.js';
import type { Projection } from '../runner/projection.js';

/**
 * `GET /v1/registration-conflicts`: conflicts as the customer account's decider recorded them. Membership
 * comes from `DealRegistered.conflicts`, resolution from `resolvedConflicts` of the event that left no two
 * active members overlapping; nothing is recomputed here, so this read model needs only its own events
 * (and rebuilds alone for as-of replay).
 */
const HANDLED = [
  'DealRegistered',
  'DealRegistrationApproved',
  'DealRegistrationRejected',
  'DealRegistrationExpired',
  'DealWon',
  'DealLost',
] as const satisfies readonly DealEvent['type'][];

type Handled = Extract<DealEvent, { type: (typeof HANDLED)[number] }>;

interface Statements {
  readonly open: Database.Statement;
  readonly member: Database.Statement;
  readonly resolve: Database.Statement;
}

const statements = new WeakMap<Database.Database, Statements>();

function prepared(db: Database.Database): Statements {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      // Opens the conflict, or takes the products of a later registration that joined it: one statement (an
      // insert then an update was two per conflict in the rebuild profile).
      open: db.prepare(`INSERT INTO registration_conflicts (conflict_id, customer_key, products, status, opened_at, opened_position)
        VALUES (?, ?, ?, 'open', ?, ?) ON CONFLICT(conflict_id) DO UPDATE SET products = excluded.products`),
      member: db.prepare(`INSERT INTO registration_conflict_members (conflict_id, deal_id, seq)
        VALUES (?, ?, (SELECT COUNT(*) FROM registration_conflict_members WHERE conflict_id = ?))
        ON CONFLICT(conflict_id, deal_id) DO NOTHING`),
      resolve: db.prepare(`UPDATE registration_conflicts SET status = 'resolved', winner_deal_id = ?, resolved_at = ?
        WHERE conflict_id = ? AND status = 'open'`),
    };
    statements.set(db, s);
  }
  return s;
}

function apply(db: Database.Database, e: Handled, position: bigint): void {
  const s = prepared(db);
  const resolve = (resolved: readonly ConflictResolution[] | undefined, at: string) => {
    if (resolved !== undefined) for (const r of resolved) s.resolve.run(r.winnerDealId ?? null, at, r.conflictId);
  };
  switch (e.type) {
    case 'DealRegistered':
      for (const c of e.data.conflicts ?? []) {
        s.open.run(c.conflictId, e.data.customerKey, JSON.stringify(c.products), e.data.registeredAt, position);
        for (const dealId of c.addedDealIds) s.member.run(c.conflictId, dealId, c.conflictId);
      }
      return;
    case 'DealRegistrationApproved':
      resolve(e.data.resolvedConflicts, e.data.approvedAt);
      return;
    case 'DealRegistrationRejected':
      resolve(e.data.resolvedConflicts, e.data.rejectedAt);
      return;
    case 'DealRegistrationExpired':
      resolve(e.data.resolvedConflicts, e.data.expiredAt);
      return;
    case 'DealWon':
      resolve(e.data.resolvedConflicts, e.data.wonAt);
      return;
    case 'DealLost':
      resolve(e.data.resolvedConflicts, e.data.lostAt);
      return;
    default: {
      const _exhaustive: never = e;
      return;
    }
  }
}

export const registrationConflictsProjection: Projection = {
  name: 'registration-conflicts',
  version: 1,
  canHandle: HANDLED,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS registration_conflicts (
        conflict_id TEXT PRIMARY KEY,
        customer_key TEXT NOT NULL,
        products TEXT NOT NULL,
        status TEXT NOT NULL,
        winner_deal_id TEXT,
        opened_at TEXT NOT NULL,
        resolved_at TEXT,
        opened_position INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS registration_conflicts_status ON registration_conflicts (status, opened_position);
      CREATE INDEX IF NOT EXISTS registration_conflicts_customer ON registration_conflicts (customer_key, opened_position);
      CREATE TABLE IF NOT EXISTS registration_conflict_members (
        conflict_id TEXT NOT NULL,
        deal_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (conflict_id, deal_id)
      );
      -- Covers the member list of a conflict in join order (the queries' subquery), with no table lookup or sort.
      -- Added without a version bump: IF NOT EXISTS builds it on an existing read model at the next start.
      CREATE INDEX IF NOT EXISTS registration_conflict_members_by_seq ON registration_conflict_members (conflict_id, seq, deal_id);`);
  },
  reset(db) {
    statements.delete(db);
    db.exec('DROP TABLE IF EXISTS registration_conflict_members; DROP TABLE IF EXISTS registration_conflicts;');
  },
  evolve(db, event: RecordedEvent) {
    if (isRecorded<Handled>(event, HANDLED)) apply(db, event, event.position);
  },
};
