import type { RevenueAttributed } from '#events/attribution.js';
import type { CommissionAccrued } from '#events/commissions.js';
import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import { NotFound } from '#libs/kernel/errors.js';
import { commissionedAttributionDecider, evolveTierHistory, initialTierHistory, tierAt, type CommissionFacts, type PartnerTierHistory } from './attribution-commissions.js';
import type { CommissionPlan } from './plan.js';

const now = new Date('2026-03-02T09:00:00.000Z');
const spec = deciderSpec(commissionedAttributionDecider, now);
const plan: CommissionPlan = {
  version: 2,
  holdDays: 30,
  minimumPayoutMinor: 0,
  rules: [
    { creditType: 'sourced', rateBps: 1000 },
    { tier: 'Gold', creditType: 'sourced', rateBps: 1500 },
  ],
};
const history = (tier: string, changes: PartnerTierHistory['changes'] = []): PartnerTierHistory => ({ partnerType: 'reseller', enrolledTier: tier, changes, overrides: [] });
const facts: CommissionFacts = { plan, partners: { P1: history('Registered', [{ at: '2026-02-01T00:00:00.000Z', tier: 'Gold' }]), P2: history('Registered') } };
const attribute = (amountMinor: number, commissions?: CommissionFacts) => ({
  type: 'AttributeRevenue' as const,
  data: {
    attributionId: 'A1',
    amount: { amountMinor, currency: 'USD' },
    recognizedAt: '2026-02-15T00:00:00.000Z',
    credits: [
      { partnerId: 'P1', type: 'sourced' as const, shareBps: 5000 },
      { partnerId: 'P2', type: 'sourced' as const, shareBps: 5000 },
    ],
  },
  facts: { reportingCurrency: 'USD', programVersion: 1, enrolledPartnerIds: ['P1', 'P2'] },
  ...(commissions !== undefined ? { commissions } : {}),
});
const attributed: RevenueAttributed = {
  type: 'RevenueAttributed',
  data: {
    attributionId: 'A1',
    amount: { amountMinor: 3, currency: 'USD' },
    reportingCurrency: 'USD',
    recognizedAt: '2026-02-15T00:00:00.000Z',
    credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10_000 }],
    allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor: 3 }],
    programVersion: 1,
    unregistered: true,
  },
};
const accrued = (amountMinor: number, baseMinor: number): CommissionAccrued => ({
  type: 'CommissionAccrued',
  data: {
    attributionId: 'A1',
    partnerId: 'P1',
    creditType: 'sourced',
    planVersion: 2,
    rule: { creditType: 'sourced', rateBps: 5000 },
    partnerType: 'reseller',
    tier: 'Gold',
    baseMinor,
    rateBps: 5000,
    amountMinor,
    currency: 'USD',
    recognizedAt: '2026-02-15T00:00:00.000Z',
    payableFrom: '2026-03-17T00:00:00.000Z',
  },
});
const reverse = (amountMinor?: number) => ({
  type: 'ReverseAttribution' as const,
  data: { attributionId: 'A1', ...(amountMinor !== undefined ? { amountMinor } : {}), reason: 'refund', reversedAt: '2026-03-01T00:00:00.000Z' },
});

describe('accruals appended with the attribution', () => {
  it('one CommissionAccrued per allocation after RevenueAttributed, at the tier of recognizedAt, in the reporting currency', () => {
    spec.given().when(attribute(10_001, facts)).thenMatches([
      { type: 'RevenueAttributed' },
      { type: 'CommissionAccrued', data: { partnerId: 'P1', tier: 'Gold', rateBps: 1500, baseMinor: 5001, amountMinor: 750, currency: 'USD', planVersion: 2, payableFrom: '2026-03-17T00:00:00.000Z', rule: { tier: 'Gold', creditType: 'sourced', rateBps: 1500 } } },
      { type: 'CommissionAccrued', data: { partnerId: 'P2', tier: 'Registered', rateBps: 1000, baseMinor: 5000, amountMinor: 500 } },
    ]);
  });
  it('without commission facts (no plan defined) only the attribution is recorded', () => {
    spec.given().when(attribute(10_000)).thenMatches([{ type: 'RevenueAttributed' }]);
  });
  it('a refused attribution accrues nothing', () => {
    spec.given(attributed).when(attribute(10_000, facts)).thenThrows(Error);
  });
});

describe('clawbacks appended with the reversal', () => {
  it('in proportion, half away from zero, and the last reversal takes what remains of the accrual', () => {
    // accrual 1 on a base of 3: a third reversed rounds to 0, two thirds to 1, the rest takes the remainder.
    spec.given(attributed, accrued(1, 3)).when(reverse(1)).thenMatches([{ type: 'RevenueAttributionReversed' }]);
    spec.given(attributed, accrued(2, 3)).when(reverse(1)).thenMatches([{ type: 'RevenueAttributionReversed' }, { type: 'CommissionClawedBack', data: { amountMinor: 1, baseMinor: 1, sequence: 1 } }]);
    spec.given(attributed, accrued(1, 3)).when(reverse()).thenMatches([{ type: 'RevenueAttributionReversed' }, { type: 'CommissionClawedBack', data: { amountMinor: 1, baseMinor: 3, payableFrom: '2026-03-17T00:00:00.000Z' } }]);
  });
  it('a refused reversal claws nothing back', () => {
    spec.given().when(reverse(1)).thenThrows(NotFound);
  });
});

describe('the tier at a business time', () => {
  it('reads overrides, then the latest change at or before, then the enrollment tier', () => {
    let h = initialTierHistory();
    const ev = (type: string, data: object) => ({ type, data }) as never;
    h = evolveTierHistory(h, ev('PartnerEnrolled', { partnerId: 'P1', name: 'n', type: 'msp', domain: 'x.com', tier: 'Registered', programVersion: 1, enrolledAt: '2026-01-01T00:00:00.000Z' }));
    h = evolveTierHistory(h, ev('PartnerTierChanged', { partnerId: 'P1', from: 'Registered', to: 'Gold', kind: 'promotion', asOf: '2026-03-01T00:00:00.000Z', programVersion: 1 }));
    h = evolveTierHistory(h, ev('PartnerTierOverridden', { partnerId: 'P1', tier: 'Platinum', from: 'Gold', reason: 'r', until: '2026-06-01T00:00:00.000Z', overriddenAt: '2026-04-01T00:00:00.000Z', programVersion: 1 }));
    h = evolveTierHistory(h, ev('PartnerTierOverrideEnded', { partnerId: 'P1', tier: 'Platinum', restoredTier: 'Gold', reason: 'r', endedAt: '2026-05-01T00:00:00.000Z' }));
    expect(h.partnerType).toBe('msp');
    expect(tierAt(h, '2026-02-01T00:00:00.000Z')).toBe('Registered');
    expect(tierAt(h, '2026-03-01T00:00:00.000Z')).toBe('Gold');
    expect(tierAt(h, '2026-04-15T00:00:00.000Z')).toBe('Platinum');
    expect(tierAt(h, '2026-05-01T00:00:00.000Z')).toBe('Gold');
  });
});
