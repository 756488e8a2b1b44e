import type { MdfBudgetEvent, MdfEvent } from '#events/mdf.js';
import { NamedRuleViolation, RuleViolation } from '#libs/kernel/errors.js';
import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import { decideAllocationReservation, mdfBudgetDecider } from './budget.js';
import { availableMinor, fundDecider, type MdfCommand } from './fund.js';

/** v2, "MDF as a fund ledger": claim deadlines, partner status at claim, partial claim approval, release runs, budgets. */
const NOW = new Date('2026-02-10T12:00:00.000Z');
const spec = deciderSpec(fundDecider, NOW);
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });
const base = { partnerId: 'P1', period: '2026-Q1' };

const allocated: MdfEvent = { type: 'MdfFundsAllocated', data: { ...base, amount: usd(1000), tier: 'Silver', programVersion: 1, allocatedAt: '2026-01-01T00:00:00.000Z' } };
const requested = (activityEndsAt?: string): MdfEvent => ({
  type: 'MdfRequested',
  data: { ...base, requestId: 'R1', activity: 'Webinar', amount: usd(600), requestedAt: '2026-01-02T00:00:00.000Z', ...(activityEndsAt ? { activityEndsAt } : {}) },
});
const claim = (claimId: string, amountMinor: number, partnerStatus = 'active'): MdfCommand => ({
  type: 'SubmitClaim',
  data: { requestId: 'R1', claimId, amount: usd(amountMinor), proofOfPerformance: ['https://proof.example/1'] },
  facts: { partnerStatus },
});

describe('claim deadlines', () => {
  it('records the deadline at approval: activityEndsAt + mdfClaimDays, or the approval + mdfClaimDays', () => {
    spec
      .given(allocated, requested('2026-03-31T00:00:00.000Z'))
      .when({ type: 'ApproveRequest', data: { requestId: 'R1' }, facts: { mdfClaimDays: 30 } })
      .thenMatches([{ type: 'MdfApproved', data: { claimDeadline: '2026-04-30T00:00:00.000Z', mdfClaimDays: 30 } }]);
    spec
      .given(allocated, requested())
      .when({ type: 'ApproveRequest', data: { requestId: 'R1' }, facts: { mdfClaimDays: 10 } })
      .thenMatches([{ type: 'MdfApproved', data: { claimDeadline: '2026-02-20T12:00:00.000Z' } }]);
  });

  const approved: MdfEvent = { type: 'MdfApproved', data: { ...base, requestId: 'R1', amount: usd(500), approvedAt: '2026-01-05T00:00:00.000Z', claimDeadline: '2026-02-10T12:00:00.000Z' } };

  it('accepts a claim up to the deadline and refuses one after it (claim-deadline-passed)', () => {
    spec.given(allocated, requested(), approved).when(claim('C1', 100)).thenMatches([{ type: 'MdfClaimSubmitted' }]);
    spec.given(allocated, requested(), approved).when(claim('C1', 100), new Date('2026-02-10T12:00:00.001Z')).thenThrows(NamedRuleViolation, { problemType: 'claim-deadline-passed' });
  });

  it('reads an approval recorded before v2 (no deadline) as due 90 days after it', () => {
    const { claimDeadline: _d, ...old } = approved.data as typeof approved.data & { claimDeadline?: string };
    const s = spec.given(allocated, requested(), { type: 'MdfApproved', data: old });
    expect(s.state.status === 'open' && s.state.requests.get('R1')?.claimDeadline).toBe('2026-04-05T00:00:00.000Z');
  });

  it('needs an active partner to claim', () => {
    spec.given(allocated, requested(), approved).when(claim('C1', 100, 'suspended')).thenThrows(RuleViolation, { extensions: { partnerStatus: 'suspended' } });
  });
});

