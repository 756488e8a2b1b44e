import type Database from 'better-sqlite3';
import { isRecorded, type RecordedEvent } from '#events/envelope.js';
import type { MdfBudgetSet, MdfEvent } from '#events/mdf.js';
import type { Projection } from '../runner/projection.js';

/**
 * What `GET /v1/mdf/funds` shows: per fund (partner, period), the money allocated, approved, released, claimed
 * and paid; and `GET /v1/mdf/budgets`: the budget of each period and currency. It follows the fund decider's
 * arithmetic (libs/mdf/src/fund.ts): "claimed" counts what claims hold (a pending claim its amount, an approved
 * one its approved amount, a rejected one nothing), so each claim's amount is kept to give back the difference.
 * Version 2 (v2 money): releases, partial claim approvals and budgets; a store of version 1 rebuilds from the log.
 */
const HANDLED = [
  'MdfFundsAllocated',
  'MdfApproved',
  'MdfClaimSubmitted',
  'MdfClaimApproved',
  'MdfClaimRejected',
  'MdfClaimPaid',
  'MdfApprovalReleased',
  'MdfBudgetSet',
] as const satisfies readonly (MdfEvent | MdfBudgetSet)['type'][];

type Handled = Extract<MdfEvent | MdfBudgetSet, { type: (typeof HANDLED)[number] }>;

interface Statements {
  readonly allocate: Database.Statement;
  readonly approve: Database.Statement;
  readonly claim: Database.Statement;
  readonly claimRow: Database.Statement;
  readonly rejectClaim: Database.Statement;
  readonly claimAmount: Database.Statement<[string], { partner_id: string; period: string; amount_minor: number; status: string }>;
  readonly pay: Database.Statement;
  readonly release: Database.Statement;
  readonly approveClaim: Database.Statement;
  readonly budget: Database.Statement;
}

const statements = new WeakMap<Database.Database, Statements>();

function prepared(db: Database.Database): Statements {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      // The first allocation fixes the currency (the decider refuses any other afterwards).
      allocate: db.prepare(`INSERT INTO mdf_funds (partner_id, period, currency, allocated_minor, approved_minor, claimed_minor, paid_minor, released_minor, updated_position)
        VALUES (@partnerId, @period, @currency, @amount, 0, 0, 0, 0, @position)
        ON CONFLICT(partner_id, period) DO UPDATE SET allocated_minor = allocated_minor + excluded.allocated_minor, updated_position = excluded.updated_position`),
      approve: db.prepare('UPDATE mdf_funds SET approved_minor = approved_minor + @amount, updated_position = @position WHERE partner_id = @partnerId AND period = @period'),
      claim: db.prepare('UPDATE mdf_funds SET claimed_minor = claimed_minor + @amount, updated_position = @position WHERE partner_id = @partnerId AND period = @period'),
      claimRow: db.prepare(`INSERT INTO mdf_fund_claims (claim_id, partner_id, period, amount_minor, status) VALUES (@claimId, @partnerId, @period, @amount, 'submitted')
        ON CONFLICT(claim_id) DO NOTHING`),
      rejectClaim: db.prepare("UPDATE mdf_fund_claims SET status = 'rejected' WHERE claim_id = ?"),
      claimAmount: db.prepare('SELECT partner_id, period, amount_minor, status FROM mdf_fund_claims WHERE claim_id = ?'),
      pay: db.prepare('UPDATE mdf_funds SET paid_minor = paid_minor + @amount, updated_position = @position WHERE partner_id = @partnerId AND period = @period'),
      release: db.prepare('UPDATE mdf_funds SET released_minor = released_minor + @amount, updated_position = @position WHERE partner_id = @partnerId AND period = @period'),
      approveClaim: db.prepare("UPDATE mdf_fund_claims SET status = 'approved', amount_minor = @amount WHERE claim_id = @claimId"),
      budget: db.prepare(`INSERT INTO mdf_budgets (period, currency, budget_minor, updated_position) VALUES (@period, @currency, @amount, @position)
        ON CONFLICT(period, currency) DO UPDATE SET budget_minor = excluded.budget_minor, updated_position = excluded.updated_position`),
    };
    statements.set(db, s);
  }
  return s;
}

