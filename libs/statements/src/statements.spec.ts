import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import { AlreadyExists, InvalidInput } from '#libs/kernel/errors.js';
import { changedLeaves, statementContent, statementSubjects, type StatementSourceEvent } from './content.js';
import { periodBounds, requirePeriod } from './period.js';
import { statementDecider, type IssueStatement } from './statement.js';

let position = 0n;
const ev = (type: string, data: unknown, recordedAt = '2026-06-01T00:00:00.000Z'): StatementSourceEvent => ({ type, data, position: (position += 1n), metadata: { recordedAt } });
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

const history = (): StatementSourceEvent[] => [
  ev('TierProgramDefined', { version: 1, reportingCurrency: 'USD' }),
  ev('PartnerEnrolled', { partnerId: 'P1', tier: 'Registered', enrolledAt: '2026-01-05T00:00:00.000Z' }),
  ev('PartnerEnrolled', { partnerId: 'P2', tier: 'Registered', enrolledAt: '2026-01-05T00:00:00.000Z' }),
  ev('PartnerTierChanged', { partnerId: 'P1', from: 'Registered', to: 'Gold', kind: 'promotion', asOf: '2026-02-15T00:00:00.000Z', programVersion: 1 }),
  ev('DealRegistered', { dealId: 'D1', partnerId: 'P1', registeredAt: '2026-01-10T00:00:00.000Z' }),
  ev('DealRegistrationApproved', { dealId: 'D1', partnerId: 'P1', approvedAt: '2026-01-11T00:00:00.000Z' }),
  ev('DealWon', { dealId: 'D1', partnerId: 'P1', amount: usd(10_000), closedAt: '2026-02-01T00:00:00.000Z' }),
  ev('DealRegistered', { dealId: 'D2', partnerId: 'P2', registeredAt: '2026-01-10T00:00:00.000Z' }),
  ev('RevenueAttributed', {
    attributionId: 'A1',
    reportingCurrency: 'USD',
    recognizedAt: '2026-02-02T00:00:00.000Z',
    allocations: [
      { partnerId: 'P1', type: 'sourced', amountMinor: 7_000 },
      { partnerId: 'P2', type: 'sourced', amountMinor: 3_000 },
      { partnerId: 'P1', type: 'influenced', amountMinor: 10_000 },
    ],
  }),
  // Another quarter: not in Q1.
  ev('RevenueAttributed', { attributionId: 'A2', reportingCurrency: 'USD', recognizedAt: '2026-04-02T00:00:00.000Z', allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor: 99 }] }),
  ev('MdfFundsAllocated', { partnerId: 'P1', period: '2026-Q1', amount: usd(5_000), allocatedAt: '2026-01-20T00:00:00.000Z' }),
  ev('MdfClaimPaid', { partnerId: 'P1', period: '2026-Q1', amount: usd(1_000), paidAt: '2026-03-20T00:00:00.000Z' }),
  ev('CommissionAccrued', { partnerId: 'P1', amountMinor: 500, recognizedAt: '2025-12-01T00:00:00.000Z' }),
  ev('CommissionAccrued', { partnerId: 'P1', amountMinor: 700, recognizedAt: '2026-02-02T00:00:00.000Z' }),
  ev('PayoutLinePaid', { partnerId: 'P1', amountMinor: 400, paidAt: '2026-03-01T00:00:00.000Z' }),
  ev('CommissionClawedBack', { partnerId: 'P1', amountMinor: 50, reversedAt: '2026-03-05T00:00:00.000Z' }),
];

