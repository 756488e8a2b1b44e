import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
interface Allocation {
  partnerId: string;
  type: 'sourced' | 'influenced';
  amountMinor: number;
  reportingAmountMinor?: number;
}
interface Item {
  partnerId: string;
  period: string;
  currency: string;
  sourcedMinor: number;
  influencedMinor: number;
  reversedSourcedMinor: number;
  reversedInfluencedMinor: number;
  netSourcedMinor: number;
  netInfluencedMinor: number;
}
type Total = Omit<Item, 'partnerId' | 'period'>;
interface Report {
  items: Item[];
  nextCursor: string | null;
  totals: Total[];
  reportingTotals: Total[];
}

const COLUMNS = ['partnerId', 'period', 'currency', 'sourcedMinor', 'influencedMinor', 'reversedSourcedMinor', 'reversedInfluencedMinor', 'netSourcedMinor', 'netInfluencedMinor'] as const;
const AMOUNTS = ['sourcedMinor', 'influencedMinor', 'reversedSourcedMinor', 'reversedInfluencedMinor', 'netSourcedMinor', 'netInfluencedMinor'] as const;
/** After API.md's columns, each row's conversion (v2 money: one row per partner, period, currency and conversion). */
const CONVERSION_COLUMNS = ['reportingCurrency', 'rate', 'rateDate', 'rateSource', ...AMOUNTS.map((a) => `reporting${a[0]!.toUpperCase()}${a.slice(1)}`)] as const;
const TEXT_COLUMNS = new Set(['partnerId', 'period', 'currency', 'reportingCurrency', 'rate', 'rateDate', 'rateSource']);

/** The rows of one partner, period and currency added up (rows that differ only by conversion), in API.md's columns. */
function merged(items: readonly Item[]): Item[] {
  const out = new Map<string, Item>();
  for (const i of items) {
    const key = `${i.partnerId}\n${i.period}\n${i.currency}`;
    const m = out.get(key);
    if (m === undefined) out.set(key, Object.fromEntries(COLUMNS.map((c) => [c, i[c]])) as unknown as Item);
    else for (const c of AMOUNTS) m[c] += i[c];
  }
  return [...out.values()];
}

