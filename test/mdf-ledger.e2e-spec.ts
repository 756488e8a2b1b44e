import type { MdfBudgetEvent, MdfEvent } from '#events/mdf.js';
import { evolveBudget, mdfBudgetInitialState, type BudgetState } from '#libs/mdf/budget.js';
import { fundDecider, fundInvariantViolations, type FundState } from '#libs/mdf/fund.js';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });
const PROGRAM = {
  reportingCurrency: 'USD',
  lookbackDays: 365,
  downgradeGraceDays: 90,
  protectionDays: 90,
  maxExtensionDays: 60,
  dealRegistrationDiscountBps: 1000,
  mdfClaimDays: 30,
  tiers: [{ name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: true }],
};

/** A small deterministic generator, so a failing run can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Issue 19, MDF side: claim deadlines, release runs, partial claim approval, budgets per period, the request view;
 * and the fund and budget invariants of DOMAIN.md at every position of a log written with 64 commands in flight.
 */
describe('MDF as a fund ledger, end to end', () => {
  let t: TestApp;
  const clock = new TestClock();
  const post = (path: string, body: unknown, key: string = KEYS.ops) => t.request<Body>('POST', path, { body, key });
  const refuses = async (method: string, path: string, body: unknown, status: number, type: string, key: string = KEYS.ops) => {
    const head = await t.store.headPosition();
    const r = await t.request<Body>(method, path, { body, key });
    expect({ path, status: r.status, type: r.body.type }).toEqual({ path, status, type });
    expect(await t.store.headPosition()).toBe(head);
    return r;
  };
  const get = async <T = Body>(path: string, key: string = KEYS.finance) => {
    const head = await t.store.headPosition();
    return t.request<T>('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${head}`, { key });
  };

  beforeAll(async () => {
    clock.set('2026-01-05T09:00:00Z');
    t = await startApp({ clock });
    expect((await t.request('PUT', '/v1/tier-program', { body: PROGRAM, key: KEYS.ops })).status).toBe(200);
    for (const id of ['P1', 'P2', 'P3', 'P4']) {
      expect((await post('/v1/partners', { partnerId: id, name: `Partner ${id}`, type: 'reseller', domain: `fundledger-${id.toLowerCase()}.example` })).status).toBe(201);
      expect((await post(`/v1/partners/${id}/activate`, {})).status).toBe(200);
    }
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('dates claims by the deadline, frees what a partial claim approval leaves, releases lapsed approvals, and shows the request', async () => {
    expect((await post('/v1/mdf/allocations', { partnerId: 'P1', period: '2026-Q1', amount: usd(1000_00) })).status).toBe(201);
    expect((await post('/v1/mdf/requests', { requestId: 'R-1', partnerId: 'P1', period: '2026-Q1', activity: 'Roadshow', amount: usd(600_00), activityEndsAt: '2026-02-15' }, KEYS.p1 as string)).status).toBe(
      201,
    );
    expect((await post('/v1/mdf/requests/R-1/approve', { amount: usd(500_00) })).status).toBe(200);
    // Claims are due by activityEndsAt + mdfClaimDays (30).
    expect((await get('/v1/mdf/requests/R-1')).body).toMatchObject({ status: 'approved', approvedMinor: 500_00, claimDeadline: '2026-03-17T00:00:00.000Z', activityEndsAt: '2026-02-15T00:00:00.000Z' });
    expect((await post('/v1/mdf/requests/R-1/claims', { claimId: 'CL-1', amount: usd(500_00), proofOfPerformance: ['https://proof.example/1'] })).status).toBe(201);
    // Approved in part: the 200 left may be claimed again.
    expect((await post('/v1/mdf/claims/CL-1/approve', { amount: usd(300_00) })).status).toBe(200);
    expect((await post('/v1/mdf/requests/R-1/claims', { claimId: 'CL-2', amount: usd(150_00), proofOfPerformance: ['https://proof.example/2'] })).status).toBe(201);
    await refuses('POST', '/v1/mdf/requests/R-1/claims', { claimId: 'CL-3', amount: usd(50_01), proofOfPerformance: ['x'] }, 422, 'rule-violation');
    // After the deadline: no more claims.
    clock.set('2026-03-18T00:00:00Z');
    await refuses('POST', '/v1/mdf/requests/R-1/claims', { claimId: 'CL-4', amount: usd(1), proofOfPerformance: ['x'] }, 422, 'claim-deadline-passed');
    // A release run before the deadline releases nothing; after it, what no claim holds (500 − 300 − 150 pending).
    expect((await post('/v1/mdf/releases', { asOf: '2026-03-01' })).body).toMatchObject({ released: [] });
    const run = await post('/v1/mdf/releases', { asOf: '2026-03-18' });
    expect(run.status).toBe(200);
    expect(run.body.released).toEqual([{ requestId: 'R-1', partnerId: 'P1', period: '2026-Q1', amountMinor: 50_00, currency: 'USD' }]);
    // The pending claim is rejected: its 150 are freed, and the next run releases them too.
    expect((await post('/v1/mdf/claims/CL-2/reject', { reason: 'no proof' })).status).toBe(200);
    expect(((await post('/v1/mdf/releases', { asOf: '2026-03-19' })).body.released as Body[]).map((r) => r.amountMinor)).toEqual([150_00]);
    expect((await get('/v1/mdf/requests/R-1')).body).toMatchObject({ approvedMinor: 500_00, releasedMinor: 200_00, claimedMinor: 300_00, claimApprovedMinor: 300_00, paidMinor: 0 });
    const fund = (await get<{ items: Body[] }>('/v1/mdf/funds?partnerId=P1')).body.items[0];
    expect(fund).toMatchObject({ allocatedMinor: 1000_00, approvedMinor: 500_00, releasedMinor: 200_00, availableMinor: 700_00 });
    // A partner key sees its own request only.
    expect((await t.request('GET', '/v1/mdf/requests/R-1', { key: KEYS.p2 })).status).toBe(404);
    expect((await t.request('GET', '/v1/mdf/requests/NOPE', { key: KEYS.finance })).status).toBe(404);
    clock.set('2026-01-05T09:00:00Z');
  });

  it('needs an active partner to claim; paying an approved claim does not', async () => {
    expect((await post('/v1/mdf/allocations', { partnerId: 'P2', period: '2026-Q1', amount: usd(100_00) })).status).toBe(201);
    expect((await post('/v1/mdf/requests', { requestId: 'R-2', partnerId: 'P2', period: '2026-Q1', activity: 'Ads', amount: usd(100_00) })).status).toBe(201);
    expect((await post('/v1/mdf/requests/R-2/approve', {})).status).toBe(200);
    expect((await post('/v1/mdf/requests/R-2/claims', { claimId: 'CL-21', amount: usd(50_00), proofOfPerformance: ['x'] })).status).toBe(201);
    expect((await post('/v1/mdf/claims/CL-21/approve', {})).status).toBe(200);
    expect((await post('/v1/partners/P2/suspend', { reason: 'audit' })).status).toBe(200);
    await refuses('POST', '/v1/mdf/requests/R-2/claims', { claimId: 'CL-22', amount: usd(10_00), proofOfPerformance: ['x'] }, 422, 'rule-violation');
    expect((await post('/v1/mdf/claims/CL-21/pay', { paidAt: '2026-02-01', reference: 'W-21' })).status).toBe(200);
    expect((await post('/v1/partners/P2/reinstate', { reason: 'cleared' })).status).toBe(200);
  });

  it('keeps allocations of a period within its budget, never lowered below what is allocated', async () => {
    const set = (period: string, amountMinor: number, key: string = KEYS.finance) => t.request<Body>('PUT', `/v1/mdf/budgets/${period}`, { body: { amount: usd(amountMinor) }, key });
    expect((await set('2026-Q2', 500_00)).status).toBe(200);
    expect((await post('/v1/mdf/allocations', { partnerId: 'P1', period: '2026-Q2', amount: usd(300_00) })).status).toBe(201);
    const over = await refuses('POST', '/v1/mdf/allocations', { partnerId: 'P2', period: '2026-Q2', amount: usd(200_01) }, 422, 'budget-exceeded');
    expect(over.body).toMatchObject({ budgetMinor: 500_00, allocatedMinor: 300_00, remainingMinor: 200_00 });
    await refuses('PUT', '/v1/mdf/budgets/2026-Q2', { amount: usd(299_99) }, 422, 'budget-below-allocated', KEYS.finance);
    expect((await set('2026-Q2', 300_00)).status).toBe(200);
    await refuses('POST', '/v1/mdf/allocations', { partnerId: 'P2', period: '2026-Q2', amount: usd(1) }, 422, 'budget-exceeded');
    expect((await set('2026-Q2', 800_00)).status).toBe(200);
    expect((await post('/v1/mdf/allocations', { partnerId: 'P2', period: '2026-Q2', amount: usd(500_00) })).status).toBe(201);
    expect((await get<{ items: Body[] }>('/v1/mdf/budgets?period=2026-Q2')).body.items).toEqual([{ period: '2026-Q2', currency: 'USD', budgetMinor: 800_00, allocatedMinor: 800_00, remainingMinor: 0 }]);
    // Finance's CSV exports: the same rows, each with its currency.
    const head = await t.store.headPosition();
    const budgetsCsv = await t.request('GET', `/v1/mdf/budgets?period=2026-Q2&minPosition=${head}`, { key: KEYS.finance, headers: { accept: 'text/csv' } });
    expect(budgetsCsv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(budgetsCsv.text).toBe('period,currency,budgetMinor,allocatedMinor,remainingMinor\r\n2026-Q2,USD,80000,80000,0\r\n');
    const fundsCsv = await t.request('GET', `/v1/mdf/funds?period=2026-Q2&minPosition=${head}`, { key: KEYS.finance, headers: { accept: 'text/csv' } });
    expect(fundsCsv.text.split('\r\n')).toEqual([
      'partnerId,period,currency,allocatedMinor,approvedMinor,releasedMinor,claimedMinor,paidMinor,availableMinor',
      'P1,2026-Q2,USD,30000,0,0,0,0,30000',
      'P2,2026-Q2,USD,50000,0,0,0,0,50000',
      '',
    ]);
    expect((await set('2026-13', 1)).status).toBe(400);
    expect((await t.request('PUT', '/v1/mdf/budgets/2026-Q2', { body: { amount: usd(1) }, key: KEYS.p1 })).status).toBe(403);
  });

  it('holds the fund and budget invariants at every position of the log, with 64 commands in flight', async () => {
    const random = lcg(19);
    const partners = ['P1', 'P2', 'P3', 'P4'];
    const period = '2026-Q3';
    expect((await t.request('PUT', `/v1/mdf/budgets/${period}`, { body: { amount: usd(2000_00) }, key: KEYS.finance })).status).toBe(200);
    const requests: string[] = [];
    const claims: string[] = [];
    let n = 0;
    const command = (): Promise<unknown> => {
      const i = n++;
      const p = partners[Math.floor(random() * partners.length)]!;
      const roll = random();
      const amount = usd(1 + Math.floor(random() * 300_00));
      if (roll < 0.2) return post('/v1/mdf/allocations', { partnerId: p, period, amount });
      if (roll < 0.45) {
        const id = `RQ-${i}`;
        requests.push(id);
        return post('/v1/mdf/requests', { requestId: id, partnerId: p, period, activity: 'Campaign', amount });
      }
      const pick = (xs: string[]) => xs[Math.floor(random() * xs.length)] ?? 'none';
      if (roll < 0.65) return post(`/v1/mdf/requests/${pick(requests)}/approve`, random() < 0.5 ? {} : { amount: usd(1 + Math.floor(random() * 200_00)) });
      if (roll < 0.8) {
        const id = `CQ-${i}`;
        claims.push(id);
        return post(`/v1/mdf/requests/${pick(requests)}/claims`, { claimId: id, amount: usd(1 + Math.floor(random() * 150_00)), proofOfPerformance: ['x'] });
      }
      if (roll < 0.88) return post(`/v1/mdf/claims/${pick(claims)}/approve`, random() < 0.5 ? {} : { amount: usd(1 + Math.floor(random() * 100_00)) });
      if (roll < 0.92) return post(`/v1/mdf/claims/${pick(claims)}/reject`, { reason: 'no proof' });
      if (roll < 0.96) return post('/v1/mdf/releases', { asOf: random() < 0.5 ? '2026-01-01' : '2027-01-01' });
      return t.request('PUT', `/v1/mdf/budgets/${period}`, { body: { amount: usd(1000_00 + Math.floor(random() * 3000_00)) }, key: KEYS.finance });
    };
    // 256 commands, 64 in flight at any time.
    const total = 256;
    const workers = Array.from({ length: 64 }, async () => {
      while (n < total) {
        const r = (await command()) as { status: number };
        expect(r.status).toBeLessThan(500);
      }
    });
    await Promise.all(workers);

    // Replay the whole log: after every event, every fund and every budget holds.
    const funds = new Map<string, FundState>();
    const budgets = new Map<string, BudgetState>();
    const allocated = new Map<string, number>();
    let checked = 0;
    for await (const e of t.store.readAll()) {
      if (e.streamId.startsWith('mdf-')) {
        const next = fundDecider.evolve(funds.get(e.streamId) ?? fundDecider.initialState(), { type: e.type, data: e.data } as MdfEvent);
        funds.set(e.streamId, next);
        expect({ position: e.position, broken: fundInvariantViolations(next) }).toEqual({ position: e.position, broken: [] });
        if (e.type === 'MdfFundsAllocated') {
          const d = e.data as { period: string; amount: { amountMinor: number; currency: string } };
          const key = `${d.period} ${d.amount.currency}`;
          allocated.set(key, (allocated.get(key) ?? 0) + d.amount.amountMinor);
        }
      } else if (e.streamId.startsWith('mdfbudget-')) {
        budgets.set(e.streamId, evolveBudget(budgets.get(e.streamId) ?? mdfBudgetInitialState(), { type: e.type, data: e.data } as MdfBudgetEvent));
      } else continue;
      checked++;
      // Σ allocated(period) ≤ budget, for every period and currency with a budget, at this position.
      for (const [streamId, b] of budgets) {
        const p = streamId.slice('mdfbudget-'.length);
        for (const [currency, budget] of b.budgets) expect({ position: e.position, p, ok: (allocated.get(`${p} ${currency}`) ?? 0) <= budget }).toEqual({ position: e.position, p, ok: true });
      }
    }
    expect(checked).toBeGreaterThan(100);
    // The run did exercise the rules it checks.
    const types = new Set<string>();
    for await (const e of t.store.readAll({ filter: { streamPrefixes: ['mdf-', 'mdfbudget-'] } })) types.add(e.type);
    expect([...types].sort()).toEqual(expect.arrayContaining(['MdfAllocationReserved', 'MdfApproved', 'MdfBudgetSet', 'MdfClaimSubmitted', 'MdfFundsAllocated', 'MdfRequested']));
  });
});

