import type { CommissionPlanDefined } from '#events/commissions.js';
import { InvalidInput } from '#libs/kernel/errors.js';
import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import { clawbackMinor, commissionMinor, commissionPlanDecider, payableFrom, ruleFor, type CommissionPlan } from './plan.js';

const now = new Date('2026-03-02T09:00:00.000Z');
const spec = deciderSpec(commissionPlanDecider, now);
const v1: CommissionPlanDefined = {
  type: 'CommissionPlanDefined',
  data: { version: 1, holdDays: 30, minimumPayoutMinor: 0, rules: [{ creditType: 'sourced', rateBps: 1000 }], definedAt: now.toISOString() },
};

describe('commission plan decider', () => {
  it('defines version 1 with defaults and canonical rule order', () => {
    spec.given().when({ rules: [{ tier: 'Gold', creditType: 'sourced', rateBps: 2000 }, { creditType: 'sourced', rateBps: 1000 }] }).then([
      {
        type: 'CommissionPlanDefined',
        data: { version: 1, holdDays: 30, minimumPayoutMinor: 0, rules: [{ creditType: 'sourced', rateBps: 1000 }, { tier: 'Gold', creditType: 'sourced', rateBps: 2000 }], definedAt: now.toISOString() },
      },
    ]);
  });
  it('re-sending the plan in force is a no-op; a change is the next version', () => {
    spec.given(v1).when({ holdDays: 30, rules: [{ creditType: 'sourced', rateBps: 1000 }] }).then([]);
    spec.given(v1).when({ holdDays: 60, rules: [{ creditType: 'sourced', rateBps: 1000 }] }).thenMatches([{ type: 'CommissionPlanDefined', data: { version: 2, holdDays: 60 } }]);
  });
  it('refuses bad rates, credit types, negative minimums and duplicate rules', () => {
    spec.given().when({ rules: [{ creditType: 'sourced', rateBps: 10_001 }] }).thenThrows(InvalidInput);
    spec.given().when({ rules: [{ creditType: 'other' as never, rateBps: 1 }] }).thenThrows(InvalidInput);
    spec.given().when({ minimumPayoutMinor: -1, rules: [] }).thenThrows(InvalidInput);
    spec.given().when({ rules: [{ creditType: 'sourced', rateBps: 1 }, { creditType: 'sourced', rateBps: 2 }] }).thenThrows(InvalidInput);
  });
});

describe('the most specific rule wins', () => {
  const plan: CommissionPlan = {
    version: 1,
    holdDays: 30,
    minimumPayoutMinor: 0,
    rules: [
      { creditType: 'sourced', rateBps: 100 },
      { partnerType: 'reseller', creditType: 'sourced', rateBps: 200 },
      { tier: 'Gold', creditType: 'sourced', rateBps: 300 },
      { tier: 'Gold', partnerType: 'reseller', creditType: 'sourced', rateBps: 400 },
    ],
  };
  it('tier + type, then tier, then type, then neither; no rule for another credit type', () => {
    expect(ruleFor(plan, 'Gold', 'reseller', 'sourced')?.rateBps).toBe(400);
    expect(ruleFor(plan, 'Gold', 'msp', 'sourced')?.rateBps).toBe(300);
    expect(ruleFor(plan, 'Silver', 'reseller', 'sourced')?.rateBps).toBe(200);
    expect(ruleFor(plan, 'Silver', 'msp', 'sourced')?.rateBps).toBe(100);
    expect(ruleFor(plan, 'Gold', 'reseller', 'influenced')).toBeUndefined();
  });
});

describe('exact commission arithmetic', () => {
  it('rounds half away from zero in bigint, also beyond 2^53 products', () => {
    expect(commissionMinor(12_345, 1000)).toBe(1235); // 1234.5 → 1235
    expect(commissionMinor(12_344, 1000)).toBe(1234);
    expect(commissionMinor(-12_345, 1000)).toBe(-1235);
    expect(commissionMinor(Number.MAX_SAFE_INTEGER, 10_000)).toBe(Number.MAX_SAFE_INTEGER);
    expect(commissionMinor(Number.MAX_SAFE_INTEGER, 3333)).toBe(Number((BigInt(Number.MAX_SAFE_INTEGER) * 3333n + 5000n) / 10_000n));
  });
  it('claws back in proportion, never more than remains', () => {
    expect(clawbackMinor(1000, 1000, 250, 1000)).toBe(250);
    expect(clawbackMinor(1235, 1235, 1, 2)).toBe(618);
    expect(clawbackMinor(1235, 600, 2, 2)).toBe(600);
    expect(clawbackMinor(0, 0, 5, 10)).toBe(0);
  });
  it('holds for holdDays after recognition', () => {
    expect(payableFrom('2026-01-31T00:00:00.000Z', 30)).toBe('2026-03-02T00:00:00.000Z');
  });
});
