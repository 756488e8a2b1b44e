import { DEFAULT_PROGRAM } from '#libs/program/program.js';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });
const MAX = Number.MAX_SAFE_INTEGER;

/**
 * Issue 19, attribution side: won deals only, the won-amount cap under concurrency, co-sell, `unregistered`, exchange
 * rates and exact conversion, `amount-out-of-range`, and queries that never answer 500 for stored amounts.
 */
describe('money you can reconcile: attribution integrity and exchange rates', () => {
  let t: TestApp;
  const clock = new TestClock();

  const post = (path: string, body: unknown, key: string = KEYS.finance) => t.request<Body>('POST', path, { body, key });
  const refuses = async (path: string, body: unknown, status: number, type: string, key: string = KEYS.finance) => {
    const head = await t.store.headPosition();
    const r = await post(path, body, key);
    expect({ status: r.status, type: r.body.type }).toEqual({ status, type });
    expect(await t.store.headPosition()).toBe(head);
    return r;
  };
  const attribution = (attributionId: string, over: Body = {}) => ({
    attributionId,
    amount: usd(100_00),
    recognizedAt: '2026-05-20',
    credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10_000 }],
    ...over,
  });
  const winDeal = async (dealId: string, partnerId: string, amount: { amountMinor: number; currency: string }) => {
    const reg = await post(
      '/v1/deals',
      { dealId, partnerId, customer: { name: `Customer of ${dealId}`, domain: `${dealId.toLowerCase()}.example` }, products: ['CRM'], estimatedValue: amount, expectedCloseDate: '2026-09-30' },
      KEYS.ops,
    );
    expect(reg.status).toBe(201);
    expect((await post(`/v1/deals/${dealId}/approve`, {}, KEYS.ops)).status).toBe(200);
    expect((await post(`/v1/deals/${dealId}/won`, { amount, closedAt: '2026-06-15' }, KEYS.ops)).status).toBe(200);
  };

  beforeAll(async () => {
    clock.set('2026-06-01T09:00:00Z');
    t = await startApp({ clock });
    for (const id of ['P1', 'P2', 'P3', 'P4']) {
      expect((await post('/v1/partners', { partnerId: id, name: `Partner ${id}`, type: id === 'P2' ? 'distributor' : 'reseller', domain: `money-${id.toLowerCase()}.example` }, KEYS.ops)).status).toBe(201);
    }
    for (const id of ['P1', 'P2', 'P3']) expect((await post(`/v1/partners/${id}/activate`, {}, KEYS.ops)).status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  describe('a deal', () => {
    beforeAll(async () => {
      await winDeal('D-WON', 'P1', usd(1000_00));
      const reg = await post(
        '/v1/deals',
        { dealId: 'D-APPROVED', partnerId: 'P1', customer: { name: 'Approved only', domain: 'approved-only.example' }, products: ['CRM'], estimatedValue: usd(500_00), expectedCloseDate: '2026-09-30' },
        KEYS.ops,
      );
      expect(reg.status).toBe(201);
      expect((await post('/v1/deals/D-APPROVED/approve', {}, KEYS.ops)).status).toBe(200);
    });

    it('must be won: an approved deal that was never won is refused with deal-not-won', async () => {
      await refuses('/v1/revenue-attributions', attribution('A-NOT-WON', { dealId: 'D-APPROVED' }), 422, 'deal-not-won');
    });

    it('caps its attributions at the won amount, net of reversals (exceeds-won-amount)', async () => {
      expect((await post('/v1/revenue-attributions', attribution('A-CAP-1', { dealId: 'D-WON', amount: usd(600_00) }))).status).toBe(201);
      const over = await refuses('/v1/revenue-attributions', attribution('A-CAP-2', { dealId: 'D-WON', amount: usd(400_01) }), 422, 'exceeds-won-amount');
      expect(over.body).toMatchObject({ wonAmountMinor: 1000_00, attributedMinor: 600_00, remainingMinor: 400_00 });
      // A reversal gives back: what is taken back can be attributed again.
      expect((await post('/v1/revenue-attributions/A-CAP-1/reverse', { amountMinor: 100_00, reason: 'credit note', reversedAt: '2026-05-25' })).status).toBe(200);
      expect((await post('/v1/revenue-attributions', attribution('A-CAP-2', { dealId: 'D-WON', amount: usd(500_00) }))).status).toBe(201);
      await refuses('/v1/revenue-attributions', attribution('A-CAP-3', { dealId: 'D-WON', amount: usd(1) }), 422, 'exceeds-won-amount');
    });

    it('is attributed in the currency it was won in', async () => {
      await refuses('/v1/revenue-attributions', attribution('A-CUR', { dealId: 'D-WON', amount: { amountMinor: 100, currency: 'EUR' }, reportingAmountMinor: 108 }), 422, 'rule-violation');
    });

    it('holds the cap with 64 attributions in flight: exactly the won amount is attributed, never more', async () => {
      await winDeal('D-RACE', 'P1', usd(40_00));
      const results = await Promise.all(
        Array.from({ length: 64 }, (_, i) => post('/v1/revenue-attributions', attribution(`A-RACE-${i}`, { dealId: 'D-RACE', amount: usd(1_00) }))),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(40);
      expect(statuses.filter((s) => s !== 201).every((s) => s === 422)).toBe(true);
      expect(results.filter((r) => r.status === 422).every((r) => r.body.type === 'exceeds-won-amount')).toBe(true);
      let attributed = 0;
      for await (const e of t.store.readAll({ filter: { eventTypes: ['RevenueAttributed'] } })) {
        const d = e.data as { dealId?: string; amount: { amountMinor: number } };
        if (d.dealId === 'D-RACE') attributed += d.amount.amountMinor;
      }
      expect(attributed).toBe(40_00);
    });

    it('shares sourced credit between the registering partner and other active partners (co-sell), never without the registrant', async () => {
      await winDeal('D-COSELL', 'P1', usd(1000_00));
      const cosell = await post(
        '/v1/revenue-attributions',
        attribution('A-COSELL', {
          dealId: 'D-COSELL',
          credits: [
            { partnerId: 'P1', type: 'sourced', shareBps: 6000 },
            { partnerId: 'P2', type: 'sourced', shareBps: 4000 },
          ],
        }),
      );
      expect(cosell.status).toBe(201);
      expect(cosell.body).toMatchObject({ unregistered: false, allocations: [{ partnerId: 'P1', amountMinor: 60_00 }, { partnerId: 'P2', amountMinor: 40_00 }] });
      // Without the registering partner among the sourced credits: refused.
      await refuses('/v1/revenue-attributions', attribution('A-NO-REG', { dealId: 'D-COSELL', credits: [{ partnerId: 'P2', type: 'sourced', shareBps: 10_000 }] }), 422, 'rule-violation');
      // A co-seller must be active (P4 is only enrolled).
      await refuses(
        '/v1/revenue-attributions',
        attribution('A-INACTIVE', {
          dealId: 'D-COSELL',
          credits: [
            { partnerId: 'P1', type: 'sourced', shareBps: 5000 },
            { partnerId: 'P4', type: 'sourced', shareBps: 5000 },
          ],
        }),
        422,
        'rule-violation',
      );
    });
  });

  it('marks an attribution without a deal unregistered, in the answer and the event', async () => {
    const r = await post('/v1/revenue-attributions', attribution('A-UNREG'));
    expect(r.status).toBe(201);
    expect(r.body.unregistered).toBe(true);
    expect((await t.request<Body>('GET', '/v1/revenue-attributions/A-UNREG', { key: KEYS.finance })).body.unregistered).toBe(true);
  });

  describe('exchange rates', () => {
    it('refuses a foreign amount with no rate in force and no caller amount (no-exchange-rate)', async () => {
      await refuses('/v1/revenue-attributions', attribution('A-EUR-0', { amount: { amountMinor: 1000_00, currency: 'EUR' }, recognizedAt: '2026-01-10' }), 422, 'no-exchange-rate');
    });

    it('publishes rates (finance), answers the one in force at an instant, and the list', async () => {
      expect((await post('/v1/exchange-rates', { currency: 'EUR', date: '2026-02-01', rate: '1.0834', source: 'ECB' })).status).toBe(201);
      expect((await post('/v1/exchange-rates', { currency: 'EUR', date: '2026-03-01', rate: '1.1', source: 'ECB' })).status).toBe(201);
      expect((await post('/v1/exchange-rates', { currency: 'JPY', date: '2026-02-01', rate: '0.00667', source: 'treasury' })).status).toBe(201);
      expect((await post('/v1/exchange-rates', { currency: 'EUR', date: '2026-02-01', rate: 1.08, source: 'ECB' })).status).toBe(400);
      await refuses('/v1/exchange-rates', { currency: 'EUR', date: '2026-02-01', rate: '1.0834', source: 'ECB' }, 403, 'forbidden', KEYS.ops);
      await refuses('/v1/exchange-rates', { currency: 'USD', date: '2026-02-01', rate: '1', source: 'ECB' }, 422, 'rule-violation');
      const inForce = await t.request<Body>('GET', '/v1/exchange-rates?currency=EUR&at=2026-02-20', { key: KEYS.finance });
      expect(inForce.body).toMatchObject({ currency: 'EUR', reportingCurrency: 'USD', date: '2026-02-01T00:00:00.000Z', rate: '1.0834', source: 'ECB' });
      expect((await t.request('GET', '/v1/exchange-rates?currency=EUR&at=2026-01-20', { key: KEYS.finance })).status).toBe(404);
      const list = await t.request<{ items: Body[] }>('GET', '/v1/exchange-rates', { key: KEYS.finance });
      expect(list.body.items.map((i) => `${i.currency as string} ${i.rate as string}`)).toEqual(['EUR 1.0834', 'EUR 1.1', 'JPY 0.00667']);
    });

    it('converts exactly at the rate in force at recognizedAt and records the conversion; a caller amount is source "caller"', async () => {
      const eur = await post('/v1/revenue-attributions', attribution('A-EUR-1', { amount: { amountMinor: 1234_57, currency: 'EUR' }, recognizedAt: '2026-02-15' }));
      expect(eur.status).toBe(201);
      // 1234.57 EUR × 1.0834 = 1337.533138 USD → 133753 cents
      expect(eur.body).toMatchObject({ reportingAmountMinor: 1337_53, conversion: { rate: '1.0834', rateDate: '2026-02-01T00:00:00.000Z', source: 'ECB', reportingAmountMinor: 1337_53 } });
      const jpy = await post('/v1/revenue-attributions', attribution('A-JPY-1', { amount: { amountMinor: 1_000_000, currency: 'JPY' }, recognizedAt: '2026-02-15' }));
      expect(jpy.body).toMatchObject({ reportingAmountMinor: 6670_00, conversion: { rate: '0.00667', source: 'treasury' } });
      const caller = await post('/v1/revenue-attributions', attribution('A-EUR-2', { amount: { amountMinor: 100_00, currency: 'EUR' }, reportingAmountMinor: 109_00, recognizedAt: '2026-03-15' }));
      expect(caller.body.conversion).toEqual({ source: 'caller', reportingAmountMinor: 109_00 });
      const stored = await t.request<Body>('GET', '/v1/revenue-attributions/A-EUR-1', { key: KEYS.finance });
      expect(stored.body.conversion).toEqual({ rate: '1.0834', rateDate: '2026-02-01T00:00:00.000Z', source: 'ECB', reportingAmountMinor: 1337_53 });
      // A reversal converts in proportion to what remains.
      const rev = await post('/v1/revenue-attributions/A-EUR-1/reverse', { amountMinor: 617_28, reason: 'refund', reversedAt: '2026-02-20' });
      expect(rev.body).toMatchObject({ reportingAmountMinor: 668_76 }); // 133753 × 61728 / 123457 = 66876.4… → 66876
      // The finance export carries each foreign row's conversion: the rate, its date and source, the reporting amounts.
      const head = await t.store.headPosition();
      const csv = await t.request<string>('GET', `/v1/attribution?from=2026-02-01&to=2026-03-31&minPosition=${head}`, { key: KEYS.finance, headers: { accept: 'text/csv' } });
      const [header, ...rows] = csv.text.trim().split('\r\n').map((line) => line.split(','));
      expect(header!.slice(9)).toEqual(['reportingCurrency', 'rate', 'rateDate', 'rateSource', 'reportingSourcedMinor', 'reportingInfluencedMinor', 'reportingReversedSourcedMinor', 'reportingReversedInfluencedMinor', 'reportingNetSourcedMinor', 'reportingNetInfluencedMinor']);
      const row = (currency: string, source: string) => rows.map((r) => Object.fromEntries(header!.map((h, k) => [h, r[k]]))).find((r) => r.currency === currency && r.rateSource === source && r.period === '2026-02');
      expect(row('EUR', 'ECB')).toMatchObject({ sourcedMinor: '123457', reversedSourcedMinor: '61728', reportingCurrency: 'USD', rate: '1.0834', rateDate: '2026-02-01T00:00:00.000Z', reportingSourcedMinor: '133753', reportingReversedSourcedMinor: '66876', reportingNetSourcedMinor: '66877' });
      expect(row('JPY', 'treasury')).toMatchObject({ rate: '0.00667', reportingSourcedMinor: '667000' });
      const march = rows.map((r) => Object.fromEntries(header!.map((h, k) => [h, r[k]]))).find((r) => r.currency === 'EUR' && r.period === '2026-03');
      expect(march).toMatchObject({ rate: '', rateDate: '', rateSource: 'caller', reportingSourcedMinor: '10900' });
    });

    it('supersedes a rate for the same date for decisions recorded after it', async () => {
      expect((await post('/v1/exchange-rates', { currency: 'EUR', date: '2026-03-01', rate: '1.2', source: 'ECB (corrected)' })).status).toBe(201);
      const r = await post('/v1/revenue-attributions', attribution('A-EUR-3', { amount: { amountMinor: 100_00, currency: 'EUR' }, recognizedAt: '2026-03-10' }));
      expect(r.body).toMatchObject({ reportingAmountMinor: 120_00, conversion: { rate: '1.2', source: 'ECB (corrected)' } });
    });

    it('fixes the reporting currency once revenue exists (reporting-currency-fixed)', async () => {
      const program = (await t.request<Body>('GET', '/v1/tier-program', { key: KEYS.ops })).body;
      const { version: _v, definedAt: _d, ...rest } = program;
      const head = await t.store.headPosition();
      const r = await t.request<Body>('PUT', '/v1/tier-program', { body: { ...rest, reportingCurrency: 'EUR' }, key: KEYS.ops });
      expect({ status: r.status, type: r.body.type }).toEqual({ status: 422, type: 'reporting-currency-fixed' });
      expect(await t.store.headPosition()).toBe(head);
    });
  });

  describe('sums stay exact (amount-out-of-range)', () => {
    it('accepts one attribution of 2^53 − 1 minus what exists, refuses anything that would take a sum past it, and every query still answers', async () => {
      let recorded = 0;
      for await (const e of t.store.readAll({ filter: { eventTypes: ['RevenueAttributed'] } })) {
        const d = e.data as { amount: { amountMinor: number; currency: string }; reportingAmountMinor?: number };
        recorded += d.reportingAmountMinor ?? (d.amount.currency === 'USD' ? d.amount.amountMinor : 0);
      }
      const left = MAX - recorded;
      await refuses('/v1/revenue-attributions', attribution('A-BIG-0', { amount: usd(left + 1), recognizedAt: '2026-04-01' }), 422, 'amount-out-of-range');
      expect((await post('/v1/revenue-attributions', attribution('A-BIG-1', { amount: usd(left), recognizedAt: '2026-04-01' }))).status).toBe(201);
      await refuses('/v1/revenue-attributions', attribution('A-BIG-2', { amount: usd(1), recognizedAt: '2026-04-02' }), 422, 'amount-out-of-range');
      // A conversion that would itself leave the range.
      await refuses('/v1/revenue-attributions', attribution('A-BIG-3', { amount: { amountMinor: MAX, currency: 'EUR' }, recognizedAt: '2026-02-15' }), 422, 'amount-out-of-range');
      const head = await t.store.headPosition();
      const report = await t.request<Body>('GET', `/v1/attribution?minPosition=${head}`, { key: KEYS.finance });
      expect(report.status).toBe(200);
      expect((await t.request('GET', `/v1/attribution?minPosition=${head}`, { key: KEYS.finance, headers: { accept: 'text/csv' } })).status).toBe(200);
      expect((await t.request('GET', `/v1/audit/replay?projection=attribution&asOf=${new Date(Date.now() + 86_400_000).toISOString()}`, { key: KEYS.auditor })).status).toBe(200);
    });
  });
});

describe('a store written before v2 with sums beyond 2^53 − 1', () => {
  let t: TestApp;
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('answers the attribution report and its replay (exact decimal strings for those sums), never 500', async () => {
    const clock = new TestClock(Date.parse('2026-01-02T09:00:00Z'));
    t = await startApp({ clock });
    expect((await t.request('POST', '/v1/partners', { body: { partnerId: 'P1', name: 'P1', type: 'reseller', domain: 'old-store-p1.example' }, key: KEYS.ops })).status).toBe(201);
    clock.set('2026-03-02T09:00:00Z');
    // Two attributions of 2^53 − 1 as the ledger accepted them before amount-out-of-range existed.
    for (const id of ['OLD-1', 'OLD-2']) {
      await t.store.append(
        `attribution-${id}`,
        [
          {
            eventId: id === 'OLD-1' ? '0193a1b2-0000-7000-8000-000000000001' : '0193a1b2-0000-7000-8000-000000000002',
            type: 'RevenueAttributed',
            data: {
              attributionId: id,
              amount: usd(MAX),
              reportingCurrency: 'USD',
              recognizedAt: '2026-01-15T00:00:00.000Z',
              credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10_000 }],
              allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor: MAX }],
              programVersion: 0,
            },
            metadata: { schemaVersion: 1, actor: { id: 'finance', role: 'finance' }, commandId: id, correlationId: id, causationId: id, recordedAt: '2026-01-15T10:00:00.000Z' },
          },
        ],
        'no_stream',
      );
    }
    const head = await t.store.headPosition();
    const r = await t.request<{ items: Body[]; totals: Body[] }>('GET', `/v1/attribution?minPosition=${head}`, { key: KEYS.finance });
    expect(r.status).toBe(200);
    expect(r.body.items[0]).toMatchObject({ partnerId: 'P1', sourcedMinor: (2n * BigInt(MAX)).toString(), influencedMinor: 0 });
    const csv = await t.request<string>('GET', `/v1/attribution?minPosition=${head}`, { key: KEYS.finance, headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.text).toContain((2n * BigInt(MAX)).toString());
    const replay = await t.request('GET', `/v1/audit/replay?projection=attribution&asOf=2026-12-31T00:00:00Z`, { key: KEYS.auditor });
    expect(replay.status).toBe(200);
    // The tier standing answers the trailing revenue exactly (a decimal string beyond 2^53 − 1), as its replay does.
    const standing = await t.request<Body>('GET', `/v1/tier-standings/P1?asOf=2026-02-01&minPosition=${head}`, { key: KEYS.finance });
    expect(standing.status).toBe(200);
    expect(standing.body).toMatchObject({ trailingSourcedRevenueMinor: (2n * BigInt(MAX)).toString(), shortfall: expect.objectContaining({ revenueMinor: 0 }) });
    const standingReplay = await t.request('GET', '/v1/audit/replay?projection=tier-standings&partnerId=P1&asOf=2026-02-01', { key: KEYS.auditor });
    expect(standingReplay.body).toEqual(standing.body);

    // A full reversal of one of them, as the ledger recorded it then: every answer is back within 2^53 − 1.
    await t.store.append(
      'attribution-OLD-2',
      [
        {
          eventId: '0193a1b2-0000-7000-8000-000000000003',
          type: 'RevenueAttributionReversed',
          data: { attributionId: 'OLD-2', sequence: 1, amountMinor: MAX, currency: 'USD', reportingCurrency: 'USD', reason: 'refund', reversedAt: '2026-02-10T00:00:00.000Z', allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor: MAX }], remainingMinor: 0 },
          metadata: { schemaVersion: 1, actor: { id: 'finance', role: 'finance' }, commandId: 'REV-2', correlationId: 'REV-2', causationId: 'REV-2', recordedAt: '2026-02-10T10:00:00.000Z' },
        },
      ],
      0n,
    );
    const after = await t.store.headPosition();
    const net = await t.request<{ totals: Body[] }>('GET', `/v1/attribution?minPosition=${after}`, { key: KEYS.finance });
    expect(net.status).toBe(200);
    expect(net.body.totals[0]).toMatchObject({ sourcedMinor: (2n * BigInt(MAX)).toString(), reversedSourcedMinor: MAX, netSourcedMinor: MAX });
    expect((await t.request('GET', `/v1/attribution?minPosition=${after}`, { key: KEYS.finance, headers: { accept: 'text/csv' } })).status).toBe(200);
    expect((await t.request('GET', '/v1/audit/replay?projection=attribution&asOf=2026-12-31T00:00:00Z', { key: KEYS.auditor })).status).toBe(200);
    expect((await t.request<Body>('GET', `/v1/tier-standings/P1?asOf=2026-02-20&minPosition=${after}`, { key: KEYS.finance })).body).toMatchObject({ trailingSourcedRevenueMinor: MAX });
  });
});

