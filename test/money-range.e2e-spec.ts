import fc from 'fast-check';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
const MAX = Number.MAX_SAFE_INTEGER;

/**
 * Issue 19: "a property test drives random large amounts through every money path and asserts no query ever
 * answers 500". Random sequences of attributions (reporting currency, foreign with a caller amount or a published
 * rate, on a won deal), reversals, rate publications, MDF allocations, requests, approvals, claims and budgets, with
 * amounts anywhere up to 2^53 − 1; after each command every money query answers below 500, and every command
 * answers 2xx, 4xx problem, never 500.
 */
describe('random large amounts through every money path', () => {
  let t: TestApp;
  const clock = new TestClock();
  let seq = 0;

  beforeAll(async () => {
    clock.set('2026-06-01T09:00:00Z');
    t = await startApp({ clock });
    const program = {
      reportingCurrency: 'USD',
      lookbackDays: 365,
      downgradeGraceDays: 90,
      protectionDays: 90,
      maxExtensionDays: 60,
      dealRegistrationDiscountBps: 1000,
      tiers: [{ name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: true }],
    };
    expect((await t.request('PUT', '/v1/tier-program', { body: program, key: KEYS.ops })).status).toBe(200);
    for (const id of ['P1', 'P2']) {
      expect((await t.request('POST', '/v1/partners', { body: { partnerId: id, name: id, type: 'reseller', domain: `range-${id.toLowerCase()}.example` } })).status).toBe(201);
      expect((await t.request('POST', `/v1/partners/${id}/activate`)).status).toBe(200);
    }
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  const amountArb = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: MAX - 1000, max: MAX }), fc.integer({ min: 1, max: MAX }));
  const currencyArb = fc.constantFrom('USD', 'EUR', 'JPY');
  const rateArb = fc.constantFrom('1.0834', '0.00667', '151.2', '99999999999.9', '0.000000000001');

  type Step = (n: number) => Promise<{ status: number; path: string }>;
  const post = async (path: string, body: unknown, key: string = KEYS.admin, method = 'POST') => ({ status: (await t.request(method, path, { body, key })).status, path });

  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ amount: amountArb, currency: currencyArb, caller: fc.option(amountArb, { nil: undefined }), p: fc.constantFrom('P1', 'P2') }).map(
      ({ amount, currency, caller, p }): Step =>
        (n) =>
          post(
            '/v1/revenue-attributions',
            {
              attributionId: `RA-${n}`,
              amount: { amountMinor: amount, currency },
              ...(caller !== undefined && currency !== 'USD' ? { reportingAmountMinor: caller } : {}),
              recognizedAt: '2026-05-15',
              credits: [{ partnerId: p, type: 'sourced', shareBps: 10_000 }],
            },
            KEYS.finance,
          ),
    ),
    fc.record({ amount: amountArb, of: fc.nat() }).map(({ amount, of }): Step => () => post(`/v1/revenue-attributions/RA-${of % Math.max(1, seq)}/reverse`, { amountMinor: amount, reason: 'refund', reversedAt: '2026-05-20' }, KEYS.finance)),
    fc.record({ currency: fc.constantFrom('EUR', 'JPY'), rate: rateArb }).map(({ currency, rate }): Step => () => post('/v1/exchange-rates', { currency, date: '2026-01-01', rate, source: 'fuzz' }, KEYS.finance)),
    fc.record({ amount: amountArb, won: amountArb }).map(
      ({ amount, won }): Step =>
        async (n) => {
          const dealId = `RD-${n}`;
          const reg = await post('/v1/deals', { dealId, partnerId: 'P1', customer: { name: dealId, domain: `${dealId.toLowerCase()}.example` }, products: ['X'], estimatedValue: { amountMinor: won, currency: 'USD' }, expectedCloseDate: '2026-09-30' }, KEYS.ops);
          if (reg.status >= 500) return reg;
          await post(`/v1/deals/${dealId}/approve`, {}, KEYS.ops);
          const w = await post(`/v1/deals/${dealId}/won`, { amount: { amountMinor: won, currency: 'USD' }, closedAt: '2026-05-10' }, KEYS.ops);
          if (w.status >= 500) return w;
          return post('/v1/revenue-attributions', { attributionId: `RDA-${n}`, dealId, amount: { amountMinor: amount, currency: 'USD' }, recognizedAt: '2026-05-15', credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10_000 }] }, KEYS.finance);
        },
    ),
    fc.record({ amount: amountArb, p: fc.constantFrom('P1', 'P2') }).map(({ amount, p }): Step => () => post('/v1/mdf/allocations', { partnerId: p, period: '2026-Q2', amount: { amountMinor: amount, currency: 'USD' } }, KEYS.ops)),
    fc.record({ amount: amountArb }).map(({ amount }): Step => () => post('/v1/mdf/budgets/2026-Q2', { amount: { amountMinor: amount, currency: 'USD' } }, KEYS.finance, 'PUT')),
    fc.record({ amount: amountArb, p: fc.constantFrom('P1', 'P2') }).map(
      ({ amount, p }): Step =>
        async (n) => {
          const r = await post('/v1/mdf/requests', { requestId: `RQ-${n}`, partnerId: p, period: '2026-Q2', activity: 'fuzz', amount: { amountMinor: amount, currency: 'USD' } }, KEYS.ops);
          if (r.status >= 500) return r;
          await post(`/v1/mdf/requests/RQ-${n}/approve`, {}, KEYS.ops);
          const c = await post(`/v1/mdf/requests/RQ-${n}/claims`, { claimId: `CL-${n}`, amount: { amountMinor: amount, currency: 'USD' }, proofOfPerformance: ['x'] }, KEYS.ops);
          if (c.status >= 500) return c;
          return post(`/v1/mdf/releases`, { asOf: '2027-01-01' }, KEYS.ops);
        },
    ),
  );

  const QUERIES = [
    '/v1/attribution',
    '/v1/attribution?groupBy=quarter',
    '/v1/mdf/funds',
    '/v1/mdf/budgets',
    '/v1/tier-standings',
    '/v1/tier-standings/P1',
    '/v1/exchange-rates',
    '/v1/audit/replay?projection=attribution&asOf=2030-01-01T00:00:00Z',
    '/v1/audit/replay?projection=mdf-funds&asOf=2030-01-01T00:00:00Z',
    '/v1/audit/replay?projection=tier-standings&asOf=2030-01-01T00:00:00Z',
  ];

  it('never answers 500, to a command or to any money query', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 5 }), async (steps) => {
        for (const step of steps) {
          const r = await step(seq++);
          expect({ path: r.path, ok: r.status < 500 }).toEqual({ path: r.path, ok: true });
        }
        const head = await t.store.headPosition();
        for (const q of QUERIES) {
          // (the replay reads the log itself: it takes no minPosition)
          const r = await t.request('GET', q.startsWith('/v1/audit/') ? q : `${q}${q.includes('?') ? '&' : '?'}minPosition=${head}`, { key: KEYS.admin });
          expect({ q, status: r.status }).toEqual({ q, status: 200 });
        }
        const csv = await t.request('GET', `/v1/attribution?minPosition=${head}`, { key: KEYS.finance, headers: { accept: 'text/csv' } });
        expect(csv.status).toBe(200);
        // Every number a report answers is exact: a JSON number within 2^53 − 1 (or an exact decimal string).
        const report = await t.request<{ items: Body[]; totals: Body[] }>('GET', `/v1/attribution?minPosition=${head}&limit=1000`, { key: KEYS.finance });
        for (const row of [...report.body.items, ...report.body.totals]) {
          for (const v of Object.values(row)) if (typeof v === 'number') expect(Number.isSafeInteger(v)).toBe(true);
        }
      }),
      { numRuns: 30 },
    );
  });
});