describe('partial claim approval and release runs', () => {
  const approved: MdfEvent = { type: 'MdfApproved', data: { ...base, requestId: 'R1', amount: usd(500), approvedAt: '2026-01-05T00:00:00.000Z', claimDeadline: '2026-03-01T00:00:00.000Z' } };
  const submitted: MdfEvent = { type: 'MdfClaimSubmitted', data: { ...base, requestId: 'R1', claimId: 'C1', amount: usd(500), proofOfPerformance: ['x'], submittedAt: '2026-01-20T00:00:00.000Z' } };
  const partly: MdfEvent = { type: 'MdfClaimApproved', data: { ...base, requestId: 'R1', claimId: 'C1', amount: usd(300), approvedAt: '2026-01-25T00:00:00.000Z' } };

  it('frees the difference of a claim approved in part: the request may be claimed again up to its approval', () => {
    spec.given(allocated, requested(), approved, submitted).when(claim('C2', 1)).thenThrows(RuleViolation, { extensions: { claimableMinor: 0 } });
    spec.given(allocated, requested(), approved, submitted, partly).when(claim('C2', 200)).thenMatches([{ type: 'MdfClaimSubmitted', data: { amount: usd(200) } }]);
    spec.given(allocated, requested(), approved, submitted, partly).when(claim('C2', 201)).thenThrows(RuleViolation);
  });

  it('releases, past the deadline, what no claim holds, and gives it back to available', () => {
    const release = (asOf: string): MdfCommand => ({ type: 'ReleaseApprovals', data: { asOf } });
    spec.given(allocated, requested(), approved, submitted, partly).when(release('2026-03-01T00:00:00.000Z')).then([]);
    const [released] = spec
      .given(allocated, requested(), approved, submitted, partly)
      .when(release('2026-03-02T00:00:00.000Z'))
      .thenMatches([{ type: 'MdfApprovalReleased', data: { requestId: 'R1', amount: usd(200), claimDeadline: '2026-03-01T00:00:00.000Z' } }]);
    const after = spec.given(allocated, requested(), approved, submitted, partly, released!);
    expect(availableMinor(after.state)).toBe(1000 - 500 + 200);
    // Nothing more to release, and nothing left to claim.
    after.when(release('2026-04-01T00:00:00.000Z')).then([]);
  });
});

describe('budgets per period', () => {
  const budgets = deciderSpec(mdfBudgetDecider, NOW);
  const set = (amountMinor: number) => ({ type: 'SetBudget' as const, data: { period: '2026-Q1', amount: usd(amountMinor) } });
  const reserved = (amountMinor: number): MdfBudgetEvent => ({ type: 'MdfAllocationReserved', data: { period: '2026-Q1', partnerId: 'P1', fundStreamId: 'mdf-P1.2026-Q1', amount: usd(amountMinor) } });
  const budgetSet = (amountMinor: number): MdfBudgetEvent => ({ type: 'MdfBudgetSet', data: { period: '2026-Q1', amount: usd(amountMinor), setAt: NOW.toISOString() } });
  const wanted = (amountMinor: number) => ({ period: '2026-Q1', partnerId: 'P2', fundStreamId: 'mdf-P2.2026-Q1', amount: usd(amountMinor) });

  it('may be raised or lowered, never below what is allocated (budget-below-allocated); the same budget again is a no-op', () => {
    budgets.given(reserved(400)).when(set(400)).thenMatches([{ type: 'MdfBudgetSet', data: { amount: usd(400) } }]);
    budgets.given(reserved(400)).when(set(399)).thenThrows(NamedRuleViolation, { problemType: 'budget-below-allocated', extensions: { allocatedMinor: 400 } });
    budgets.given(budgetSet(500)).when(set(500)).then([]);
  });

  it('holds allocations of the period within the budget of their currency (budget-exceeded); without one, only within 2^53 − 1', () => {
    expect(decideAllocationReservation(budgets.given(budgetSet(1000), reserved(600)).state, wanted(400))).toHaveLength(1);
    expect(() => decideAllocationReservation(budgets.given(budgetSet(1000), reserved(600)).state, wanted(401))).toThrow(expect.objectContaining({ problemType: 'budget-exceeded', extensions: { budgetMinor: 1000, allocatedMinor: 600, remainingMinor: 400 } }));
    expect(decideAllocationReservation(budgets.given(reserved(600)).state, { ...wanted(10_000), amount: { amountMinor: 10_000, currency: 'EUR' } })).toHaveLength(1);
    expect(() => decideAllocationReservation(budgets.given(reserved(Number.MAX_SAFE_INTEGER)).state, wanted(1))).toThrow(expect.objectContaining({ problemType: 'amount-out-of-range' }));
  });
});
