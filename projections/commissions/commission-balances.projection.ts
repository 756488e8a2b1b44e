import type Database from 'better-sqlite3';
import type { CommissionEvent, PayoutLinePaid } from '#events/commissions.js';
import type { RecordedEvent } from '#events/envelope.js';
import type { Projection } from '../runner/projection.js';

/**
 * What `GET /v1/commissions` and `GET /v1/commissions/balances` show (DOMAIN.md, "Commissions and payouts (v2)"):
 * every accrual and clawback with its business time (`recognizedAt` / `reversedAt`) and the accrual's
 * `payableFrom`, and every paid payout line with its `paidAt`. Balances are sums over these rows at a business
 * time `asOf` (commission-balances.queries.ts), so one table answers any `asOf`.
 */
const HANDLED = ['CommissionAccrued', 'CommissionClawedBack', 'PayoutLinePaid'] as const satisfies readonly (CommissionEvent | PayoutLinePaid)['type'][];

type Handled = Extract<CommissionEvent | PayoutLinePaid, { type: (typeof HANDLED)[number] }>;

const ms = (iso: string): number => Date.parse(iso);

const prepared = new WeakMap<Database.Database, { entry: Database.Statement; payment: Database.Statement }>();

function statements(db: Database.Database): { entry: Database.Statement; payment: Database.Statement } {
  let s = prepared.get(db);
  if (s === undefined) {
    s = {
      payment: db.prepare(
        `INSERT INTO commission_payments (payout_id, partner_id, currency, amount_minor, paid_at, paid_ms, reference, position)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(payout_id, partner_id) DO NOTHING`,
      ),
      entry: db.prepare(
        `INSERT INTO commission_entries (attribution_id, partner_id, credit_type, kind, sequence, currency, amount_minor, base_minor, rate_bps, plan_version,
           at, at_ms, payable_from, payable_ms, position)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(attribution_id, partner_id, credit_type, kind, sequence) DO NOTHING`,
      ),
    };
    prepared.set(db, s);
  }
  return s;
}

function apply(db: Database.Database, e: Handled, position: bigint): void {
  if (e.type === 'PayoutLinePaid') {
    const d = e.data;
    statements(db).payment.run(d.payoutId, d.partnerId, d.currency, d.amountMinor, d.paidAt, ms(d.paidAt), d.reference, position);
    return;
  }
  const d = e.data;
  const accrued = e.type === 'CommissionAccrued';
  const at = accrued ? e.data.recognizedAt : e.data.reversedAt;
  statements(db).entry.run(
    d.attributionId,
    d.partnerId,
    d.creditType,
    accrued ? 'accrued' : 'clawed-back',
    accrued ? 0 : e.data.sequence,
    d.currency,
    d.amountMinor,
    d.baseMinor,
    d.rateBps,
    d.planVersion,
    at,
    ms(at),
    d.payableFrom,
    ms(d.payableFrom),
    position,
  );
}

export const commissionBalancesProjection: Projection = {
  name: 'commission-balances',
  version: 1,
  canHandle: HANDLED,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS commission_entries (
        attribution_id TEXT NOT NULL,
        partner_id TEXT NOT NULL,
        credit_type TEXT NOT NULL,
        kind TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        currency TEXT NOT NULL,
        amount_minor INTEGER NOT NULL,
        base_minor INTEGER NOT NULL,
        rate_bps INTEGER NOT NULL,
        plan_version INTEGER NOT NULL,
        at TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        payable_from TEXT NOT NULL,
        payable_ms INTEGER NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (attribution_id, partner_id, credit_type, kind, sequence)
      );
      CREATE INDEX IF NOT EXISTS commission_entries_partner ON commission_entries (partner_id, at_ms);
      CREATE INDEX IF NOT EXISTS commission_entries_at ON commission_entries (at_ms);
      CREATE TABLE IF NOT EXISTS commission_payments (
        payout_id TEXT NOT NULL,
        partner_id TEXT NOT NULL,
        currency TEXT NOT NULL,
        amount_minor INTEGER NOT NULL,
        paid_at TEXT NOT NULL,
        paid_ms INTEGER NOT NULL,
        reference TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (payout_id, partner_id)
      );`);
  },
  reset(db) {
    prepared.delete(db);
    db.exec('DROP TABLE IF EXISTS commission_entries; DROP TABLE IF EXISTS commission_payments;');
  },
  evolve(db, event: RecordedEvent) {
    if (!(HANDLED as readonly string[]).includes(event.type)) return;
    apply(db, { type: event.type, data: event.data } as Handled, event.position);
  },
};
