import type Database from 'better-sqlite3';
import type { AttributionAllocation, AttributionEvent } from '#events/attribution.js';
import { InvalidInput } from '#libs/kernel/errors.js';
import { attributionProjection, periodsOf } from './attribution.projection.js';
import { attributionReport, REPORT_COLUMNS } from './attribution.queries.js';
import { projectionSpec } from '../testing/projection-spec.js';

let spec: ReturnType<typeof projectionSpec>;
let db: Database.Database;
const given = (...events: AttributionEvent[]) => spec.given(...events);

const alloc = (partnerId: string, type: 'sourced' | 'influenced', amountMinor: number, reportingAmountMinor?: number): AttributionAllocation => ({
  partnerId,
  type,
  amountMinor,
  ...(reportingAmountMinor !== undefined ? { reportingAmountMinor } : {}),
});
const attributed = (
  attributionId: string,
  recognizedAt: string,
  amount: number,
  allocations: AttributionAllocation[],
  currency = 'USD',
  reportingAmountMinor?: number,
  conversion?: { rate?: string; rateDate?: string; source: string },
): AttributionEvent => ({
  type: 'RevenueAttributed',
  data: {
    attributionId,
    amount: { amountMinor: amount, currency },
    reportingCurrency: 'USD',
    ...(reportingAmountMinor !== undefined ? { reportingAmountMinor } : {}),
    ...(conversion !== undefined && reportingAmountMinor !== undefined ? { conversion: { ...conversion, reportingAmountMinor } } : {}),
    recognizedAt,
    credits: [],
    allocations,
    programVersion: 0,
  },
});
const reversed = (attributionId: string, reversedAt: string, amount: number, allocations: AttributionAllocation[], currency = 'USD'): AttributionEvent => ({
  type: 'RevenueAttributionReversed',
  data: { attributionId, sequence: 1, amountMinor: amount, currency, reportingCurrency: 'USD', reason: 'refund', reversedAt, allocations, remainingMinor: 0 },
});

beforeEach(() => {
  spec = projectionSpec(attributionProjection, { recordedAt: '2026-06-01T00:00:00.000Z', streamOf: (e) => `attribution-${(e.data as { attributionId: string }).attributionId}` });
  db = spec.db;
});
afterEach(() => spec.close());

/** API.md's columns of an item (the conversion columns follow them). */
const API_COLUMNS = REPORT_COLUMNS.slice(0, REPORT_COLUMNS.indexOf('reportingCurrency'));
const api = (item: object) => Object.fromEntries(Object.entries(item).filter(([k]) => (API_COLUMNS as readonly string[]).includes(k)));
const zero = { sourcedMinor: 0, influencedMinor: 0, reversedSourcedMinor: 0, reversedInfluencedMinor: 0, netSourcedMinor: 0, netInfluencedMinor: 0 };

