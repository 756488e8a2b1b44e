import type Database from 'better-sqlite3';
import type { MdfBudgetSet, MdfEvent } from '#events/mdf.js';
import { InvalidInput } from '#libs/kernel/errors.js';
import { mdfFundsProjection } from './mdf-funds.projection.js';
import { listBudgets, listFunds } from './mdf-funds.queries.js';
import { projectionSpec } from '../testing/projection-spec.js';

let spec: ReturnType<typeof projectionSpec>;
let db: Database.Database;
const given = (...events: (MdfEvent | MdfBudgetSet)[]) => spec.given(...events);

const AT = '2026-02-01T00:00:00.000Z';
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });
const fund = (partnerId = 'P1', period = '2026-Q1') => ({ partnerId, period });
const allocated = (amount: number, f = fund()): MdfEvent => ({ type: 'MdfFundsAllocated', data: { ...f, amount: usd(amount), tier: 'Silver', programVersion: 0, allocatedAt: AT } });
const requested = (requestId: string, amount: number, f = fund()): MdfEvent => ({ type: 'MdfRequested', data: { ...f, requestId, activity: 'event', amount: usd(amount), requestedAt: AT } });
const approved = (requestId: string, amount: number, f = fund()): MdfEvent => ({ type: 'MdfApproved', data: { ...f, requestId, amount: usd(amount), approvedAt: AT } });
const claimed = (requestId: string, claimId: string, amount: number): MdfEvent => ({
  type: 'MdfClaimSubmitted',
  data: { ...fund(), requestId, claimId, amount: usd(amount), proofOfPerformance: ['doc'], submittedAt: AT },
});
const claimApproved = (claimId: string, amount: number): MdfEvent => ({ type: 'MdfClaimApproved', data: { ...fund(), requestId: 'R1', claimId, amount: usd(amount), approvedAt: AT } });
const claimRejected = (claimId: string): MdfEvent => ({ type: 'MdfClaimRejected', data: { ...fund(), requestId: 'R1', claimId, reason: 'no proof', rejectedAt: AT } });
const paid = (claimId: string, amount: number): MdfEvent => ({ type: 'MdfClaimPaid', data: { ...fund(), requestId: 'R1', claimId, amount: usd(amount), paidAt: AT, reference: 'W1' } });

beforeEach(() => {
  spec = projectionSpec(mdfFundsProjection, {
    recordedAt: '2026-02-01T00:00:00.000Z',
    streamOf: (e) => (e.type === 'MdfBudgetSet' ? `mdfbudget-${(e.data as { period: string }).period}` : `mdf-${(e.data as { partnerId: string }).partnerId}.${(e.data as { period: string }).period}`),
  });
  db = spec.db;
});
afterEach(() => spec.close());

describe('mdf-funds projection', () => {
  it('is named mdf-funds and ignores what does not move money', () => {
    expect(mdfFundsProjection.name).toBe('mdf-funds');
    expect(mdfFundsProjection.canHandle).not.toContain('MdfRequested');

  });

  it('follows a fund through allocation, approval, claims, a rejection, a partial claim approval, a payment and a release', () => {
    given(
      allocated(1000),
      allocated(500),
      requested('R1', 800),
      approved('R1', 700),
      claimed('R1', 'C1', 300),
      claimed('R1', 'C2', 200),
      claimRejected('C2'),
      claimRejected('C2'),
      claimApproved('C1', 250),
      paid('C1', 250),
      { type: 'MdfApprovalReleased', data: { ...fund(), requestId: 'R1', amount: usd(450), claimDeadline: AT, asOf: AT, releasedAt: AT } },
    );
    // C1 approved for 250 of 300: it holds 250; the release gives 450 back to available.
    expect(listFunds(db, {})).toEqual({
      items: [{ partnerId: 'P1', period: '2026-Q1', currency: 'USD', allocatedMinor: 1500, approvedMinor: 700, claimedMinor: 250, paidMinor: 250, releasedMinor: 450, availableMinor: 1250 }],
      nextCursor: null,
    });
  });

  it('answers budgets per period and currency with what the period\'s funds hold', () => {
    given(
      allocated(300, fund('P1', '2026-Q1')),
      allocated(200, fund('P2', '2026-Q1')),
      { type: 'MdfBudgetSet', data: { period: '2026-Q1', amount: usd(1000), setAt: AT } },
      { type: 'MdfBudgetSet', data: { period: '2026-Q1', amount: usd(800), setAt: AT } },
      { type: 'MdfBudgetSet', data: { period: '2026-Q2', amount: usd(50), setAt: AT } },
    );
    expect(listBudgets(db, {}).items).toEqual([
      { period: '2026-Q1', currency: 'USD', budgetMinor: 800, allocatedMinor: 500, remainingMinor: 300 },
      { period: '2026-Q2', currency: 'USD', budgetMinor: 50, allocatedMinor: 0, remainingMinor: 50 },
    ]);
    expect(listBudgets(db, { period: '2026-Q2' }).items).toHaveLength(1);
    expect(() => listBudgets(db, { period: 'Q2' })).toThrow(InvalidInput);
  });

  it('counts a re-delivered claim once', () => {
    given(allocated(1000), approved('R1', 500), claimed('R1', 'C1', 100), claimed('R1', 'C1', 100));
    expect(listFunds(db, {}).items[0]?.claimedMinor).toBe(100);
  });

  describe('listFunds', () => {
    beforeEach(() => given(allocated(1, fund('P2', '2026-Q1')), allocated(2, fund('P1', '2026-Q2')), allocated(3, fund('P1', '2026-Q1')), allocated(4, fund('P3', '2025-Q4'))));
    const keys = (p: { items: readonly { partnerId: string; period: string }[] }) => p.items.map((f) => `${f.partnerId} ${f.period}`);

    it('orders by partner and period and filters by either', () => {
      expect(keys(listFunds(db, {}))).toEqual(['P1 2026-Q1', 'P1 2026-Q2', 'P2 2026-Q1', 'P3 2025-Q4']);
      expect(keys(listFunds(db, { partnerId: 'P1' }))).toEqual(['P1 2026-Q1', 'P1 2026-Q2']);
      expect(keys(listFunds(db, { period: '2026-Q1' }))).toEqual(['P1 2026-Q1', 'P2 2026-Q1']);
      expect(keys(listFunds(db, { partnerId: 'P9' }))).toEqual([]);
    });

    it('pages with a cursor', () => {
      const first = listFunds(db, { limit: 3 });
      expect(keys(first)).toEqual(['P1 2026-Q1', 'P1 2026-Q2', 'P2 2026-Q1']);
      expect(keys(listFunds(db, { limit: 3, cursor: first.nextCursor! }))).toEqual(['P3 2025-Q4']);
      expect(listFunds(db, { limit: 4 }).nextCursor).toBeNull();
    });

    it.each([[{ limit: 0 }], [{ period: '2026-05' }], [{ cursor: 'x y' }]])('refuses %j', (filter) => {
      expect(() => listFunds(db, filter)).toThrow(InvalidInput);
    });
  });

  it('given a reset and a migrate, then it is empty', () => {
    given(allocated(1000));
    mdfFundsProjection.reset(db);
    mdfFundsProjection.migrate(db);
    expect(listFunds(db, {})).toEqual({ items: [], nextCursor: null });
  });
});