describe('a store written before v2 whose program changed its reporting currency', () => {
  let t: TestApp;
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('never sums USD and EUR tier revenue as one number: a standing counts the amounts of its version\'s currency only', async () => {
    const clock = new TestClock(Date.parse('2026-01-02T09:00:00Z'));
    t = await startApp({ clock });
    expect((await t.request('POST', '/v1/partners', { body: { partnerId: 'P1', name: 'P1', type: 'reseller', domain: 'old-fx-p1.example' }, key: KEYS.ops })).status).toBe(201);
    const { version: _v, ...content } = DEFAULT_PROGRAM;
    const meta = (id: string, recordedAt: string) => ({ schemaVersion: 1, actor: { id: 'ops', role: 'channel-ops' as const }, commandId: id, correlationId: id, causationId: id, recordedAt });
    const program = (version: number, reportingCurrency: string, at: string) => ({ eventId: `0193a1b2-0000-7000-8000-00000000010${version}`, type: 'TierProgramDefined', data: { ...content, version, reportingCurrency, definedAt: at }, metadata: meta(`PRG-${version}`, at) });
    const revenue = (id: string, n: number, currency: string, amountMinor: number, at: string) => ({
      eventId: `0193a1b2-0000-7000-8000-00000000020${n}`,
      type: 'RevenueAttributed',
      data: { attributionId: id, amount: { amountMinor, currency }, reportingCurrency: currency, recognizedAt: at, credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10_000 }], allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor }], programVersion: 1 },
      metadata: meta(id, at),
    });
    // As a ledger before v2 let it happen: revenue in USD, then a version in EUR, then revenue in EUR.
    await t.store.append('program-tiers', [program(1, 'USD', '2026-01-03T00:00:00.000Z')], 'any');
    await t.store.append('attribution-FX-1', [revenue('FX-1', 1, 'USD', 700_000, '2026-01-10T00:00:00.000Z')], 'no_stream');
    await t.store.append('program-tiers', [program(2, 'EUR', '2026-01-20T00:00:00.000Z')], 'any');
    await t.store.append('attribution-FX-2', [revenue('FX-2', 2, 'EUR', 50_000, '2026-01-25T00:00:00.000Z')], 'no_stream');
    const head = await t.store.headPosition();
    const under = async (asOf: string) => (await t.request<Body>('GET', `/v1/tier-standings/P1?asOf=${asOf}&minPosition=${head}`, { key: KEYS.finance })).body;
    // Under version 1 (USD): the USD revenue; under version 2 (EUR): the EUR revenue only, not 750,000 of nothing.
    expect(await under('2026-01-15')).toMatchObject({ programVersion: 1, trailingSourcedRevenueMinor: 700_000 });
    expect(await under('2026-01-30')).toMatchObject({ programVersion: 2, trailingSourcedRevenueMinor: 50_000 });
    // The report keeps them apart too: one reporting total per reporting currency.
    const report = await t.request<{ reportingTotals: Body[] }>('GET', `/v1/attribution?minPosition=${head}`, { key: KEYS.finance });
    expect(report.body.reportingTotals.map((x) => [x.currency, x.sourcedMinor])).toEqual([
      ['EUR', 50_000],
      ['USD', 700_000],
    ]);
  });
});