function apply(db: Database.Database, e: Handled, position: bigint): void {
  const s = prepared(db);
  if (e.type === 'MdfBudgetSet') {
    s.budget.run({ period: e.data.period, currency: e.data.amount.currency, amount: e.data.amount.amountMinor, position });
    return;
  }
  const fund = { partnerId: e.data.partnerId, period: e.data.period, position };
  switch (e.type) {
    case 'MdfFundsAllocated':
      s.allocate.run({ ...fund, currency: e.data.amount.currency, amount: e.data.amount.amountMinor });
      return;
    case 'MdfApproved':
      s.approve.run({ ...fund, amount: e.data.amount.amountMinor });
      return;
    case 'MdfClaimSubmitted': {
      const inserted = s.claimRow.run({ claimId: e.data.claimId, partnerId: fund.partnerId, period: fund.period, amount: e.data.amount.amountMinor });
      if (inserted.changes === 1) s.claim.run({ ...fund, amount: e.data.amount.amountMinor });
      return;
    }
    case 'MdfClaimRejected': {
      const c = s.claimAmount.get(e.data.claimId);
      if (c === undefined || c.status === 'rejected') return;
      s.rejectClaim.run(e.data.claimId);
      s.claim.run({ partnerId: c.partner_id, period: c.period, position, amount: -c.amount_minor });
      return;
    }
    case 'MdfClaimApproved': {
      // Approved for less than claimed: the difference is no longer held (it may be claimed again).
      const c = s.claimAmount.get(e.data.claimId);
      if (c === undefined || c.status !== 'submitted') return;
      s.approveClaim.run({ claimId: e.data.claimId, amount: e.data.amount.amountMinor });
      s.claim.run({ ...fund, amount: e.data.amount.amountMinor - c.amount_minor });
      return;
    }
    case 'MdfClaimPaid':
      s.pay.run({ ...fund, amount: e.data.amount.amountMinor });
      return;
    case 'MdfApprovalReleased':
      s.release.run({ ...fund, amount: e.data.amount.amountMinor });
      return;
    default: {
      const _exhaustive: never = e;
      return;
    }
  }
}

export const mdfFundsProjection: Projection = {
  name: 'mdf-funds',
  version: 2,
  canHandle: HANDLED,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS mdf_funds (
        partner_id TEXT NOT NULL,
        period TEXT NOT NULL,
        currency TEXT NOT NULL,
        allocated_minor INTEGER NOT NULL,
        approved_minor INTEGER NOT NULL,
        claimed_minor INTEGER NOT NULL,
        paid_minor INTEGER NOT NULL,
        released_minor INTEGER NOT NULL,
        updated_position INTEGER NOT NULL,
        PRIMARY KEY (partner_id, period)
      );
      CREATE TABLE IF NOT EXISTS mdf_budgets (
        period TEXT NOT NULL,
        currency TEXT NOT NULL,
        budget_minor INTEGER NOT NULL,
        updated_position INTEGER NOT NULL,
        PRIMARY KEY (period, currency)
      );
      CREATE INDEX IF NOT EXISTS mdf_funds_period ON mdf_funds (period, partner_id);
      CREATE TABLE IF NOT EXISTS mdf_fund_claims (
        claim_id TEXT PRIMARY KEY,
        partner_id TEXT NOT NULL,
        period TEXT NOT NULL,
        amount_minor INTEGER NOT NULL,
        status TEXT NOT NULL
      );`);
  },
  reset(db) {
    statements.delete(db);
    db.exec('DROP TABLE IF EXISTS mdf_fund_claims; DROP TABLE IF EXISTS mdf_funds; DROP TABLE IF EXISTS mdf_budgets;');
  },
  evolve(db, event: RecordedEvent) {
    if (isRecorded<Handled>(event, HANDLED)) apply(db, event, event.position);
  },
};