describe('attribution projection', () => {
  it('is named attribution and handles the two attribution events', () => {
    expect(attributionProjection.name).toBe('attribution');
    expect([...attributionProjection.canHandle].sort()).toEqual(['RevenueAttributed', 'RevenueAttributionReversed']);
    expect(() => attributionProjection.migrate(db)).not.toThrow();
  });

  it('names months and quarters by UTC business time', () => {
    expect(periodsOf('2026-03-31T23:59:59.999Z')).toEqual({ month: '2026-03', quarter: '2026-Q1' });
    expect(periodsOf('2026-04-01T00:00:00.000Z')).toEqual({ month: '2026-04', quarter: '2026-Q2' });
    expect(periodsOf('2026-12-15T00:00:00.000Z')).toEqual({ month: '2026-12', quarter: '2026-Q4' });
  });

  describe('the report', () => {
    beforeEach(() =>
      given(
        attributed('A1', '2026-01-10T00:00:00.000Z', 1000, [alloc('P1', 'sourced', 600), alloc('P2', 'sourced', 400), alloc('P3', 'influenced', 1000)]),
        attributed('A2', '2026-02-20T00:00:00.000Z', 500, [alloc('P1', 'sourced', 500)]),
        attributed('A3', '2026-02-21T00:00:00.000Z', 300, [alloc('P1', 'sourced', 300, 330)], 'EUR', 330),
        // reversed in its own period (April), not in January's
        reversed('A1', '2026-04-02T00:00:00.000Z', 100, [alloc('P1', 'sourced', 60), alloc('P2', 'sourced', 40), alloc('P3', 'influenced', 100)]),
      ),
    );

    it('groups by partner, month and currency, with reversals in the period of their own business date', () => {
      expect(attributionReport(db, { groupBy: 'month' }).items.map(api)).toEqual([
        { partnerId: 'P1', period: '2026-01', currency: 'USD', ...zero, sourcedMinor: 600, netSourcedMinor: 600 },
        { partnerId: 'P1', period: '2026-02', currency: 'EUR', ...zero, sourcedMinor: 300, netSourcedMinor: 300 },
        { partnerId: 'P1', period: '2026-02', currency: 'USD', ...zero, sourcedMinor: 500, netSourcedMinor: 500 },
        { partnerId: 'P1', period: '2026-04', currency: 'USD', ...zero, reversedSourcedMinor: 60, netSourcedMinor: -60 },
        { partnerId: 'P2', period: '2026-01', currency: 'USD', ...zero, sourcedMinor: 400, netSourcedMinor: 400 },
        { partnerId: 'P2', period: '2026-04', currency: 'USD', ...zero, reversedSourcedMinor: 40, netSourcedMinor: -40 },
        { partnerId: 'P3', period: '2026-01', currency: 'USD', ...zero, influencedMinor: 1000, netInfluencedMinor: 1000 },
        { partnerId: 'P3', period: '2026-04', currency: 'USD', ...zero, reversedInfluencedMinor: 100, netInfluencedMinor: -100 },
      ]);
    });

    it('groups by quarter', () => {
      const items = attributionReport(db, { groupBy: 'quarter', partnerId: 'P1' }).items;
      expect(items.map((i) => [i.period, i.currency, i.netSourcedMinor])).toEqual([
        ['2026-Q1', 'EUR', 300],
        ['2026-Q1', 'USD', 1100],
        ['2026-Q2', 'USD', -60],
      ]);
    });

    it('totals per currency and in the reporting currency, over the whole filter', () => {
      const r = attributionReport(db, { limit: 1 });
      expect(r.items).toHaveLength(1);
      expect(r.totals).toEqual([
        { currency: 'EUR', ...zero, sourcedMinor: 300, netSourcedMinor: 300 },
        { currency: 'USD', sourcedMinor: 1500, influencedMinor: 1000, reversedSourcedMinor: 100, reversedInfluencedMinor: 100, netSourcedMinor: 1400, netInfluencedMinor: 900 },
      ]);
      expect(r.reportingTotals).toEqual([
        { currency: 'USD', sourcedMinor: 1830, influencedMinor: 1000, reversedSourcedMinor: 100, reversedInfluencedMinor: 100, netSourcedMinor: 1730, netInfluencedMinor: 900 },
      ]);
    });

    it('filters by business time, both ends included', () => {
      const r = attributionReport(db, { from: '2026-02-20T00:00:00.000Z', to: '2026-04-02T00:00:00.000Z' });
      expect(r.items.map((i) => `${i.partnerId} ${i.period} ${i.currency}`)).toEqual(['P1 2026-02 EUR', 'P1 2026-02 USD', 'P1 2026-04 USD', 'P2 2026-04 USD', 'P3 2026-04 USD']);
      expect(attributionReport(db, { to: '2026-01-09T23:59:59.999Z' })).toEqual({ items: [], nextCursor: null, totals: [], reportingTotals: [] });
    });

    it('pages with a cursor, and the pages add up to the whole report', () => {
      const all = attributionReport(db, {}).items;
      const seen = [];
      let cursor: string | undefined;
      do {
        const page = attributionReport(db, { limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(all);
    });

    it("has the columns of API.md, in order, then the conversion's (the rate ones only where a rate applies)", () => {
      expect(API_COLUMNS).toEqual(['partnerId', 'period', 'currency', 'sourcedMinor', 'influencedMinor', 'reversedSourcedMinor', 'reversedInfluencedMinor', 'netSourcedMinor', 'netInfluencedMinor']);
      const domestic = ['rate', 'rateDate', 'rateSource'];
      expect(Object.keys(attributionReport(db, {}).items[0]!)).toEqual(REPORT_COLUMNS.filter((c) => !domestic.includes(c)));
    });

    it.each([
      [{ limit: 0 }, 'limit'],
      [{ limit: 1001 }, 'limit'],
      [{ cursor: 'nope!' }, 'cursor'],
      [{ cursor: Buffer.from('["P1"]').toString('base64url') }, 'cursor'],
      [{ groupBy: 'week' as never }, 'groupBy'],
      [{ from: '2026-02-01T00:00:00.000Z', to: '2026-01-01T00:00:00.000Z' }, 'from'],
    ])('refuses %j', (params, path) => {
      const act = () => attributionReport(db, params);
      expect(act).toThrow(InvalidInput);
      expect(act).toThrow(expect.objectContaining({ errors: [expect.objectContaining({ path })] }));
    });
  });

  it('gives a foreign-currency row its conversion: one row per rate, a reversal at the rate of its attribution, the caller\'s figure as source caller', () => {
    const ecb = (rate: string, rateDate: string) => ({ rate, rateDate, source: 'ECB' });
    given(
      attributed('E1', '2026-02-03T00:00:00.000Z', 10_000, [alloc('P1', 'sourced', 10_000, 10_834)], 'EUR', 10_834, ecb('1.0834', '2026-02-01T00:00:00.000Z')),
      attributed('E2', '2026-02-20T00:00:00.000Z', 20_000, [alloc('P1', 'sourced', 20_000, 21_800)], 'EUR', 21_800, ecb('1.09', '2026-02-15T00:00:00.000Z')),
      attributed('E3', '2026-02-21T00:00:00.000Z', 5_000, [alloc('P1', 'sourced', 5_000, 5_500)], 'EUR', 5_500),
      attributed('U1', '2026-02-22T00:00:00.000Z', 700, [alloc('P1', 'sourced', 700)]),
      reversed('E1', '2026-03-05T00:00:00.000Z', 1_000, [alloc('P1', 'sourced', 1_000, 1_083)], 'EUR'),
    );
    const rows = attributionReport(db, {}).items.map(({ period, currency, rate, rateDate, rateSource, netSourcedMinor, reportingNetSourcedMinor }) => ({ period, currency, rate, rateDate, rateSource, netSourcedMinor, reportingNetSourcedMinor }));
    expect(rows).toEqual([
      { period: '2026-02', currency: 'EUR', rate: '1.0834', rateDate: '2026-02-01T00:00:00.000Z', rateSource: 'ECB', netSourcedMinor: 10_000, reportingNetSourcedMinor: 10_834 },
      { period: '2026-02', currency: 'EUR', rate: '1.09', rateDate: '2026-02-15T00:00:00.000Z', rateSource: 'ECB', netSourcedMinor: 20_000, reportingNetSourcedMinor: 21_800 },
      { period: '2026-02', currency: 'EUR', rate: undefined, rateDate: undefined, rateSource: 'caller', netSourcedMinor: 5_000, reportingNetSourcedMinor: 5_500 },
      { period: '2026-02', currency: 'USD', rate: undefined, rateDate: undefined, rateSource: undefined, netSourcedMinor: 700, reportingNetSourcedMinor: 700 },
      { period: '2026-03', currency: 'EUR', rate: '1.0834', rateDate: '2026-02-01T00:00:00.000Z', rateSource: 'ECB', netSourcedMinor: -1_000, reportingNetSourcedMinor: -1_083 },
    ]);
    expect(attributionReport(db, {}).items.every((i) => i.reportingCurrency === 'USD')).toBe(true);
    // Pages split rows of one partner, period and currency that differ only by conversion, and add up to the whole.
    const seen = [];
    let cursor: string | undefined;
    do {
      const page = attributionReport(db, { limit: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(attributionReport(db, {}).items);
  });

  it('keeps sums exact beyond 2^53 inside SQLite and answers them as exact decimal strings, never rounded (a store from before amount-out-of-range)', () => {
    given(
      attributed('B1', '2026-01-01T00:00:00.000Z', Number.MAX_SAFE_INTEGER, [alloc('P1', 'sourced', Number.MAX_SAFE_INTEGER)]),
      attributed('B2', '2026-01-02T00:00:00.000Z', Number.MAX_SAFE_INTEGER, [alloc('P1', 'sourced', Number.MAX_SAFE_INTEGER)]),
      reversed('B2', '2026-01-03T00:00:00.000Z', Number.MAX_SAFE_INTEGER, [alloc('P1', 'sourced', Number.MAX_SAFE_INTEGER)]),
    );
    const twice = (2n * BigInt(Number.MAX_SAFE_INTEGER)).toString();
    expect(attributionReport(db, {}).totals[0]).toMatchObject({ sourcedMinor: twice, reversedSourcedMinor: Number.MAX_SAFE_INTEGER, netSourcedMinor: Number.MAX_SAFE_INTEGER });
    expect(attributionReport(db, { to: '2026-01-01T00:00:00.000Z' }).totals[0]?.sourcedMinor).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('applies a re-delivered event once', () => {
    const [recorded] = given(attributed('A1', '2026-01-10T00:00:00.000Z', 10, [alloc('P1', 'sourced', 10)]));
    spec.given(recorded!);
    expect(attributionReport(db, {}).totals[0]?.sourcedMinor).toBe(10);
  });

  it('given a reset and a migrate, then the report is empty', () => {
    given(attributed('A1', '2026-01-10T00:00:00.000Z', 10, [alloc('P1', 'sourced', 10)]));
    attributionProjection.reset(db);
    attributionProjection.migrate(db);
    expect(attributionReport(db, {})).toEqual({ items: [], nextCursor: null, totals: [], reportingTotals: [] });
  });
});
