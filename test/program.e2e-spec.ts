import { DEFAULT_PROGRAM } from '#libs/program/program.js';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

const { version: _v, ...defaults } = DEFAULT_PROGRAM;

describe('tier program, end to end', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('answers the default program (version 0) until one is defined', async () => {
    const r = await t.request('GET', '/v1/tier-program', { key: KEYS.finance });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ version: 0, reportingCurrency: 'USD', protectionDays: 90, maxExtensionDays: 60 });
    expect((r.body.tiers as unknown[]).length).toBe(4);
    expect(r.headers.get('ledger-position')).toMatch(/^\d+$/);
  });

  it('defines versions, is a no-op for the program in force, and new partners start at its lowest tier', async () => {
    const tiers = [
      { name: 'Member', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 500, mdfEligible: false },
      { name: 'Elite', rank: 1, minSourcedRevenueMinor: 1_000_000, minCertifiedSellers: 1, minWonDeals: 1, discountBps: 1500, mdfEligible: true },
    ];
    const v1 = await t.request('PUT', '/v1/tier-program', { body: { ...defaults, protectionDays: 30, tiers }, key: KEYS.ops });
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ version: 1 });
    expect((v1.body.events as { type: string }[])[0]!.type).toBe('TierProgramDefined');
    const again = await t.request('PUT', '/v1/tier-program', { body: { ...defaults, protectionDays: 30, tiers } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ version: 1, events: [] });
    const read = await t.request('GET', '/v1/tier-program');
    expect(read.body).toMatchObject({ version: 1, protectionDays: 30 });
    const p = await t.request('POST', '/v1/partners', { body: { partnerId: 'TP1', name: 'x', type: 'msp', domain: 'tp1.example' } });
    expect(p.status).toBe(201);
    const partner = await t.request('GET', `/v1/partners/TP1?minPosition=${p.body.position}`);
    expect(partner.body.tier).toBe('Member');
  });

  it('refuses invalid programs and other roles, appending nothing', async () => {
    const head = await t.store.headPosition();
    expect((await t.request('PUT', '/v1/tier-program', { body: { ...defaults, tiers: [] } })).status).toBe(400);
    expect((await t.request('PUT', '/v1/tier-program', { body: { ...defaults, lookbackDays: 1.5 } })).status).toBe(400);
    const bad = await t.request('PUT', '/v1/tier-program', { body: { ...defaults, tiers: [{ ...defaults.tiers[0], name: 'A' }, { ...defaults.tiers[1], name: 'A' }] } });
    expect(bad.status).toBe(422);
    expect(bad.body.type).toBe('rule-violation');
    expect((await t.request('PUT', '/v1/tier-program', { body: defaults, key: KEYS.finance })).status).toBe(403);
    expect((await t.request('GET', '/v1/tier-program', { key: KEYS.p1 })).status).toBe(403);
    expect(await t.store.headPosition()).toBe(head);
  });

  describe('a version defined to apply later (effectiveFrom)', () => {
    let u: TestApp;
    const clock = new TestClock(Date.parse('2026-03-01T09:00:00Z'));
    type Body = Record<string, unknown>;
    async function ok(method: string, path: string, body?: unknown): Promise<Body> {
      const r = await u.request<Body>(method, path, { body, key: KEYS.ops });
      if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
      return r.body;
    }
    const get = async (path: string): Promise<Body> => (await u.request<Body>('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${(await u.store.headPosition()).toString()}`, { key: KEYS.ops })).body;
    const deal = (dealId: string, domain: string, extra: Body = {}): Body => ({
      dealId, partnerId: 'E1', customer: { name: domain, domain }, products: ['CRM'], estimatedValue: { amountMinor: 100_000, currency: 'USD' }, expectedCloseDate: '2026-12-31', ...extra,
    });
    // Registered is MDF eligible here, so that an MDF request can be approved without a promotion.
    const tiers = defaults.tiers.map((x) => (x.rank === 0 ? { ...x, mdfEligible: true } : x));
    beforeAll(async () => {
      u = await startApp({ clock });
    });
    afterAll(async () => {
      await u.close();
      removeDir(u.dataDir);
    });

    it('is shown as pending, and deal registration and MDF use the version effective at their business time', async () => {
      await ok('PUT', '/v1/tier-program', { ...defaults, tiers, protectionDays: 30, mdfClaimDays: 20 });
      await ok('PUT', '/v1/tier-program', { ...defaults, tiers, protectionDays: 60, mdfClaimDays: 10, effectiveFrom: '2026-04-01' });
      // A version defined later that starts later still: both are pending, in the order they will apply.
      await ok('PUT', '/v1/tier-program', { ...defaults, tiers, protectionDays: 45, mdfClaimDays: 10, effectiveFrom: '2026-05-01' });
      const march = await get('/v1/tier-program');
      expect(march).toMatchObject({ version: 1, protectionDays: 30, effectiveFrom: '2026-03-01T09:00:00.000Z', definedAt: '2026-03-01T09:00:00.000Z' });
      expect((march.pending as Body[]).map((p) => [p.version, p.effectiveFrom, p.protectionDays])).toEqual([
        [2, '2026-04-01T00:00:00.000Z', 60],
        [3, '2026-05-01T00:00:00.000Z', 45],
      ]);
      // Re-sending the last version defined is a no-op that names it.
      expect(await ok('PUT', '/v1/tier-program', { ...defaults, tiers, protectionDays: 45, mdfClaimDays: 10, effectiveFrom: '2026-05-01' })).toMatchObject({ version: 3, events: [] });
      // A new reporting currency cannot wait for a later date: money reads the currency of the version in force.
      const head = await u.store.headPosition();
      const deferred = await u.request<Body>('PUT', '/v1/tier-program', { body: { ...defaults, tiers, reportingCurrency: 'EUR', effectiveFrom: '2026-06-01' }, key: KEYS.ops });
      expect({ status: deferred.status, type: deferred.body.type }).toEqual({ status: 422, type: 'reporting-currency-change-deferred' });
      expect(await u.store.headPosition()).toBe(head);

      await ok('POST', '/v1/partners', { partnerId: 'E1', name: 'E1', type: 'reseller', domain: 'e1-eff.example' });
      await ok('POST', '/v1/partners/E1/activate', {});
      // March: version 1 protects for 30 days.
      await ok('POST', '/v1/deals', deal('EF-1', 'march-eff.example'));
      expect(await ok('POST', '/v1/deals/EF-1/approve', {})).toMatchObject({ programVersion: 1, protectedUntil: '2026-03-31T09:00:00.000Z' });
      await ok('POST', '/v1/mdf/allocations', { partnerId: 'E1', period: '2026-Q2', amount: { amountMinor: 100_000, currency: 'USD' } });
      await ok('POST', '/v1/mdf/requests', { requestId: 'EF-R1', partnerId: 'E1', period: '2026-Q2', activity: 'Webinar', amount: { amountMinor: 10_000, currency: 'USD' } });
      await ok('POST', '/v1/mdf/requests/EF-R1/approve', {});
      expect(await get('/v1/mdf/requests/EF-R1')).toMatchObject({ claimDeadline: '2026-03-21T09:00:00.000Z' });

      // April: version 2 is in force (60 days, claims within 10 days); version 3 is still pending.
      clock.set('2026-04-02T09:00:00Z');
      const april = await get('/v1/tier-program');
      expect(april).toMatchObject({ version: 2, protectionDays: 60, effectiveFrom: '2026-04-01T00:00:00.000Z' });
      expect((april.pending as Body[]).map((p) => p.version)).toEqual([3]);
      await ok('POST', '/v1/deals', deal('EF-2', 'april-eff.example'));
      expect(await ok('POST', '/v1/deals/EF-2/approve', {})).toMatchObject({ programVersion: 2, protectedUntil: '2026-06-01T09:00:00.000Z' });
      await ok('POST', '/v1/mdf/requests', { requestId: 'EF-R2', partnerId: 'E1', period: '2026-Q2', activity: 'Roadshow', amount: { amountMinor: 10_000, currency: 'USD' } });
      await ok('POST', '/v1/mdf/requests/EF-R2/approve', {});
      expect(await get('/v1/mdf/requests/EF-R2')).toMatchObject({ claimDeadline: '2026-04-12T09:00:00.000Z' });
      // A registration backdated to March (entered by channel ops) is registered under the version of March.
      await ok('POST', '/v1/deals', deal('EF-3', 'backdated-eff.example', { registeredAt: '2026-03-15T12:00:00Z' }));
      const stream = await u.request<{ items: { type: string; data: Body }[] }>('GET', '/v1/audit/streams/customer-backdated-eff.example', { key: KEYS.auditor });
      expect(stream.body.items.find((e) => e.type === 'DealRegistered')!.data).toMatchObject({ dealId: 'EF-3', programVersion: 1 });

      // May: version 3, nothing pending (the field is absent).
      clock.set('2026-05-01T00:00:00Z');
      const may = await get('/v1/tier-program');
      expect(may).toMatchObject({ version: 3, protectionDays: 45 });
      expect(may.pending).toBeUndefined();
    });
  });
});