/**
 * Issue 19, "amount-out-of-range for any command that would push a reported sum past 2^53 − 1", under concurrency:
 * with a sum 1,000 short of the limit, 64 commands of 100 in flight at once: exactly ten are accepted, the others
 * are refused and append nothing, and every read model the commands feed (the attribution report and its totals in
 * both currencies, the tier revenue, the MDF budgets) ends exactly at 2^53 − 1, never past it.
 */
describe('amount-out-of-range with 64 commands in flight', () => {
  let t: TestApp;
  const clock = new TestClock();
  beforeAll(async () => {
    clock.set('2026-06-01T09:00:00Z');
    t = await startApp({ clock });
    const program = {
      reportingCurrency: 'USD', lookbackDays: 365, downgradeGraceDays: 90, protectionDays: 90, maxExtensionDays: 60, dealRegistrationDiscountBps: 1000,
      tiers: [{ name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: true }],
    };
    expect((await t.request('PUT', '/v1/tier-program', { body: program, key: KEYS.ops })).status).toBe(200);
    for (const id of ['P1', 'P2']) {
      expect((await t.request('POST', '/v1/partners', { body: { partnerId: id, name: id, type: 'reseller', domain: `range64-${id.toLowerCase()}.example` } })).status).toBe(201);
      expect((await t.request('POST', `/v1/partners/${id}/activate`)).status).toBe(200);
    }
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  const burst = async (make: (i: number) => { path: string; body: unknown }) => {
    const head = await t.store.headPosition();
    const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => make(i)).map(({ path, body }) => t.request<Body>('POST', path, { body, key: KEYS.admin })));
    const accepted = answers.filter((r) => r.status === 201);
    const refused = answers.filter((r) => r.status !== 201);
    expect(refused.map((r) => [r.status, r.body.type])).toEqual(refused.map(() => [422, 'amount-out-of-range']));
    return { accepted, head };
  };

  it('attributions: ten of 64 fit, and every report ends exactly at 2^53 − 1', async () => {
    expect((await t.request('POST', '/v1/revenue-attributions', { body: { attributionId: 'BASE', amount: { amountMinor: MAX - 1000, currency: 'USD' }, recognizedAt: '2026-05-01', credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10_000 }] }, key: KEYS.finance })).status).toBe(201);
    const { accepted } = await burst((i) => ({
      path: '/v1/revenue-attributions',
      body: { attributionId: `R64-${i}`, amount: { amountMinor: 100, currency: 'USD' }, recognizedAt: '2026-05-02', credits: [{ partnerId: i % 2 ? 'P1' : 'P2', type: 'sourced', shareBps: 10_000 }] },
    }));
    expect(accepted).toHaveLength(10);
    let count = 0;
    for await (const _e of t.store.readAll({ filter: { eventTypes: ['RevenueAttributed'] } })) count++;
    expect(count).toBe(11);
    const head = (await t.store.headPosition()).toString();
    const report = await t.request<{ totals: Body[]; reportingTotals: Body[]; items: Body[] }>('GET', `/v1/attribution?minPosition=${head}`, { key: KEYS.finance });
    expect(report.body.totals).toEqual([expect.objectContaining({ currency: 'USD', sourcedMinor: MAX, netSourcedMinor: MAX })]);
    expect(report.body.reportingTotals).toEqual([expect.objectContaining({ currency: 'USD', sourcedMinor: MAX })]);
    for (const row of report.body.items) for (const v of Object.values(row)) if (typeof v !== 'string') expect(Number.isSafeInteger(v)).toBe(true);
    const standings = await t.request<{ items: Body[] }>('GET', `/v1/tier-standings?asOf=2026-06-02&minPosition=${head}`, { key: KEYS.finance });
    const revenue = standings.body.items.reduce((s, x) => s + BigInt(x.trailingSourcedRevenueMinor as number), 0n);
    expect(revenue).toBe(BigInt(MAX));
  });

  it('MDF allocations of one period: ten of 64 fit, and the budget read ends exactly at 2^53 − 1', async () => {
    expect((await t.request('POST', '/v1/mdf/allocations', { body: { partnerId: 'P1', period: '2026-Q3', amount: { amountMinor: MAX - 1000, currency: 'USD' } }, key: KEYS.admin })).status).toBe(201);
    const { accepted } = await burst((i) => ({ path: '/v1/mdf/allocations', body: { partnerId: i % 2 ? 'P1' : 'P2', period: '2026-Q3', amount: { amountMinor: 100, currency: 'USD' } } }));
    expect(accepted).toHaveLength(10);
    const head = (await t.store.headPosition()).toString();
    const funds = await t.request<{ items: Body[] }>('GET', `/v1/mdf/funds?period=2026-Q3&minPosition=${head}`, { key: KEYS.finance });
    expect(funds.body.items.reduce((s, f) => s + BigInt(f.allocatedMinor as number), 0n)).toBe(BigInt(MAX));
    const budgets = await t.request<{ items: Body[] }>('GET', `/v1/mdf/budgets?period=2026-Q3&minPosition=${head}`, { key: KEYS.finance });
    expect(budgets.status).toBe(200);
    for (const b of budgets.body.items) for (const v of Object.values(b)) if (typeof v === 'number') expect(Number.isSafeInteger(v)).toBe(true);
  });
});
