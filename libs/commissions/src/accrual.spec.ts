import { accrualsFor } from './accrual.js';
import type { CommissionPlan } from './plan.js';

const plan: CommissionPlan = {
  version: 3,
  holdDays: 30,
  minimumPayoutMinor: 0,
  rules: [
    { creditType: 'sourced', rateBps: 1000 },
    { tier: 'Gold', partnerType: 'reseller', creditType: 'sourced', rateBps: 2000 },
    { creditType: 'influenced', rateBps: 250 },
  ],
};

describe('accruals of an attribution', () => {
  it('one line per allocation with a non-zero commission, on the reporting amount, the most specific rule', () => {
    const partners = new Map([
      ['P1', { partnerType: 'reseller' as const, tier: 'Gold' }],
      ['P2', { partnerType: 'msp' as const, tier: 'Silver' }],
    ]);
    const lines = accrualsFor(
      [
        { partnerId: 'P1', type: 'sourced', amountMinor: 10_000, reportingAmountMinor: 10_800 },
        { partnerId: 'P2', type: 'influenced', amountMinor: 1 },
        { partnerId: 'P3', type: 'sourced', amountMinor: 5_000 },
      ],
      '2026-01-31T00:00:00.000Z',
      plan,
      partners,
    );
    expect(lines).toEqual([{ partnerId: 'P1', creditType: 'sourced', baseMinor: 10_800, rateBps: 2000, amountMinor: 2160, payableFrom: '2026-03-02T00:00:00.000Z', planVersion: 3, rule: { tier: 'Gold', partnerType: 'reseller', creditType: 'sourced', rateBps: 2000 } }]);
  });
});
