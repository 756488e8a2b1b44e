import type { PayoutEvent } from '#events/commissions.js';
import { AlreadyExists, InvalidInput, NotFound, RuleViolation } from '#libs/kernel/errors.js';
import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import { payoutRunsDecider, type AccrualFact, type CreatePayoutRun } from './payouts.js';

const now = new Date('2026-04-02T09:00:00.000Z');
const spec = deciderSpec(payoutRunsDecider, now);
const acc = (partnerId: string, attributionId: string, amountMinor: number, payableFrom: string, clawedBackMinor = 0): AccrualFact => ({
  partnerId,
  attributionId,
  creditType: 'sourced',
  currency: 'USD',
  amountMinor,
  clawedBackMinor,
  payableFrom,
});
const create = (payoutId: string, asOf: string, accruals: AccrualFact[], minimumPayoutMinor = 0): CreatePayoutRun => ({
  type: 'CreatePayoutRun',
  data: { payoutId, asOf },
  facts: { currency: 'USD', planVersion: 1, minimumPayoutMinor, accruals },
});
const MARCH = '2026-03-31T00:00:00.000Z';
const run1: PayoutEvent = {
  type: 'PayoutRunCreated',
  data: {
    payoutId: 'PO1',
    asOf: MARCH,
    currency: 'USD',
    planVersion: 1,
    minimumPayoutMinor: 0,
    lines: [{ partnerId: 'P1', amountMinor: 1000, accruals: [{ attributionId: 'A1', creditType: 'sourced' }] }],
    carriedForward: [],
    createdAt: MARCH,
  },
};
const approved: PayoutEvent = { type: 'PayoutRunApproved', data: { payoutId: 'PO1', approvedAt: MARCH } };
const paid: PayoutEvent = { type: 'PayoutLinePaid', data: { payoutId: 'PO1', partnerId: 'P1', amountMinor: 1000, currency: 'USD', paidAt: MARCH, reference: 'W1' } };

describe('payout runs', () => {
  it('pays what is payable by asOf, holds the rest, carries forward below the minimum', () => {
    spec
      .given()
      .when(create('PO1', MARCH, [acc('P1', 'A1', 1000, '2026-03-01T00:00:00.000Z'), acc('P1', 'A2', 500, '2026-04-01T00:00:00.000Z'), acc('P2', 'A3', 40, '2026-03-01T00:00:00.000Z')], 100))
      .thenMatches([
        {
          type: 'PayoutRunCreated',
          data: { lines: [{ partnerId: 'P1', amountMinor: 1000, accruals: [{ attributionId: 'A1', creditType: 'sourced' }] }], carriedForward: [{ partnerId: 'P2', amountMinor: 40, reason: 'below-minimum' }] },
        },
      ]);
  });
  it('takes any valid id, one that names an Object.prototype member or looks like a number included (state is a Map)', () => {
    spec.given().when(create('constructor', MARCH, [])).thenMatches([{ type: 'PayoutRunCreated', data: { payoutId: 'constructor' } }]);
    const named = (payoutId: string): PayoutEvent => ({ ...run1, data: { ...(run1.data as Extract<PayoutEvent, { type: 'PayoutRunCreated' }>['data']), payoutId } });
    const state = [named('zz'), { type: 'PayoutRunApproved', data: { payoutId: 'zz', approvedAt: MARCH } } as PayoutEvent, named('42')].reduce(
      (s, e) => payoutRunsDecider.evolve(s, e),
      payoutRunsDecider.initialState(),
    );
    // Creation order, not JavaScript's integer-keys-first order of a plain object.
    expect([...state.runs.keys()]).toEqual(['zz', '42']);
  });
  it('never puts an accrual in two live runs; a second run awaiting approval is refused', () => {
    spec.given(run1).when(create('PO2', MARCH, [acc('P1', 'A1', 1000, '2026-03-01T00:00:00.000Z')])).thenThrows(AlreadyExists, { extensions: { pendingPayoutId: 'PO1' }, problemType: 'payout-run-pending' });
    spec.given(run1, approved).when(create('PO2', MARCH, [acc('P1', 'A1', 1000, '2026-03-01T00:00:00.000Z')])).thenMatches([{ type: 'PayoutRunCreated', data: { lines: [], carriedForward: [] } }]);
    spec.given(run1).when(create('PO1', MARCH, [])).thenThrows(AlreadyExists);
    // Cancelled: its accruals are free again.
    spec
      .given(run1, { type: 'PayoutRunCancelled', data: { payoutId: 'PO1', reason: 'wrong', cancelledAt: MARCH } })
      .when(create('PO2', MARCH, [acc('P1', 'A1', 1000, '2026-03-01T00:00:00.000Z')]))
      .thenMatches([{ type: 'PayoutRunCreated', data: { lines: [{ partnerId: 'P1', amountMinor: 1000 }] } }]);
  });
  it('nets a clawback after payment against the next run, carrying a negative balance forward', () => {
    spec.given(run1, approved, paid).when(create('PO2', MARCH, [acc('P1', 'A1', 1000, '2026-03-01T00:00:00.000Z', 300)])).thenMatches([
      { type: 'PayoutRunCreated', data: { lines: [], carriedForward: [{ partnerId: 'P1', amountMinor: -300, reason: 'not-positive' }] } },
    ]);
    spec
      .given(run1, approved, paid)
      .when(create('PO2', MARCH, [acc('P1', 'A1', 1000, '2026-03-01T00:00:00.000Z', 300), acc('P1', 'A2', 500, '2026-03-02T00:00:00.000Z')]))
      .thenMatches([{ type: 'PayoutRunCreated', data: { lines: [{ partnerId: 'P1', amountMinor: 200, accruals: [{ attributionId: 'A2' }] }] } }]);
  });
  it('approve, cancel only before approval, mark paid once', () => {
    spec.given(run1).when({ type: 'ApprovePayoutRun', data: { payoutId: 'PO1' } }).thenMatches([{ type: 'PayoutRunApproved' }]);
    spec.given(run1, approved).when({ type: 'ApprovePayoutRun', data: { payoutId: 'PO1' } }).then([]);
    spec.given(run1, approved).when({ type: 'CancelPayoutRun', data: { payoutId: 'PO1', reason: 'late' } }).thenThrows(RuleViolation);
    spec.given(run1).when({ type: 'MarkPayoutLinePaid', data: { payoutId: 'PO1', partnerId: 'P1', paidAt: MARCH, reference: 'W1' } }).thenThrows(RuleViolation);
    spec.given(run1, approved).when({ type: 'MarkPayoutLinePaid', data: { payoutId: 'PO1', partnerId: 'P1', paidAt: MARCH, reference: 'W1' } }).thenMatches([{ type: 'PayoutLinePaid', data: { amountMinor: 1000 } }]);
    spec.given(run1, approved, paid).when({ type: 'MarkPayoutLinePaid', data: { payoutId: 'PO1', partnerId: 'P1', paidAt: MARCH, reference: 'W2' } }).thenThrows(AlreadyExists);
    spec.given(run1, approved).when({ type: 'MarkPayoutLinePaid', data: { payoutId: 'PO1', partnerId: 'P9', paidAt: MARCH, reference: 'W1' } }).thenThrows(NotFound);
    spec.given().when({ type: 'ApprovePayoutRun', data: { payoutId: 'PO1' } }).thenThrows(NotFound);
  });
  it('refuses an asOf after now and a bad id', () => {
    spec.given().when(create('PO1', '2026-05-01T00:00:00.000Z', [])).thenThrows(RuleViolation);
    spec.given().when(create('bad id', MARCH, [])).thenThrows(InvalidInput);
  });
});
