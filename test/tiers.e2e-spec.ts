import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

describe('tier program, evaluations and standings, end to end', () => {
  let t: TestApp;
  // Record times before the business dates asked about: a standing at asOf answers what was known at asOf.
  const clock = new TestClock(Date.parse('2026-02-20T09:00:00Z'));
  let last = '0';
  async function ok(method: string, path: string, body?: unknown, key: string = KEYS.admin): Promise<Body> {
    const r = await t.request(method, path, { body, key });
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
    last = (r.body.position as string) ?? last;
    return r.body;
  }
  const standing = async (asOf: string) => (await t.request('GET', `/v1/tier-standings/T1?asOf=${asOf}&minPosition=${last}`, { key: KEYS.finance })).body;
  const evaluate = async (asOf: string) => ok('POST', '/v1/tier-evaluations', { asOf }, KEYS.ops);

  beforeAll(async () => {
    t = await startApp({ clock });
    for (const id of ['T1', 'T2']) {
      await ok('POST', '/v1/partners', { partnerId: id, name: id, type: 'reseller', domain: `${id.toLowerCase()}.example` });
      await ok('POST', `/v1/partners/${id}/activate`);
    }
    await ok('POST', '/v1/partners/T1/certifications', { sellerId: 's1', certification: 'Sales', earnedAt: '2025-01-01' });
    await ok('POST', '/v1/partners/T1/certifications', { sellerId: 's2', certification: 'Sales', earnedAt: '2025-01-01', expiresAt: '2026-09-01' });
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('builds a history through the API and reads standings that match the hand computation', async () => {
    await ok('POST', '/v1/deals', { dealId: 'D1T', partnerId: 'T1', customer: { name: 'Acme', domain: 'www.acme-two.example' }, products: ['crm'], estimatedValue: usd(9_000_000), expectedCloseDate: '2025-12-01', registeredAt: '2025-10-01' }, KEYS.ops);
    await ok('POST', '/v1/deals/D1T/approve', {}, KEYS.ops);
    await ok('POST', '/v1/deals/D1T/won', { amount: usd(8_000_000), closedAt: '2025-11-20' }, KEYS.ops);
    // Sourced revenue: 8,000,000 (on the won deal), half of 4,000,000, less a 500,000 refund; influenced never counts.
    await ok('POST', '/v1/revenue-attributions', { attributionId: 'A1', dealId: 'D1T', amount: usd(8_000_000), recognizedAt: '2025-12-01', credits: [{ partnerId: 'T1', type: 'sourced', shareBps: 10_000 }] }, KEYS.finance);
    await ok('POST', '/v1/revenue-attributions', { attributionId: 'A2', amount: usd(4_000_000), recognizedAt: '2026-02-01', credits: [{ partnerId: 'T1', type: 'sourced', shareBps: 5_000 }, { partnerId: 'T2', type: 'sourced', shareBps: 5_000 }] }, KEYS.finance);
    await ok('POST', '/v1/revenue-attributions', { attributionId: 'A3', amount: usd(50_000_000), recognizedAt: '2026-02-01', credits: [{ partnerId: 'T1', type: 'influenced', shareBps: 10_000 }] }, KEYS.finance);
    await ok('POST', '/v1/revenue-attributions/A1/reverse', { amountMinor: 500_000, reason: 'refund', reversedAt: '2026-02-15' }, KEYS.finance);

    // Window [2025-03-01, 2026-03-01]: 8,000,000 + 2,000,000 − 500,000 = 9,500,000: short of Silver's 10,000,000.
    expect(await standing('2026-03-01')).toMatchObject({ currentTier: 'Registered', qualifyingTier: 'Registered', nextTier: 'Silver', trailingSourcedRevenueMinor: 9_500_000, certifiedSellers: 2, wonDeals: 1, shortfall: { revenueMinor: 500_000, certifiedSellers: 0, wonDeals: 0 } });
    // Recognized exactly on the window's last day, it counts.
    await ok('POST', '/v1/revenue-attributions', { attributionId: 'A4', amount: usd(1_000_000), recognizedAt: '2026-03-01', credits: [{ partnerId: 'T1', type: 'sourced', shareBps: 10_000 }] }, KEYS.finance);
    expect(await standing('2026-03-01')).toMatchObject({ qualifyingTier: 'Silver', trailingSourcedRevenueMinor: 10_500_000 });

    const promoted = await evaluate('2026-03-01');
    expect(promoted.changes).toEqual([{ partnerId: 'T1', from: 'Registered', to: 'Silver', kind: 'promotion' }]);
    expect(promoted.evaluated).toBe(2);
    expect((await t.request('GET', `/v1/partners/T1?minPosition=${last}`)).body.tier).toBe('Silver');
    expect((await evaluate('2026-03-01')).changes).toEqual([]);

    // s2's certification expired on 2026-09-01: one certified seller, Silver needs two → downgrade in 90 days.
    const scheduled = await evaluate('2026-09-15');
    expect(scheduled.changes).toEqual([{ partnerId: 'T1', from: 'Silver', to: 'Registered', kind: 'downgrade-scheduled', effectiveAt: '2026-12-14T00:00:00.000Z' }]);
    expect((await evaluate('2026-09-15')).changes).toEqual([]);
    expect(await standing('2026-09-15')).toMatchObject({ currentTier: 'Silver', qualifyingTier: 'Registered', certifiedSellers: 1, trailingSourcedRevenueMinor: 10_500_000, downgradeScheduledFor: '2026-12-14T00:00:00.000Z' });

    // A new seller certified: Silver again before the downgrade was due → cancelled.
    await ok('POST', '/v1/partners/T1/certifications', { sellerId: 's3', certification: 'Sales', earnedAt: '2026-10-01' });
    expect((await evaluate('2026-10-15')).changes).toEqual([{ partnerId: 'T1', from: 'Silver', to: 'Silver', kind: 'downgrade-cancelled' }]);
    expect((await standing('2026-10-15')).downgradeScheduledFor).toBeUndefined();

    // Window [2025-12-20, 2026-12-20]: A1 (2025-12-01) left it; its reversal (2026-02-15) did not: 2,000,000 + 1,000,000 − 500,000.
    expect(await standing('2026-12-20')).toMatchObject({ trailingSourcedRevenueMinor: 2_500_000, wonDeals: 0 });
    expect((await evaluate('2026-12-20')).changes).toEqual([{ partnerId: 'T1', from: 'Silver', to: 'Registered', kind: 'downgrade-scheduled', effectiveAt: '2027-03-20T00:00:00.000Z' }]);
    // Too early: nothing; at the effective date: demoted to what it then qualifies for.
    expect((await evaluate('2027-03-19')).changes).toEqual([]);
    expect((await evaluate('2027-03-20')).changes).toEqual([{ partnerId: 'T1', from: 'Silver', to: 'Registered', kind: 'demotion' }]);
    expect(await standing('2027-03-20')).toMatchObject({ currentTier: 'Registered', trailingSourcedRevenueMinor: 0 });
  });

  it('lists standings by tier and scopes partner keys', async () => {
    const all = await t.request<{ items: Body[] }>('GET', `/v1/tier-standings?tier=Registered&minPosition=${last}`, { key: KEYS.auditor });
    expect(all.status).toBe(200);
    expect(all.body.items.map((s) => s.partnerId)).toEqual(expect.arrayContaining(['T1', 'T2']));
    expect((await t.request('GET', '/v1/tier-standings/T1', { key: KEYS.p1 })).status).toBe(403);
    expect((await t.request('GET', '/v1/tier-standings?partnerId=T1', { key: KEYS.p1 })).status).toBe(403);
    expect((await t.request('POST', '/v1/tier-evaluations', { body: { asOf: '2026-01-01' }, key: KEYS.finance })).status).toBe(403);
    const head = await t.store.headPosition();
    expect((await t.request('POST', '/v1/tier-evaluations', { body: { asOf: 'yesterday' } })).status).toBe(400);
    expect(await t.store.headPosition()).toBe(head);
  });

  it('prices the waterfall: tier discount, the registration layer only for its protected holder, exact sums', async () => {
    await ok('POST', '/v1/tier-evaluations', { asOf: '2026-03-01' }, KEYS.ops); // back to Silver for T1
    await ok('POST', '/v1/deals', { dealId: 'D2', partnerId: 'T1', customer: { name: 'Beta', domain: 'beta.example' }, products: ['crm'], estimatedValue: usd(1), expectedCloseDate: '2026-06-01' }, KEYS.ops);
    await ok('POST', '/v1/deals/D2/approve', {}, KEYS.ops);
    const w = await t.request('GET', `/v1/partners/T1/price-waterfall?listPriceMinor=333&currency=USD&dealId=D2&minPosition=${last}`);
    expect(w.status).toBe(200);
    expect(w.body).toMatchObject({
      listPriceMinor: 333,
      currency: 'USD',
      layers: [
        { kind: 'tier-discount', bps: 1500, amountMinor: 50 },
        { kind: 'deal-registration', bps: 1000, amountMinor: 33 },
      ],
      netMinor: 250,
    });
    const other = await t.request('GET', '/v1/partners/T2/price-waterfall?listPriceMinor=333&currency=USD&dealId=D2');
    expect(other.body).toMatchObject({
      layers: [
        { kind: 'tier-discount', bps: 1000, amountMinor: 33, applies: true },
        { kind: 'deal-registration', bps: 0, amountMinor: 0, applies: false, reason: 'not-registered-by-partner' },
      ],
      netMinor: 300,
    });
    // Past its protection, the registration no longer earns the layer, though the deal still shows approved: the
    // answer says why (issue 20).
    clock.set('2026-12-31T00:00:00Z');
    expect((await t.request<Body>('GET', '/v1/deals/D2')).body.status).toBe('approved');
    const expired = await t.request<{ layers: Body[]; netMinor: number }>('GET', '/v1/partners/T1/price-waterfall?listPriceMinor=333&currency=USD&dealId=D2');
    expect(expired.body.layers).toMatchObject([
      { kind: 'tier-discount', applies: true, amountMinor: 50 },
      { kind: 'deal-registration', applies: false, bps: 0, amountMinor: 0, reason: 'protection-lapsed' },
    ]);
    expect(expired.body.layers[1]!.detail).toContain('protection lapsed');
    expect(expired.body.netMinor).toBe(283);
    const none = await t.request<{ layers: Body[] }>('GET', '/v1/partners/T1/price-waterfall?listPriceMinor=333&currency=USD');
    expect(none.body.layers[1]).toMatchObject({ applies: false, reason: 'no-deal-given' });
    for (const bad of ['listPriceMinor=-1&currency=USD', 'listPriceMinor=1.5&currency=USD', 'listPriceMinor=10&currency=usd', 'listPriceMinor=10&currency=ABC', 'currency=USD']) {
      const r = await t.request('GET', `/v1/partners/T1/price-waterfall?${bad}`);
      expect(r.status).toBe(400);
      expect(r.body.type).toBe('validation-failed');
    }
  });
});
