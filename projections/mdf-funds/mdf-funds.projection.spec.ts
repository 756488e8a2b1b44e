import Database from 'better-sqlite3';
import type { RecordedEvent } from '#events/envelope.js';
import type { MdfEvent } from '#events/mdf.js';
import { InvalidInput } from '#libs/kernel/errors.js';
import { mdfFundsProjection } from './mdf-funds.projection.js';
import { listFunds } from './mdf-funds.queries.js';

let db: Database.Database;
let position = 0n;

function given(...events: MdfEvent[]): void {
  for (const e of events) {
    position += 1n;
    const r: RecordedEvent = {
      eventId: `evt-${position}`,
      type: e.type,
      streamId: `mdf-${e.data.partnerId}.${e.data.period}`,
      revision: 0n,
      position,
      data: e.data,
      metadata: { schemaVersion: 1, actor: { id: 'ops', role: 'channel-ops' }, commandId: `c${position}`, correlationId: 'x', causationId: 'x', recordedAt: '2026-02-01T00:00:00.000Z' },
      prevHash: '0'.repeat(64),
      hash: '1'.repeat(64),
    };
    if (mdfFundsProjection.canHandle.includes(r.type)) mdfFundsProjection.evolve(db, r);
  }
}

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
  db = new Database(':memory:');
  mdfFundsProjection.migrate(db);
  position = 0n;
});
afterEach(() => db.close());

describe('mdf-funds projection', () => {
  it('is named mdf-funds and ignores what does not move money', () => {
    expect(mdfFundsProjection.name).toBe('mdf-funds');
    expect(mdfFundsProjection.canHandle).not.toContain('MdfRequested');
    expect(mdfFundsProjection.canHandle).not.toContain('MdfClaimApproved');
  });

  it('follows a fund through allocation, approval, claims, a rejection and a payment', () => {
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
    );
    expect(listFunds(db, {})).toEqual({
      items: [{ partnerId: 'P1', period: '2026-Q1', currency: 'USD', allocatedMinor: 1500, approvedMinor: 700, claimedMinor: 300, paidMinor: 250, availableMinor: 800 }],
      nextCursor: null,
    });
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