/** RFC 4180: quoted fields may hold commas, quotes (doubled) and line breaks; records end with CRLF or LF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** A small deterministic generator, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const month = (iso: string) => iso.slice(0, 7);
const quarter = (iso: string) => `${iso.slice(0, 4)}-Q${Math.ceil(Number(iso.slice(5, 7)) / 3)}`;
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

describe('revenue attribution, end to end', () => {
  let t: TestApp;
  const clock = new TestClock();

  const refusesAndAppendsNothing = async (path: string, body: unknown, status: number, type: string, key: string = KEYS.finance) => {
    const head = await t.store.headPosition();
    const r = await t.request('POST', path, { body, key });
    expect({ status: r.status, type: r.body.type }).toEqual({ status, type });
    expect(await t.store.headPosition()).toBe(head);
    return r;
  };
  const report = async (query: string, key: string = KEYS.finance) => {
    const head = await t.store.headPosition();
    return t.request<Report>('GET', `/v1/attribution?minPosition=${head}&${query}`, { key });
  };
  const csv = async (query: string, key: string = KEYS.finance) => {
    const head = await t.store.headPosition();
    return t.request<string>('GET', `/v1/attribution?minPosition=${head}&${query}`, { key, headers: { accept: 'text/csv' } });
  };

  beforeAll(async () => {
    clock.set('2026-06-01T09:00:00Z');
    t = await startApp({ clock });
    for (const id of ['P1', 'P2', 'P3', 'P4']) {
      expect((await t.request('POST', '/v1/partners', { body: { partnerId: id, name: `Partner ${id}`, type: 'reseller', domain: `attr-${id.toLowerCase()}.example` } })).status).toBe(201);
    }
    for (const id of ['P1', 'P2']) expect((await t.request('POST', `/v1/partners/${id}/activate`)).status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('splits one amount for each credit type by largest remainder and answers the allocations', async () => {
    const r = await t.request('POST', '/v1/revenue-attributions', {
      key: KEYS.finance,
      body: {
        attributionId: 'SPLIT-1',
        amount: usd(100_00),
        recognizedAt: '2026-01-15',
        credits: [
          { partnerId: 'P1', type: 'sourced', shareBps: 3334 },
          { partnerId: 'P2', type: 'sourced', shareBps: 3333 },
          { partnerId: 'P3', type: 'sourced', shareBps: 3333 },
          { partnerId: 'P4', type: 'influenced', shareBps: 10000 },
        ],
      },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ attributionId: 'SPLIT-1' });
    expect(r.body.allocations).toEqual([
      { partnerId: 'P1', type: 'sourced', amountMinor: 3334 },
      { partnerId: 'P2', type: 'sourced', amountMinor: 3333 },
      { partnerId: 'P3', type: 'sourced', amountMinor: 3333 },
      { partnerId: 'P4', type: 'influenced', amountMinor: 10000 },
    ]);
    expect(r.body.events).toEqual([expect.objectContaining({ type: 'RevenueAttributed', streamId: 'attribution-SPLIT-1', revision: '0' })]);

    const read = await t.request('GET', `/v1/revenue-attributions/SPLIT-1?minPosition=${r.body.position}`, { key: KEYS.auditor });
    expect(read.status).toBe(200);
    expect(BigInt(read.headers.get('ledger-position')!)).toBeGreaterThanOrEqual(BigInt(r.body.position as string));
    expect(read.body).toMatchObject({
      attributionId: 'SPLIT-1',
      amount: usd(100_00),
      reportingCurrency: 'USD',
      recognizedAt: '2026-01-15T00:00:00.000Z',
      allocations: r.body.allocations,
      reversals: [],
      remainingMinor: 100_00,
      status: 'attributed',
    });
  });

  it('reverses part of what remains, then the rest, never more, in the period of the reversal', async () => {
    const part = await t.request('POST', '/v1/revenue-attributions/SPLIT-1/reverse', { body: { amountMinor: 1, reason: 'partial refund', reversedAt: '2026-04-02' } });
    expect(part.status).toBe(200);
    expect(part.body).toMatchObject({ attributionId: 'SPLIT-1', amountMinor: 1, remainingMinor: 9999 });
    expect(part.body.allocations).toEqual([
      { partnerId: 'P1', type: 'sourced', amountMinor: 1 },
      { partnerId: 'P2', type: 'sourced', amountMinor: 0 },
      { partnerId: 'P3', type: 'sourced', amountMinor: 0 },
      { partnerId: 'P4', type: 'influenced', amountMinor: 1 },
    ]);
    await refusesAndAppendsNothing('/v1/revenue-attributions/SPLIT-1/reverse', { amountMinor: 10000, reason: 'too much', reversedAt: '2026-04-03' }, 422, 'rule-violation');
    await refusesAndAppendsNothing('/v1/revenue-attributions/SPLIT-1/reverse', { reason: 'before it existed', reversedAt: '2026-01-01' }, 422, 'rule-violation');
    const rest = await t.request('POST', '/v1/revenue-attributions/SPLIT-1/reverse', { body: { reason: 'cancelled', reversedAt: '2026-05-10T12:00:00Z' } });
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({ amountMinor: 9999, remainingMinor: 0 });
    expect((rest.body.allocations as Allocation[]).map((a) => a.amountMinor)).toEqual([3333, 3333, 3333, 9999]);
    await refusesAndAppendsNothing('/v1/revenue-attributions/SPLIT-1/reverse', { reason: 'again', reversedAt: '2026-05-11' }, 422, 'rule-violation');
    await refusesAndAppendsNothing('/v1/revenue-attributions/NOPE/reverse', { reason: 'x', reversedAt: '2026-05-11' }, 404, 'not-found');
    const read = await t.request('GET', '/v1/revenue-attributions/SPLIT-1');
    expect(read.body).toMatchObject({ remainingMinor: 0, status: 'reversed' });
    expect((read.body.reversals as Body[]).map((x) => [x.sequence, x.amountMinor, x.reversedAt])).toEqual([
      [1, 1, '2026-04-02T00:00:00.000Z'],
      [2, 9999, '2026-05-10T12:00:00.000Z'],
    ]);
    // the reversal counts in its own month, not in January's
    const april = await report('from=2026-04-01&to=2026-04-30T23:59:59Z&partnerId=P1');
    expect(april.body.items).toEqual([
      {
        partnerId: 'P1', period: '2026-04', currency: 'USD', sourcedMinor: 0, influencedMinor: 0, reversedSourcedMinor: 1, reversedInfluencedMinor: 0, netSourcedMinor: -1, netInfluencedMinor: 0,
        // in the reporting currency itself: no rate, the same amounts
        reportingCurrency: 'USD', reportingSourcedMinor: 0, reportingInfluencedMinor: 0, reportingReversedSourcedMinor: 1, reportingReversedInfluencedMinor: 0, reportingNetSourcedMinor: -1, reportingNetInfluencedMinor: 0,
      },
    ]);
  });

  describe('reportingAmountMinor', () => {
    const eur = (over: Body = {}) => ({
      attributionId: 'EUR-1',
      amount: { amountMinor: 1000_00, currency: 'EUR' },
      recognizedAt: '2026-02-10',
      credits: [
        { partnerId: 'P1', type: 'sourced', shareBps: 5000 },
        { partnerId: 'P2', type: 'sourced', shareBps: 5000 },
      ],
      ...over,
    });

    it('is required (422 no-exchange-rate) when the currency is not the reporting currency and no rate is published, and must be an integer (400)', async () => {
      await refusesAndAppendsNothing('/v1/revenue-attributions', eur(), 422, 'no-exchange-rate');
      for (const reportingAmountMinor of [1087.5, '108700', -1, 2 ** 53, null]) {
        await refusesAndAppendsNothing('/v1/revenue-attributions', eur({ reportingAmountMinor }), 400, 'validation-failed');
      }
    });

    it('is refused (422) when it contradicts an amount already in the reporting currency, accepted when equal', async () => {
      await refusesAndAppendsNothing('/v1/revenue-attributions', eur({ attributionId: 'USD-R', amount: usd(500), reportingAmountMinor: 499, recognizedAt: '2026-01-20' }), 422, 'rule-violation');
      const same = await t.request('POST', '/v1/revenue-attributions', { body: eur({ attributionId: 'USD-R', amount: usd(500), reportingAmountMinor: 500, recognizedAt: '2026-01-20' }) });
      expect(same.status).toBe(201);
      expect(same.body.allocations).toEqual([
        { partnerId: 'P1', type: 'sourced', amountMinor: 250 },
        { partnerId: 'P2', type: 'sourced', amountMinor: 250 },
      ]);
    });

    it('is recorded and split the same way, and reversed in proportion', async () => {
      const r = await t.request('POST', '/v1/revenue-attributions', { body: eur({ reportingAmountMinor: 1087_01 }) });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ reportingCurrency: 'USD', reportingAmountMinor: 1087_01 });
      expect(r.body.allocations).toEqual([
        { partnerId: 'P1', type: 'sourced', amountMinor: 500_00, reportingAmountMinor: 543_51 },
        { partnerId: 'P2', type: 'sourced', amountMinor: 500_00, reportingAmountMinor: 543_50 },
      ]);
      const rev = await t.request('POST', '/v1/revenue-attributions/EUR-1/reverse', { body: { amountMinor: 100_00, reason: 'credit note', reversedAt: '2026-03-01' } });
      expect(rev.body).toMatchObject({ amountMinor: 100_00, reportingAmountMinor: 108_70 });
      const q1 = await report('groupBy=quarter&from=2026-02-01&to=2026-03-31&partnerId=P1');
      expect(q1.body.totals).toEqual([{ currency: 'EUR', sourcedMinor: 500_00, influencedMinor: 0, reversedSourcedMinor: 50_00, reversedInfluencedMinor: 0, netSourcedMinor: 450_00, netInfluencedMinor: 0 }]);
      expect(q1.body.reportingTotals).toEqual([
        { currency: 'USD', sourcedMinor: 543_51, influencedMinor: 0, reversedSourcedMinor: 54_35, reversedInfluencedMinor: 0, netSourcedMinor: 489_16, netInfluencedMinor: 0 },
      ]);
    });

    it('fixes the reporting currency of the program once revenue is attributed (422 reporting-currency-fixed)', async () => {
      const program = (await t.request<Body>('GET', '/v1/tier-program')).body;
      const { version: _v, definedAt: _d, ...rest } = program;
      const head = await t.store.headPosition();
      const r = await t.request<Body>('PUT', '/v1/tier-program', { body: { ...rest, reportingCurrency: 'EUR' }, key: KEYS.ops });
      expect({ status: r.status, type: r.body.type }).toEqual({ status: 422, type: 'reporting-currency-fixed' });
      expect(await t.store.headPosition()).toBe(head);
    });
  });

  describe('refusals, appending nothing', () => {
    const body = (over: Body = {}) => ({ attributionId: 'BAD-1', amount: usd(100), recognizedAt: '2026-01-10', credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10000 }], ...over });

    it.each<[string, Body]>([
      ['shares summing to 9,999', { credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 5000 }, { partnerId: 'P2', type: 'sourced', shareBps: 4999 }] }],
      ['a partner twice in one type', { credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 5000 }, { partnerId: 'P1', type: 'sourced', shareBps: 5000 }] }],
      ['no credits', { credits: [] }],
      ['a zero share', { credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10000 }, { partnerId: 'P2', type: 'sourced', shareBps: 0 }] }],
      ['a share as a string', { credits: [{ partnerId: 'P1', type: 'sourced', shareBps: '10000' }] }],
      ['an unknown credit type', { credits: [{ partnerId: 'P1', type: 'referred', shareBps: 10000 }] }],
      ['an unknown member in a credit', { credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10000, weight: 1 }] }],
      ['a float amount', { amount: { amountMinor: 10.5, currency: 'USD' } }],
      ['a string amount', { amount: { amountMinor: '100', currency: 'USD' } }],
      ['a negative amount', { amount: { amountMinor: -100, currency: 'USD' } }],
      ['an unsafe amount', { amount: { amountMinor: 2 ** 53, currency: 'USD' } }],
      ['a zero amount', { amount: usd(0) }],
      ['an unknown currency', { amount: { amountMinor: 100, currency: 'XYZ' } }],
      ['an impossible date', { recognizedAt: '2026-02-30' }],
      ['an unknown body member', { note: 'x' }],
    ])('400 for %s', async (_what, over) => {
      await refusesAndAppendsNothing('/v1/revenue-attributions', body(over), 400, 'validation-failed');
    });

    it('422 for a credited partner that is not enrolled', async () => {
      const r = await refusesAndAppendsNothing('/v1/revenue-attributions', body({ credits: [{ partnerId: 'GHOST', type: 'influenced', shareBps: 10000 }] }), 422, 'rule-violation');
      expect(r.body.errors).toEqual([expect.objectContaining({ path: 'credits.0.partnerId' })]);
    });

    it('409 for an attribution id that exists', async () => {
      await refusesAndAppendsNothing('/v1/revenue-attributions', body({ attributionId: 'SPLIT-1' }), 409, 'already-exists');
    });

    it('400 for a reversal of zero or of a fraction', async () => {
      await refusesAndAppendsNothing('/v1/revenue-attributions/EUR-1/reverse', { amountMinor: 0, reason: 'x', reversedAt: '2026-03-02' }, 400, 'validation-failed');
      await refusesAndAppendsNothing('/v1/revenue-attributions/EUR-1/reverse', { amountMinor: 0.5, reason: 'x', reversedAt: '2026-03-02' }, 400, 'validation-failed');
      await refusesAndAppendsNothing('/v1/revenue-attributions/EUR-1/reverse', { amountMinor: 1, reason: '', reversedAt: '2026-03-02' }, 400, 'validation-failed');
    });
  });

  describe('a sourced credit that names a deal', () => {
    beforeAll(async () => {
      const register = (dealId: string, partnerId: string, domain: string) =>
        t.request('POST', '/v1/deals', {
          key: KEYS.ops,
          body: { dealId, partnerId, customer: { name: `Customer of ${dealId}`, domain }, products: ['CRM'], estimatedValue: usd(50_000_00), expectedCloseDate: '2026-09-30' },
        });
      expect((await register('DEAL-OK', 'P1', 'deal-ok.example')).status).toBe(201);
      expect((await t.request('POST', '/v1/deals/DEAL-OK/approve', { key: KEYS.ops, body: {} })).status).toBe(200);
      expect((await t.request('POST', '/v1/deals/DEAL-OK/won', { key: KEYS.ops, body: { amount: usd(50_000_00), closedAt: '2026-06-15' } })).status).toBe(200);
      expect((await register('DEAL-NEW', 'P1', 'deal-new.example')).status).toBe(201);
    });
    const attribution = (attributionId: string, dealId: string, partnerId = 'P1') => ({
      attributionId,
      dealId,
      amount: usd(10_000_00),
      recognizedAt: '2026-05-20',
      credits: [
        { partnerId, type: 'sourced', shareBps: 10000 },
        { partnerId: 'P3', type: 'influenced', shareBps: 10000 },
      ],
    });

    it('accepts the partner that registered the won deal', async () => {
      const r = await t.request('POST', '/v1/revenue-attributions', { body: attribution('DEAL-ATT-1', 'DEAL-OK') });
      expect(r.status).toBe(201);
      expect((await t.request('GET', '/v1/revenue-attributions/DEAL-ATT-1')).body).toMatchObject({ dealId: 'DEAL-OK' });
    });

    it('refuses sourced credit without the registering partner, a deal that is not won, and an unknown deal (422)', async () => {
      await refusesAndAppendsNothing('/v1/revenue-attributions', attribution('DEAL-ATT-2', 'DEAL-OK', 'P2'), 422, 'rule-violation');
      await refusesAndAppendsNothing('/v1/revenue-attributions', attribution('DEAL-ATT-3', 'DEAL-NEW'), 422, 'deal-not-won');
      await refusesAndAppendsNothing('/v1/revenue-attributions', attribution('DEAL-ATT-4', 'NO-SUCH-DEAL'), 422, 'rule-violation');
    });
  });

  describe('the finance report', () => {
    interface Line {
      partnerId: string;
      type: 'sourced' | 'influenced';
      kind: 'attributed' | 'reversed';
      currency: string;
      at: string;
      amountMinor: number;
      reportingCurrency: string;
      reportingMinor: number;
    }
    const lines: Line[] = [];
    const record = (kind: Line['kind'], currency: string, at: string, allocations: Allocation[], reportingCurrency = 'USD') => {
      for (const a of allocations) {
        lines.push({ partnerId: a.partnerId, type: a.type, kind, currency, at, amountMinor: a.amountMinor, reportingCurrency, reportingMinor: a.reportingAmountMinor ?? a.amountMinor });
      }
    };

    beforeAll(async () => {
      // Everything this suite wrote so far goes into the expectations too: read it back from the log.
      for await (const e of t.store.readAll({ filter: { eventTypes: ['RevenueAttributed', 'RevenueAttributionReversed'] } })) {
        const d = e.data as { amount?: { currency: string }; currency?: string; reportingCurrency: string; recognizedAt?: string; reversedAt?: string; allocations: Allocation[] };
        if (e.type === 'RevenueAttributed') record('attributed', d.amount!.currency, d.recognizedAt!, d.allocations, d.reportingCurrency);
        else record('reversed', d.currency!, d.reversedAt!, d.allocations, d.reportingCurrency);
      }
      const random = lcg(20260601);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const partners = ['P1', 'P2', 'P3', 'P4'];
      for (let i = 0; i < 36; i++) {
        const currency = pick(['USD', 'USD', 'EUR', 'JPY']);
        const amountMinor = 1 + Math.floor(random() * (random() < 0.2 ? 1e12 : 1e6));
        const sourced = partners.filter(() => random() < 0.5);
        const influenced = partners.filter(() => random() < 0.4);
        if (sourced.length + influenced.length === 0) sourced.push(pick(partners));
        const shares = (n: number) => {
          const cuts = Array.from({ length: n - 1 }, () => 1 + Math.floor(random() * 9999)).sort((a, b) => a - b);
          const bounds = [0, ...cuts, 10000];
          return bounds.slice(1).map((b, k) => b - bounds[k]!);
        };
        const sb = sourced.length ? shares(sourced.length) : [];
        const ib = influenced.length ? shares(influenced.length) : [];
        // Equal cut points would give a zero share, which is refused: nudge them apart.
        if ([...sb, ...ib].some((b) => b === 0)) continue;
        const recognizedAt = `2026-${String(1 + Math.floor(random() * 12)).padStart(2, '0')}-${String(1 + Math.floor(random() * 28)).padStart(2, '0')}T${String(Math.floor(random() * 24)).padStart(2, '0')}:00:00Z`;
        const r = await t.request('POST', '/v1/revenue-attributions', {
          key: pick([KEYS.finance, KEYS.ops]),
          body: {
            attributionId: `RND-${i}`,
            amount: { amountMinor, currency },
            ...(currency !== 'USD' ? { reportingAmountMinor: Math.floor(amountMinor * (currency === 'JPY' ? 0.0067 : 1.09)) } : {}),
            recognizedAt,
            credits: [...sourced.map((p, k) => ({ partnerId: p, type: 'sourced', shareBps: sb[k] })), ...influenced.map((p, k) => ({ partnerId: p, type: 'influenced', shareBps: ib[k] }))],
          },
        });
        expect(r.status).toBe(201);
        record('attributed', currency, new Date(recognizedAt).toISOString(), r.body.allocations as Allocation[]);
        for (let k = 0; k < 2 && random() < 0.5; k++) {
          const days = 1 + Math.floor(random() * 200);
          const reversedAt = new Date(Date.parse(recognizedAt) + days * 86_400_000).toISOString();
          const rev = await t.request('POST', `/v1/revenue-attributions/RND-${i}/reverse`, {
            body: { ...(random() < 0.7 ? { amountMinor: 1 + Math.floor(random() * (amountMinor / 3)) } : {}), reason: 'refund', reversedAt },
          });
          if (rev.status === 422) break; // fully reversed already
          expect(rev.status).toBe(200);
          record('reversed', currency, reversedAt, rev.body.allocations as Allocation[]);
        }
      }
    });

    const expected = (groupBy: 'month' | 'quarter', filter: (l: Line) => boolean = () => true) => {
      const items = new Map<string, Item>();
      const totals = new Map<string, Total>();
      const reporting = new Map<string, Total>();
      const empty = (): Omit<Total, 'currency'> => ({ sourcedMinor: 0, influencedMinor: 0, reversedSourcedMinor: 0, reversedInfluencedMinor: 0, netSourcedMinor: 0, netInfluencedMinor: 0 });
      const add = (target: Omit<Total, 'currency'>, l: Line, amount: number) => {
        const column = `${l.kind === 'reversed' ? 'reversed' : ''}${l.kind === 'reversed' ? (l.type === 'sourced' ? 'Sourced' : 'Influenced') : l.type}Minor` as keyof Omit<Total, 'currency'>;
        target[column] += amount;
        target[l.type === 'sourced' ? 'netSourcedMinor' : 'netInfluencedMinor'] += l.kind === 'reversed' ? -amount : amount;
      };
      for (const l of lines.filter(filter)) {
        const period = groupBy === 'month' ? month(l.at) : quarter(l.at);
        const key = `${l.partnerId}\n${period}\n${l.currency}`;
        if (!items.has(key)) items.set(key, { partnerId: l.partnerId, period, currency: l.currency, ...empty() });
        add(items.get(key)!, l, l.amountMinor);
        if (!totals.has(l.currency)) totals.set(l.currency, { currency: l.currency, ...empty() });
        add(totals.get(l.currency)!, l, l.amountMinor);
        if (!reporting.has(l.reportingCurrency)) reporting.set(l.reportingCurrency, { currency: l.reportingCurrency, ...empty() });
        add(reporting.get(l.reportingCurrency)!, l, l.reportingMinor);
      }
      const byKey = (a: Item, b: Item) => (a.partnerId + a.period + a.currency < b.partnerId + b.period + b.currency ? -1 : 1);
      return {
        items: [...items.values()].sort(byKey),
        totals: [...totals.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1)),
        reportingTotals: [...reporting.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1)),
      };
    };

    it.each(['month', 'quarter'] as const)('totals equal the sum of the allocations minus the reversals, grouped by %s, in JSON', async (groupBy) => {
      const r = await report(`groupBy=${groupBy}&limit=1000`);
      expect(r.status).toBe(200);
      expect(r.headers.get('ledger-position')).toMatch(/^\d+$/);
      const want = expected(groupBy);
      expect(merged(r.body.items)).toEqual(want.items);
      expect(r.body.totals).toEqual(want.totals);
      // The reporting currency is fixed once revenue exists: one reporting total.
      expect(r.body.reportingTotals).toEqual(want.reportingTotals);
      expect(r.body.reportingTotals.map((x) => x.currency)).toEqual(['USD']);
      // and the items add up to the totals, currency by currency
      for (const total of r.body.totals) {
        for (const c of AMOUNTS) expect(r.body.items.filter((i) => i.currency === total.currency).reduce((s, i) => s + i[c], 0)).toBe(total[c]);
      }
    });

    it.each(['month', 'quarter'] as const)('gives the same rows as CSV, grouped by %s, with a header row', async (groupBy) => {
      const json = await report(`groupBy=${groupBy}&limit=1000`);
      const r = await csv(`groupBy=${groupBy}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(r.headers.get('ledger-position')).toMatch(/^\d+$/);
      const [header, ...rows] = parseCsv(r.text);
      const all = [...COLUMNS, ...CONVERSION_COLUMNS];
      expect(header).toEqual(all);
      // Empty cells are the conversion parts that do not apply (absent from the JSON item).
      const parsed = rows.map((row) => Object.fromEntries(all.flatMap((c, k) => (row[k] === '' ? [] : [[c, TEXT_COLUMNS.has(c) ? row[k] : Number(row[k])]]))));
      expect(parsed).toEqual(json.body.items);
      expect(parsed.every((p) => p.reportingCurrency === 'USD')).toBe(true);
      expect(parsed.filter((p) => p.currency === 'USD').every((p) => p.rateSource === undefined && p.reportingNetSourcedMinor === p.netSourcedMinor)).toBe(true);
      expect(parsed.filter((p) => p.currency !== 'USD').every((p) => typeof p.rateSource === 'string')).toBe(true);
      const totals = new Map<string, number>();
      for (const p of parsed) totals.set(p.currency as string, (totals.get(p.currency as string) ?? 0) + (p.netSourcedMinor as number));
      for (const tot of json.body.totals) expect(totals.get(tot.currency)).toBe(tot.netSourcedMinor);
    });

    it('filters by business time, both ends included', async () => {
      const from = '2026-03-01T00:00:00.000Z';
      const to = '2026-06-30T23:59:59.000Z';
      const r = await report(`from=2026-03-01&to=2026-06-30T23:59:59Z&limit=1000`);
      const want = expected('month', (l) => l.at >= from && l.at <= to);
      expect(merged(r.body.items)).toEqual(want.items);
      expect(r.body.totals).toEqual(want.totals);
      expect((await report('from=2026-06-01&to=2026-05-01')).status).toBe(400);
    });

    it('pages JSON with a cursor (totals always cover the whole report); CSV pages only when asked', async () => {
      const all = (await report('limit=1000')).body;
      const seen: Item[] = [];
      let cursor: string | null = null;
      do {
        const page: Report = (await report(`limit=7${cursor ? `&cursor=${cursor}` : ''}`)).body;
        expect(page.totals).toEqual(all.totals);
        seen.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all.items);
      expect((await report('')).body.items).toHaveLength(Math.min(100, all.items.length));
      const paged = await csv('limit=5');
      expect(parseCsv(paged.text)).toHaveLength(6);
      expect(paged.headers.get('next-cursor')).toBeTruthy();
    });

    it('shows a partner key its own attribution only; naming another partner is a 403', async () => {
      const own = await report('limit=1000', KEYS.p1);
      expect(own.status).toBe(200);
      expect(own.body.items.length).toBeGreaterThan(0);
      expect(own.body.items.every((i) => i.partnerId === 'P1')).toBe(true);
      expect(own.body.totals).toEqual(expected('month', (l) => l.partnerId === 'P1').totals);
      expect((await report('partnerId=P1', KEYS.p1)).status).toBe(200);
      const other = await report('partnerId=P2', KEYS.p1);
      expect(other.status).toBe(403);
      expect((other.body as unknown as Body).type).toBe('forbidden');
      const ownCsv = parseCsv((await csv('', KEYS.p1)).text).slice(1);
      expect(ownCsv.every((row) => row[0] === 'P1')).toBe(true);
    });

    it('shows a partner key an attribution only if it is credited, and then only its own credits', async () => {
      const shared = await t.request<{ allocations: Allocation[]; credits: Body[] }>('GET', '/v1/revenue-attributions/EUR-1', { key: KEYS.p1 });
      expect(shared.status).toBe(200);
      expect(shared.body.allocations.map((a) => a.partnerId)).toEqual(['P1']);
      expect(shared.body.credits.map((c) => c.partnerId)).toEqual(['P1']);
      expect(shared.text).not.toContain('"P2"');
      // Issue #17: not the whole amount nor what remains of it (which, with its share, tells the other
      // partners' parts): its own allocation, what remains of it, and its own part of each reversal.
      expect(shared.body).toMatchObject({
        amount: { amountMinor: 500_00, currency: 'EUR' },
        reportingAmountMinor: 543_51,
        remainingMinor: 450_00,
        remainingReportingMinor: 489_16,
        reversals: [{ amountMinor: 50_00, remainingMinor: 450_00, allocations: [{ partnerId: 'P1' }] }],
      });
      for (const whole of ['100000', '108701', '90000', '10000,']) expect(shared.text).not.toContain(whole);
      const staff = await t.request<Body>('GET', '/v1/revenue-attributions/EUR-1', { key: KEYS.finance });
      expect(staff.body).toMatchObject({ amount: { amountMinor: 1000_00 }, remainingMinor: 900_00 });
      expect((await t.request('POST', '/v1/revenue-attributions', { body: { attributionId: 'ONLY-P3', amount: usd(1), recognizedAt: '2026-01-01', credits: [{ partnerId: 'P3', type: 'sourced', shareBps: 10000 }] } })).status).toBe(201);
      const hidden = await t.request('GET', '/v1/revenue-attributions/ONLY-P3', { key: KEYS.p1 });
      expect(hidden.status).toBe(404);
      expect(hidden.text).not.toContain('"P3"');
      expect((await t.request('GET', '/v1/revenue-attributions/NOPE', { key: KEYS.finance })).status).toBe(404);
    });
  });

  it('lets finance and channel-ops attribute, auditors and partners only read', async () => {
    const body = { attributionId: 'ROLE-1', amount: usd(100), recognizedAt: '2026-01-10', credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10000 }] };
    for (const key of [KEYS.auditor, KEYS.p1, KEYS.subscriber]) await refusesAndAppendsNothing('/v1/revenue-attributions', body, 403, 'forbidden', key);
    await refusesAndAppendsNothing('/v1/revenue-attributions/SPLIT-1/reverse', { reason: 'x', reversedAt: '2026-06-01' }, 403, 'forbidden', KEYS.auditor);
    expect((await t.request('GET', '/v1/attribution', { key: KEYS.auditor })).status).toBe(200);
    expect((await t.request('GET', '/v1/attribution', { key: KEYS.ops })).status).toBe(200);
    expect((await t.request('GET', '/v1/attribution', { key: KEYS.subscriber })).status).toBe(403);
    expect((await t.request('GET', '/v1/attribution', { key: null })).status).toBe(401);
    expect((await t.request('POST', '/v1/revenue-attributions', { body, key: KEYS.ops })).status).toBe(201);
  });

  it('answers a retried attribution with the same Idempotency-Key with the first response, appending nothing', async () => {
    const headers = { 'idempotency-key': 'attr-IDEM-1' };
    const body = { attributionId: 'IDEM-1', amount: usd(999), recognizedAt: '2026-01-10', credits: [{ partnerId: 'P2', type: 'sourced', shareBps: 10000 }] };
    const first = await t.request('POST', '/v1/revenue-attributions', { body, headers });
    expect(first.status).toBe(201);
    const head = await t.store.headPosition();
    const again = await t.request('POST', '/v1/revenue-attributions', { body, headers });
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(await t.store.headPosition()).toBe(head);
    const rev = { reason: 'refund', reversedAt: '2026-02-01', amountMinor: 100 };
    const r1 = await t.request('POST', '/v1/revenue-attributions/IDEM-1/reverse', { body: rev, headers: { 'idempotency-key': 'rev-IDEM-1' } });
    const r2 = await t.request('POST', '/v1/revenue-attributions/IDEM-1/reverse', { body: rev, headers: { 'idempotency-key': 'rev-IDEM-1' } });
    expect(r2.text).toBe(r1.text);
    expect((await t.request('GET', '/v1/revenue-attributions/IDEM-1')).body).toMatchObject({ remainingMinor: 899 });
  });

  it('describes the attribution routes in the OpenAPI document', async () => {
    const doc = await t.request<{ paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>> }>('GET', '/docs-json', { key: null });
    for (const path of ['/v1/revenue-attributions', '/v1/revenue-attributions/{id}/reverse', '/v1/revenue-attributions/{id}', '/v1/attribution']) {
      expect(Object.keys(doc.body.paths)).toContain(path);
    }
  });
});
