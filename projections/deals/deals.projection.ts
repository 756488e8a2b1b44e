import type Database from 'better-sqlite3';
import type { DealEvent } from '../../events/deals.js';
import { DEAL_EVENT_TYPES } from '../../events/deals.js';
import type { RecordedEvent } from '../../events/envelope.js';
import type { Projection } from '../runner/projection.js';

/** What `GET /v1/deals/{id}` and `GET /v1/deals` show: one row per registration. */
interface Statements {
  readonly register: Database.Statement;
  readonly approve: Database.Statement;
  readonly reject: Database.Statement;
  readonly extend: Database.Statement;
  readonly expire: Database.Statement;
  readonly win: Database.Statement;
  readonly lose: Database.Statement;
}

const statements = new WeakMap<Database.Database, Statements>();

function prepared(db: Database.Database): Statements {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      // A redelivered registration must not overwrite what followed it.
      register: db.prepare(`INSERT INTO deals (deal_id, partner_id, customer_key, customer_name, customer_domain, customer_country, products,
          estimated_minor, estimated_currency, expected_close_date, status, registered_at, conflicts_with, updated_position)
        VALUES (@dealId, @partnerId, @customerKey, @name, @domain, @country, @products, @estimatedMinor, @estimatedCurrency, @expectedCloseDate,
          @status, @registeredAt, @conflictsWith, @position)
        ON CONFLICT(deal_id) DO NOTHING`),
      approve: db.prepare(`UPDATE deals SET status = 'approved', approved_at = @approvedAt, protected_until = @protectedUntil,
          program_version = @programVersion, updated_position = @position WHERE deal_id = @dealId`),
      reject: db.prepare(`UPDATE deals SET status = 'rejected', ended_at = @at, reason = @reason, winner_deal_id = @winner,
          updated_position = @position WHERE deal_id = @dealId`),
      extend: db.prepare(`UPDATE deals SET protected_until = @protectedUntil, extended_days = @days, updated_position = @position WHERE deal_id = @dealId`),
      expire: db.prepare(`UPDATE deals SET status = 'expired', ended_at = @at, updated_position = @position WHERE deal_id = @dealId`),
      win: db.prepare(`UPDATE deals SET status = 'won', ended_at = @at, closed_at = @closedAt, won_minor = @amountMinor, won_currency = @currency,
          updated_position = @position WHERE deal_id = @dealId`),
      lose: db.prepare(`UPDATE deals SET status = 'lost', ended_at = @at, reason = @reason, updated_position = @position WHERE deal_id = @dealId`),
    };
    statements.set(db, s);
  }
  return s;
}

function apply(db: Database.Database, e: DealEvent, position: bigint): void {
  const s = prepared(db);
  switch (e.type) {
    case 'DealRegistered': {
      const d = e.data;
      s.register.run({
        dealId: d.dealId,
        partnerId: d.partnerId,
        customerKey: d.customerKey,
        name: d.customer.name,
        domain: d.customer.domain,
        country: d.customer.country ?? null,
        products: JSON.stringify(d.products),
        estimatedMinor: d.estimatedValue.amountMinor,
        estimatedCurrency: d.estimatedValue.currency,
        expectedCloseDate: d.expectedCloseDate,
        status: d.status,
        registeredAt: d.registeredAt,
        conflictsWith: JSON.stringify(d.conflictsWith),
        position,
      });
      return;
    }
    case 'DealRegistrationApproved': {
      const d = e.data;
      s.approve.run({ dealId: d.dealId, approvedAt: d.approvedAt, protectedUntil: d.protectedUntil, programVersion: d.programVersion, position });
      return;
    }
    case 'DealRegistrationRejected': {
      const d = e.data;
      s.reject.run({ dealId: d.dealId, at: d.rejectedAt, reason: d.reason, winner: d.winnerDealId ?? null, position });
      return;
    }
    case 'DealRegistrationExtended': {
      const d = e.data;
      s.extend.run({ dealId: d.dealId, protectedUntil: d.protectedUntil, days: d.days, position });
      return;
    }
    case 'DealRegistrationExpired':
      s.expire.run({ dealId: e.data.dealId, at: e.data.expiredAt, position });
      return;
    case 'DealWon': {
      const d = e.data;
      s.win.run({ dealId: d.dealId, at: d.wonAt, closedAt: d.closedAt, amountMinor: d.amount.amountMinor, currency: d.amount.currency, position });
      return;
    }
    case 'DealLost':
      s.lose.run({ dealId: e.data.dealId, at: e.data.lostAt, reason: e.data.reason, position });
      return;
    default: {
      const _exhaustive: never = e;
      return;
    }
  }
}

export const dealsProjection: Projection = {
  name: 'deals',
  version: 1,
  canHandle: DEAL_EVENT_TYPES,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS deals (
        deal_id TEXT PRIMARY KEY,
        partner_id TEXT NOT NULL,
        customer_key TEXT NOT NULL,
        customer_name TEXT NOT NULL,
        customer_domain TEXT NOT NULL,
        customer_country TEXT,
        products TEXT NOT NULL,
        estimated_minor INTEGER NOT NULL,
        estimated_currency TEXT NOT NULL,
        expected_close_date TEXT NOT NULL,
        status TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        conflicts_with TEXT NOT NULL,
        approved_at TEXT,
        protected_until TEXT,
        extended_days INTEGER,
        program_version INTEGER,
        ended_at TEXT,
        reason TEXT,
        winner_deal_id TEXT,
        closed_at TEXT,
        won_minor INTEGER,
        won_currency TEXT,
        updated_position INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS deals_partner ON deals (partner_id, deal_id);
      CREATE INDEX IF NOT EXISTS deals_customer ON deals (customer_key, deal_id);
      CREATE INDEX IF NOT EXISTS deals_status ON deals (status, deal_id);`);
  },
  reset(db) {
    statements.delete(db);
    db.exec('DROP TABLE IF EXISTS deals;');
  },
  evolve(db, event: RecordedEvent) {
    if (!(DEAL_EVENT_TYPES as readonly string[]).includes(event.type)) return;
    apply(db, { type: event.type, data: event.data } as DealEvent, event.position);
  },
};