describe('statement periods', () => {
  it('takes months and quarters, UTC, half-open', () => {
    expect(periodBounds('2026-03')).toMatchObject({ from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' });
    expect(periodBounds('2026-Q4')).toMatchObject({ from: '2026-10-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' });
    for (const bad of ['2026-13', '2026-Q5', '2026-Q0', '2026', '26-01', '2026-1', ' 2026-01', '1969-12']) expect(periodBounds(bad)).toBeUndefined();
    expect(() => requirePeriod('2026-Q9')).toThrow(InvalidInput);
  });
});

describe('statement content', () => {
  it('sums the period for one partner: tier, revenue, deals, MDF, commissions', () => {
    const r = statementContent(history(), 'P1', '2026-Q1');
    expect(r).toMatchObject({ programVersion: 1, commissionPlanVersion: 0, partnerKnown: true });
    expect(r.content).toEqual({
      format: 'channel-ledger/statement/1',
      partnerId: 'P1',
      period: '2026-Q1',
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-04-01T00:00:00.000Z',
      reportingCurrency: 'USD',
      tier: {
        atStart: null,
        atEnd: 'Gold',
        changes: [
          { at: '2026-01-05T00:00:00.000Z', from: null, to: 'Registered', kind: 'enrolled' },
          { at: '2026-02-15T00:00:00.000Z', from: 'Registered', to: 'Gold', kind: 'promotion' },
        ],
      },
      revenue: { sourced: { attributedMinor: 7_000, reversedMinor: 0, netMinor: 7_000 }, influenced: { attributedMinor: 10_000, reversedMinor: 0, netMinor: 10_000 }, attributions: 1 },
      deals: { registered: 1, approved: 1, rejected: 0, expired: 0, won: 1, lost: 0, wonMinor: { USD: 10_000 } },
      mdf: { USD: { allocatedMinor: 5_000, approvedMinor: 0, releasedMinor: 0, claimedMinor: 0, claimApprovedMinor: 0, paidMinor: 1_000 } },
      // Opening 500 (accrued before the quarter); 700 accrued, 50 clawed back (record time), 400 paid.
      commissions: { openingMinor: 500, accruedMinor: 700, clawedBackMinor: 50, paidMinor: 400, closingMinor: 750 },
    });
  });

  it('is all zeros for a partner with nothing in the period, and knows an unknown partner', () => {
    const r = statementContent(history(), 'P1', '2025-07');
    expect(r.content.commissions).toEqual({ openingMinor: 0, accruedMinor: 0, clawedBackMinor: 0, paidMinor: 0, closingMinor: 0 });
    expect(r.content.tier).toEqual({ atStart: null, atEnd: null, changes: [] });
    expect(statementContent(history(), 'P9', '2026-Q1').partnerKnown).toBe(false);
  });

  it('a late reversal dated in the period changes exactly the reversed and net lines', () => {
    const before = statementContent(history(), 'P1', '2026-Q1').content;
    const later = [
      ...history(),
      ev('RevenueAttributionReversed', {
        attributionId: 'A1',
        reportingCurrency: 'USD',
        reversedAt: '2026-03-30T00:00:00.000Z',
        allocations: [
          { partnerId: 'P1', type: 'sourced', amountMinor: 700 },
          { partnerId: 'P2', type: 'sourced', amountMinor: 300 },
        ],
      }),
    ];
    const after = statementContent(later, 'P1', '2026-Q1').content;
    expect(changedLeaves(before, after)).toEqual([
      { path: 'revenue.sourced.netMinor', issued: 7_000, now: 6_300 },
      { path: 'revenue.sourced.reversedMinor', issued: 0, now: 700 },
    ]);
    expect(changedLeaves(before, before)).toEqual([]);
  });

  it('lists a leaf present on one side only against null', () => {
    expect(changedLeaves({ mdf: {} }, { mdf: { USD: { paidMinor: 1 } } })).toEqual([
      { path: 'mdf', issued: {}, now: null },
      { path: 'mdf.USD.paidMinor', issued: null, now: 1 },
    ]);
  });
});

describe('statement subjects (the per-partner index)', () => {
  it('names the partners an event can change a statement of, or every one for the policy', () => {
    expect(statementSubjects('TierProgramDefined', { version: 1 })).toBe('policy');
    expect(statementSubjects('CommissionPlanDefined', { version: 2 })).toBe('policy');
    expect(statementSubjects('DealWon', { partnerId: 'P1' })).toEqual(['P1']);
    expect(statementSubjects('RevenueAttributed', { allocations: [{ partnerId: 'P2' }, { partnerId: 'P1' }, { partnerId: 'P2' }] })).toEqual(['P2', 'P1']);
    expect(statementSubjects('RevenueAttributionReversed', { allocations: [{ partnerId: 'P3' }] })).toEqual(['P3']);
    // Not a source type, or naming no partner: no statement reads it.
    expect(statementSubjects('DealIdClaimed', { partnerId: 'P1' })).toEqual([]);
    expect(statementSubjects('DealWon', { dealId: 'D1' })).toEqual([]);
    expect(statementSubjects('DealWon', null)).toEqual([]);
  });

  it('a partner\'s statement is the fold of its own and the policy events only', () => {
    const events = history();
    const own = (p: string) => events.filter((e) => {
      const s = statementSubjects(e.type, e.data);
      return s === 'policy' || s.includes(p);
    });
    for (const p of ['P1', 'P2', 'P9']) expect(statementContent(own(p), p, '2026-Q1')).toEqual(statementContent(events, p, '2026-Q1'));
  });
});

describe('statement decider', () => {
  const spec = deciderSpec(statementDecider, new Date('2026-04-02T00:00:00.000Z'));
  const statement: IssueStatement['statement'] = {
    statementId: 'S1',
    partnerId: 'P1',
    period: '2026-Q1',
    position: '10',
    digest: { size: 10, rootHash: 'a'.repeat(64) },
    programVersion: 1,
    commissionPlanVersion: 0,
    content: statementContent(history(), 'P1', '2026-Q1').content,
    contentHash: 'b'.repeat(64),
    signature: 'c2ln',
    verifierKey: 'k+00000000+AA',
  };
  const issued = { type: 'PartnerStatementIssued' as const, data: { ...statement, issuedAt: '2026-04-01T00:00:00.000Z' } };

  it('issues once; the same id for the same partner and period is a no-op, for another a 409', () => {
    spec.given().when({ statement }).then([{ type: 'PartnerStatementIssued', data: { ...statement, issuedAt: '2026-04-02T00:00:00.000Z' } }]);
    spec.given(issued).when({ statement: { ...statement, position: '99' } }).then([]);
    spec.given(issued).when({ statement: { ...statement, period: '2026-Q2' } }).thenThrows(AlreadyExists);
    spec.given(issued).when({ statement: { ...statement, partnerId: 'P2' } }).thenThrows(AlreadyExists);
  });
});
