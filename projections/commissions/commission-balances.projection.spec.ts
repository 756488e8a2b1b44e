import type { CommissionAccrued, CommissionClawedBack, PayoutLinePaid } from '#events/commissions.js';
import { projectionSpec } from '../testing/projection-spec.js';
import { commissionBalancesProjection } from './commission-balances.projection.js';
import { commissionBalances, listCommissions } from './commission-balances.queries.js';

let spec: ReturnType<typeof projectionSpec>;
beforeEach(() => {
  spec = projectionSpec(commissionBalancesProjection, {
    streamOf: (e) => (e.type === 'PayoutLinePaid' ? 'payout-runs' : `attribution-${(e.data as { attributionId: string }).attributionId}`),
  });
});
afterEach(() => spec.close());

const rule = { creditType: 'sourced' as const, rateBps: 1000 };
const accrued = (attributionId: string, partnerId: string, amountMinor: number, recognizedAt: string, payableFrom: string): CommissionAccrued => ({
  type: 'CommissionAccrued',
  data: { attributionId, partnerId, creditType: 'sourced', planVersion: 1, rule, partnerType: 'reseller', tier: 'Registered', baseMinor: amountMinor * 10, rateBps: 1000, amountMinor, currency: 'USD', recognizedAt, payableFrom },
});
const clawed = (attributionId: string, partnerId: string, amountMinor: number, reversedAt: string, payableFrom: string): CommissionClawedBack => ({
  type: 'CommissionClawedBack',
  data: { attributionId, partnerId, creditType: 'sourced', sequence: 1, planVersion: 1, rule, baseMinor: amountMinor * 10, rateBps: 1000, amountMinor, currency: 'USD', reversedAt, payableFrom },
});
const paid = (payoutId: string, partnerId: string, amountMinor: number, paidAt: string): PayoutLinePaid => ({
  type: 'PayoutLinePaid',
  data: { payoutId, partnerId, amountMinor, currency: 'USD', paidAt, reference: `W-${payoutId}` },
});

describe('commission-balances projection', () => {
  it('splits held and payable by payableFrom at asOf, counts only what happened by asOf', () => {
    spec.given(
      accrued('A1', 'P1', 1000, '2026-01-10T00:00:00.000Z', '2026-02-09T00:00:00.000Z'),
      accrued('A2', 'P1', 500, '2026-02-01T00:00:00.000Z', '2026-03-03T00:00:00.000Z'),
      clawed('A2', 'P1', 100, '2026-02-15T00:00:00.000Z', '2026-03-03T00:00:00.000Z'),
      accrued('A3', 'P2', 70, '2026-04-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z'),
    );
    expect(commissionBalances(spec.db, {}, new Date('2026-02-20T00:00:00.000Z')).items).toEqual([
      { partnerId: 'P1', currency: 'USD', accruedMinor: 1500, clawedBackMinor: 100, heldMinor: 400, payableMinor: 1000, paidMinor: 0, balanceMinor: 1400 },
    ]);
    expect(commissionBalances(spec.db, { partnerId: 'P1' }, new Date('2026-03-03T00:00:00.000Z')).items[0]).toMatchObject({ heldMinor: 0, payableMinor: 1400 });
    expect(commissionBalances(spec.db, {}, new Date('2026-01-01T00:00:00.000Z')).items).toEqual([]);
  });
  it('a clawback after payment makes the payable balance negative', () => {
    spec.given(
      accrued('A1', 'P1', 1000, '2026-01-10T00:00:00.000Z', '2026-01-10T00:00:00.000Z'),
      paid('PO1', 'P1', 1000, '2026-01-31T00:00:00.000Z'),
      clawed('A1', 'P1', 300, '2026-02-15T00:00:00.000Z', '2026-01-10T00:00:00.000Z'),
    );
    expect(commissionBalances(spec.db, {}, new Date('2026-03-01T00:00:00.000Z')).items[0]).toMatchObject({ accruedMinor: 1000, clawedBackMinor: 300, paidMinor: 1000, heldMinor: 0, payableMinor: -300, balanceMinor: -300 });
  });
  it('lists accruals and clawbacks by business time within from/to (both included)', () => {
    spec.given(
      accrued('A1', 'P1', 1000, '2026-01-10T00:00:00.000Z', '2026-02-09T00:00:00.000Z'),
      clawed('A1', 'P1', 300, '2026-02-15T00:00:00.000Z', '2026-02-09T00:00:00.000Z'),
      accrued('A2', 'P2', 5, '2026-01-11T00:00:00.000Z', '2026-02-10T00:00:00.000Z'),
    );
    expect(listCommissions(spec.db, { partnerId: 'P1' }).items.map((i) => [i.kind, i.amountMinor])).toEqual([['accrued', 1000], ['clawed-back', 300]]);
    expect(listCommissions(spec.db, { from: '2026-01-11T00:00:00.000Z', to: '2026-02-15T00:00:00.000Z' }).items.map((i) => i.attributionId + i.kind)).toEqual(['A2accrued', 'A1clawed-back']);
    // Pages of one: the same rows in the same order, then no cursor.
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = listCommissions(spec.db, { limit: 1, ...(cursor !== undefined ? { cursor } : {}) });
      seen.push(...page.items.map((i) => i.attributionId + i.kind));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(['A1accrued', 'A2accrued', 'A1clawed-back']);
    expect(() => listCommissions(spec.db, { cursor: 'bm90LWEtY3Vyc29y' })).toThrow('cursor is not one this list returned');
    expect(() => listCommissions(spec.db, { limit: 0 })).toThrow('limit');
  });
});
