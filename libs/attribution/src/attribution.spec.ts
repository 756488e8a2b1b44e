import fc from 'fast-check';
import type { AttributionCredit, AttributionEvent, RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import { AlreadyExists, InvalidInput, NamedRuleViolation, NotFound, RuleViolation } from '#libs/kernel/errors.js';
import { evolveExchangeRates, initialExchangeRateState, type ExchangeRateState } from '#libs/money/exchange-rates.js';
import {
  allocateCredits,
  attributionDecider,
  attributionStreamId,
  type AttributeRevenue,
  type AttributionState,
  type DealFact,
  type ExistingAttribution,
  type ReverseAttribution,
} from './attribution.js';

const NOW = new Date('2026-04-02T10:00:00.000Z');
const RECOGNIZED = '2026-03-15T00:00:00.000Z';

const spec = deciderSpec(attributionDecider, NOW);
const existing = (s: AttributionState): ExistingAttribution => {
  if (s.status === 'none') throw new Error('expected an attribution');
  return s;
};

/** The published rates of a pair, as the handler reads them: [date, rate] pairs, source ECB. */
const rates = (...published: [string, string][]): ExchangeRateState =>
  published.reduce(
    (st, [date, rate]) => evolveExchangeRates(st, { type: 'ExchangeRatePublished', data: { currency: 'X', reportingCurrency: 'USD', date, rate, source: 'ECB', publishedAt: NOW.toISOString() } }),
    initialExchangeRateState(),
  );

const sourced = (partnerId: string, shareBps: number): AttributionCredit => ({ partnerId, type: 'sourced', shareBps });
const influenced = (partnerId: string, shareBps: number): AttributionCredit => ({ partnerId, type: 'influenced', shareBps });

const attribute = (
  over: Partial<AttributeRevenue['data']> = {},
  facts: Partial<AttributeRevenue['facts']> = {},
): AttributeRevenue => {
  const data = { attributionId: 'A1', amount: { amountMinor: 100_00, currency: 'USD' }, recognizedAt: RECOGNIZED, credits: [sourced('P1', 10_000)], ...over };
  return {
    type: 'AttributeRevenue',
    data,
    facts: { reportingCurrency: 'USD', programVersion: 3, enrolledPartnerIds: data.credits.map((c) => c.partnerId), ...facts },
  };
};
const reverse = (over: Partial<ReverseAttribution['data']> = {}): ReverseAttribution => ({
  type: 'ReverseAttribution',
  data: { attributionId: 'A1', reason: 'refund', reversedAt: '2026-04-01T00:00:00.000Z', ...over },
});

const attributedEvent = (command: AttributeRevenue): RevenueAttributed => spec.given().when(command).events()[0] as RevenueAttributed;

describe('attribution stream', () => {
  it('is named attribution-<attributionId>', () => {
    expect(attributionStreamId('A-1')).toBe('attribution-A-1');
  });
});

describe('AttributeRevenue', () => {
  it('given no attribution, when one partner sources it all, then RevenueAttributed with one allocation of the whole amount', () => {
    expect(spec.given().when(attribute()).events()).toEqual([
      {
        type: 'RevenueAttributed',
        data: {
          attributionId: 'A1',
          amount: { amountMinor: 10000, currency: 'USD' },
          reportingCurrency: 'USD',
          recognizedAt: RECOGNIZED,
          credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10000 }],
          allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor: 10000 }],
          programVersion: 3,
          unregistered: true,
        },
      },
    ]);
  });

  it('credits each type present with the whole amount, split among its partners (sourced and influenced are two views of one amount)', () => {
    const e = attributedEvent(attribute({ amount: { amountMinor: 100, currency: 'USD' }, credits: [sourced('P1', 3334), sourced('P2', 3333), sourced('P3', 3333), influenced('P4', 5000), influenced('P1', 5000)] }));
    expect(e.data.allocations).toEqual([
      { partnerId: 'P1', type: 'sourced', amountMinor: 34 },
      { partnerId: 'P2', type: 'sourced', amountMinor: 33 },
      { partnerId: 'P3', type: 'sourced', amountMinor: 33 },
      { partnerId: 'P4', type: 'influenced', amountMinor: 50 },
      { partnerId: 'P1', type: 'influenced', amountMinor: 50 },
    ]);
  });

  it('keeps the order of the credits and breaks equal remainders by partnerId', () => {
    const e = attributedEvent(attribute({ amount: { amountMinor: 1, currency: 'USD' }, credits: [sourced('Z9', 5000), sourced('A1', 5000)] }));
    expect(e.data.allocations).toEqual([
      { partnerId: 'Z9', type: 'sourced', amountMinor: 0 },
      { partnerId: 'A1', type: 'sourced', amountMinor: 1 },
    ]);
  });

  it('records the won deal it is tied to, not unregistered', () => {
    const deal: DealFact = { dealId: 'D1', partnerId: 'P1', status: 'won', wonAmount: { amountMinor: 100_00, currency: 'USD' } };
    expect(attributedEvent(attribute({ dealId: 'D1' }, { deal })).data).toMatchObject({ dealId: 'D1', unregistered: false });
  });

  it('then the attribution holds the whole amount as what remains', () => {
    const s = existing(spec.given(attributedEvent(attribute({ credits: [sourced('P1', 5000), sourced('P2', 5000)] }))).state);
    expect(s).toMatchObject({ status: 'attributed', remainingMinor: 10000, reversals: 0 });
    expect(s.remaining).toEqual(s.allocations);
  });

  describe('in another currency than the reporting currency', () => {
    it('when reportingAmountMinor is given, then it is recorded and split the same way', () => {
      const e = attributedEvent(attribute({ amount: { amountMinor: 1000, currency: 'EUR' }, reportingAmountMinor: 1087, credits: [sourced('P1', 5000), sourced('P2', 5000), influenced('P3', 10000)] }));
      expect(e.data).toMatchObject({ reportingCurrency: 'USD', reportingAmountMinor: 1087 });
      expect(e.data.allocations).toEqual([
        { partnerId: 'P1', type: 'sourced', amountMinor: 500, reportingAmountMinor: 544 },
        { partnerId: 'P2', type: 'sourced', amountMinor: 500, reportingAmountMinor: 543 },
        { partnerId: 'P3', type: 'influenced', amountMinor: 1000, reportingAmountMinor: 1087 },
      ]);
    });

    it('when reportingAmountMinor is given, then the conversion is recorded as the caller\'s', () => {
      const e = attributedEvent(attribute({ amount: { amountMinor: 1000, currency: 'EUR' }, reportingAmountMinor: 1087 }));
      expect(e.data.conversion).toEqual({ source: 'caller', reportingAmountMinor: 1087 });
    });

    it('when reportingAmountMinor is missing and no rate is in force at recognizedAt, then no-exchange-rate naming it', () => {
      spec
        .given()
        .when(attribute({ amount: { amountMinor: 1000, currency: 'JPY' } }))
        .thenThrows(NamedRuleViolation, { problemType: 'no-exchange-rate', errors: [expect.objectContaining({ path: 'reportingAmountMinor' })] });
      const later = rates(['2026-03-16T00:00:00.000Z', '0.0067']);
      spec.given().when(attribute({ amount: { amountMinor: 1000, currency: 'JPY' } }, { rates: later })).thenThrows(NamedRuleViolation, { problemType: 'no-exchange-rate' });
    });

    it('when a rate is in force at recognizedAt, then the amount is converted exactly with both exponents and the conversion recorded', () => {
      const r = rates(['2026-01-01T00:00:00.000Z', '0.0066'], ['2026-03-01T00:00:00.000Z', '0.00667'], ['2026-04-01T00:00:00.000Z', '0.007']);
      const e = attributedEvent(attribute({ amount: { amountMinor: 123_457, currency: 'JPY' } }, { rates: r }));
      // ¥123,457 × 0.00667 = $823.45819 → 82346 cents
      expect(e.data).toMatchObject({ reportingAmountMinor: 82_346, conversion: { rate: '0.00667', rateDate: '2026-03-01T00:00:00.000Z', source: 'ECB', reportingAmountMinor: 82_346 } });
      expect(e.data.allocations[0]).toMatchObject({ reportingAmountMinor: 82_346 });
    });

    it('when the conversion would leave the safe integer range, then amount-out-of-range', () => {
      spec
        .given()
        .when(attribute({ amount: { amountMinor: Number.MAX_SAFE_INTEGER, currency: 'EUR' } }, { rates: rates(['2026-01-01T00:00:00.000Z', '1.1']) }))
        .thenThrows(NamedRuleViolation, { problemType: 'amount-out-of-range' });
    });

    it('follows the reporting currency of the program in force (no conversion in it)', () => {
      const e = attributedEvent(attribute({ amount: { amountMinor: 1000, currency: 'EUR' } }, { reportingCurrency: 'EUR' }));
      expect(e.data.reportingCurrency).toBe('EUR');
      expect(e.data).not.toHaveProperty('reportingAmountMinor');
      spec.given().when(attribute({ amount: { amountMinor: 1000, currency: 'USD' } }, { reportingCurrency: 'EUR' })).thenThrows(RuleViolation);
    });
  });

  describe('in the reporting currency', () => {
    it('when reportingAmountMinor equals the amount, then it is accepted and left out as redundant', () => {
      const e = attributedEvent(attribute({ reportingAmountMinor: 10000 }));
      expect(e.data).not.toHaveProperty('reportingAmountMinor');
      expect(e.data.allocations[0]).not.toHaveProperty('reportingAmountMinor');
    });

    it('when reportingAmountMinor differs from the amount, then RuleViolation', () => {
      spec.given().when(attribute({ reportingAmountMinor: 9999 })).thenThrows(RuleViolation);
    });
  });

  it('given an attribution, when attributed again with the same id, then AlreadyExists (never an overwrite)', () => {
    const s = spec.given(attributedEvent(attribute()));
    s.when(attribute()).thenThrows(AlreadyExists);
    s.when(attribute({ amount: { amountMinor: 1, currency: 'USD' } })).thenThrows(AlreadyExists);
  });

  it.each<[string, Partial<AttributeRevenue['data']>, string]>([
    ['sourced shares summing to 9,999', { credits: [sourced('P1', 5000), sourced('P2', 4999)] }, 'credits'],
    ['influenced shares summing to 10,001', { credits: [sourced('P1', 10000), influenced('P2', 5001), influenced('P3', 5000)] }, 'credits'],
    ['a partner twice in one type', { credits: [sourced('P1', 5000), sourced('P1', 5000)] }, 'credits.1.partnerId'],
    ['a zero share', { credits: [sourced('P1', 10000), sourced('P2', 0)] }, 'credits.1.shareBps'],
    ['a fractional share', { credits: [sourced('P1', 5000.5), sourced('P2', 4999.5)] }, 'credits.0.shareBps'],
    ['an unknown credit type', { credits: [{ partnerId: 'P1', type: 'referred' as never, shareBps: 10000 }] }, 'credits.0.type'],
    ['no credits', { credits: [] }, 'credits'],
    ['101 credits', { credits: Array.from({ length: 101 }, (_, i) => sourced(`P${i}`, i === 0 ? 9900 : 1)) }, 'credits'],
    ['a zero amount', { amount: { amountMinor: 0, currency: 'USD' } }, 'amount.amountMinor'],
    ['a float amount', { amount: { amountMinor: 10.5, currency: 'USD' } }, 'amount'],
    ['an unknown currency', { amount: { amountMinor: 10, currency: 'XXX' } }, 'amount'],
    ['a negative reporting amount', { amount: { amountMinor: 10, currency: 'EUR' }, reportingAmountMinor: -1 }, 'reportingAmountMinor'],
    ['an invalid attributionId', { attributionId: 'bad id' }, 'attributionId'],
    ['an invalid dealId', { dealId: '-x' }, 'dealId'],
    ['a time that is not canonical', { recognizedAt: '2026-03-15' }, 'recognizedAt'],
  ])('given no attribution, when attributed with %s, then InvalidInput (the request could never succeed)', (_what, over, path) => {
    const act = () => spec.given().when(attribute(over, { enrolledPartnerIds: Array.from({ length: 101 }, (_, i) => `P${i}`) })).events();
    expect(act).toThrow(InvalidInput);
    expect(act).toThrow(expect.objectContaining({ errors: expect.arrayContaining([expect.objectContaining({ path })]) }));
  });

  it('allows one partner in both types (it sourced and influenced)', () => {
    const e = attributedEvent(attribute({ credits: [sourced('P1', 10000), influenced('P1', 10000)] }));
    expect(e.data.allocations).toHaveLength(2);
  });

  it('when what is recorded already plus this amount would pass 2^53 − 1 in the currency or the reporting currency, then amount-out-of-range', () => {
    const recorded = (usd: number, reporting: number) => ({ recorded: { byCurrency: { USD: usd }, byReportingCurrency: { USD: reporting } } });
    expect(attributedEvent(attribute({}, recorded(Number.MAX_SAFE_INTEGER - 100_00, 0))).data.amount.amountMinor).toBe(100_00);
    spec.given().when(attribute({}, recorded(Number.MAX_SAFE_INTEGER - 100_00 + 1, 0))).thenThrows(NamedRuleViolation, { problemType: 'amount-out-of-range' });
    spec
      .given()
      .when(attribute({ amount: { amountMinor: 10, currency: 'EUR' }, reportingAmountMinor: 11 }, recorded(0, Number.MAX_SAFE_INTEGER - 10)))
      .thenThrows(NamedRuleViolation, { problemType: 'amount-out-of-range' });
  });

  it('given a credited partner that is not enrolled, then RuleViolation naming the credit', () => {
    const act = () => spec.given().when(attribute({ credits: [sourced('P1', 5000), sourced('GHOST', 5000)] }, { enrolledPartnerIds: ['P1'] })).events();
    expect(act).toThrow(RuleViolation);
    expect(act).toThrow(expect.objectContaining({ errors: [{ path: 'credits.1.partnerId', message: 'partner GHOST is not enrolled' }] }));
  });

  describe('an attribution that names a deal (v2)', () => {
    const deal: DealFact = { dealId: 'D1', partnerId: 'P1', status: 'won', wonAmount: { amountMinor: 100_00, currency: 'USD' } };

    it('given a deal the directory does not know, then RuleViolation', () => {
      spec.given().when(attribute({ dealId: 'D1' }, { deal: undefined })).thenThrows(RuleViolation);
    });

    it.each(['submitted', 'conflicted', 'approved', 'rejected', 'expired', 'lost'])('given a %s deal, then deal-not-won', (status) => {
      const { wonAmount: _w, ...notWon } = deal;
      spec.given().when(attribute({ dealId: 'D1' }, { deal: { ...notWon, status } })).thenThrows(NamedRuleViolation, { problemType: 'deal-not-won', extensions: { dealId: 'D1', dealStatus: status } });
    });

    it('given a won deal, when the amount is in another currency or above the won amount, then refused', () => {
      spec.given().when(attribute({ dealId: 'D1', amount: { amountMinor: 100, currency: 'EUR' }, reportingAmountMinor: 108 }, { deal })).thenThrows(RuleViolation, { errors: [expect.objectContaining({ path: 'amount.currency' })] });
      spec.given().when(attribute({ dealId: 'D1', amount: { amountMinor: 100_01, currency: 'USD' } }, { deal })).thenThrows(NamedRuleViolation, { problemType: 'exceeds-won-amount' });
    });

    it('given sourced credits without the registering partner, then RuleViolation', () => {
      spec.given().when(attribute({ dealId: 'D1', credits: [sourced('P2', 10000)] }, { deal })).thenThrows(RuleViolation, { message: expect.stringMatching(/registered by P1/) });
      spec.given().when(attribute({ dealId: 'D1', credits: [influenced('P2', 10000)] }, { deal })).thenThrows(RuleViolation);
    });

    it('shares sourced credit with other active partners (co-sell), refusing one that is not active', () => {
      const credits = [sourced('P1', 7000), sourced('P2', 3000), influenced('P3', 10000)];
      const e = attributedEvent(attribute({ dealId: 'D1', credits }, { deal, activePartnerIds: ['P1', 'P2'] }));
      expect(e.data.allocations).toEqual([
        { partnerId: 'P1', type: 'sourced', amountMinor: 70_00 },
        { partnerId: 'P2', type: 'sourced', amountMinor: 30_00 },
        { partnerId: 'P3', type: 'influenced', amountMinor: 100_00 },
      ]);
      spec.given().when(attribute({ dealId: 'D1', credits }, { deal, activePartnerIds: ['P1'] })).thenThrows(RuleViolation, { errors: [{ path: 'credits.1.partnerId', message: 'partner P2 is not active' }] });
    });
  });

  it('folds an event recorded before v2 (no unregistered, no conversion) as unregistered without a deal, a caller conversion with one', () => {
    const old: RevenueAttributed = {
      type: 'RevenueAttributed',
      data: {
        attributionId: 'OLD',
        amount: { amountMinor: 100, currency: 'EUR' },
        reportingCurrency: 'USD',
        reportingAmountMinor: 108,
        recognizedAt: RECOGNIZED,
        credits: [sourced('P1', 10000)],
        allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor: 100, reportingAmountMinor: 108 }],
        programVersion: 1,
      },
    };
    expect(existing(spec.given(old).state)).toMatchObject({ unregistered: true, conversion: { source: 'caller', reportingAmountMinor: 108 } });
    expect(existing(spec.given({ ...old, data: { ...old.data, dealId: 'D1' } }).state).unregistered).toBe(false);
  });
});

describe('ReverseAttribution', () => {
  const twoPartners = attributedEvent(attribute({ amount: { amountMinor: 101, currency: 'USD' }, credits: [sourced('P1', 5000), sourced('P2', 5000), influenced('P3', 10000)] }));

  it('given no attribution, then NotFound', () => {
    spec.given().when(reverse()).thenThrows(NotFound);
  });

  it('given an attribution, when reversed without an amount, then everything that remains is taken back, per allocation', () => {
    expect(spec.given(twoPartners).when(reverse()).events()).toEqual([
      {
        type: 'RevenueAttributionReversed',
        data: {
          attributionId: 'A1',
          sequence: 1,
          amountMinor: 101,
          currency: 'USD',
          reportingCurrency: 'USD',
          reason: 'refund',
          reversedAt: '2026-04-01T00:00:00.000Z',
          allocations: [
            { partnerId: 'P1', type: 'sourced', amountMinor: 51 },
            { partnerId: 'P2', type: 'sourced', amountMinor: 50 },
            { partnerId: 'P3', type: 'influenced', amountMinor: 101 },
          ],
          remainingMinor: 0,
        },
      },
    ]);
  });

  it('when reversed in part, then the part is split over what remains of each allocation', () => {
    const [first] = spec.given(twoPartners).when(reverse({ amountMinor: 1 })).events() as RevenueAttributionReversed[];
    // P1 holds 51, P2 50: 1 × 51/101 and 1 × 50/101 — P1's remainder is larger
    expect(first!.data.allocations).toEqual([
      { partnerId: 'P1', type: 'sourced', amountMinor: 1 },
      { partnerId: 'P2', type: 'sourced', amountMinor: 0 },
      { partnerId: 'P3', type: 'influenced', amountMinor: 1 },
    ]);
    const s = existing(spec.given(twoPartners, first!).state);
    expect(s).toMatchObject({ status: 'attributed', remainingMinor: 100, reversals: 1 });
    expect(s.remaining.map((r) => r.amountMinor)).toEqual([50, 50, 100]);
    const [second] = spec.given(twoPartners, first!).when(reverse({ amountMinor: 100 })).events() as RevenueAttributionReversed[];
    expect(second!.data).toMatchObject({ sequence: 2, remainingMinor: 0 });
    expect(existing(spec.given(twoPartners, first!, second!).state)).toMatchObject({ status: 'reversed', remainingMinor: 0 });
  });

  it('when asked for more than remains, then RuleViolation with what remains', () => {
    const act = () => spec.given(twoPartners).when(reverse({ amountMinor: 102 })).events();
    expect(act).toThrow(RuleViolation);
    expect(act).toThrow(expect.objectContaining({ extensions: { remainingMinor: 101 } }));
  });

  it('given a fully reversed attribution, when reversed again, then RuleViolation', () => {
    const all = spec.given(twoPartners).when(reverse()).events();
    spec.given(twoPartners, ...all).when(reverse()).thenThrows(RuleViolation);
    spec.given(twoPartners, ...all).when(reverse({ amountMinor: 1 })).thenThrows(RuleViolation);
  });

  it('when the reversal would precede the recognition, then RuleViolation', () => {
    spec.given(twoPartners).when(reverse({ reversedAt: '2026-03-14T23:59:59.999Z' })).thenThrows(RuleViolation);
    expect(spec.given(twoPartners).when(reverse({ reversedAt: RECOGNIZED })).events()).toHaveLength(1);
  });

  it.each<[string, Partial<ReverseAttribution['data']>, string]>([
    ['a zero amount', { amountMinor: 0 }, 'amountMinor'],
    ['a float amount', { amountMinor: 0.5 }, 'amountMinor'],
    ['a negative amount', { amountMinor: -1 }, 'amountMinor'],
    ['an empty reason', { reason: ' ' }, 'reason'],
    ['a reason over 500 characters', { reason: 'x'.repeat(501) }, 'reason'],
    ['a reversedAt that is not a time', { reversedAt: 'yesterday' }, 'reversedAt'],
  ])('when reversed with %s, then InvalidInput', (_what, over, path) => {
    const act = () => spec.given(twoPartners).when(reverse(over)).events();
    expect(act).toThrow(InvalidInput);
    expect(act).toThrow(expect.objectContaining({ errors: [expect.objectContaining({ path })] }));
  });

  it('takes the reporting amount back in proportion, and all of it with the last cent', () => {
    const eur = attributedEvent(attribute({ amount: { amountMinor: 300, currency: 'EUR' }, reportingAmountMinor: 326, credits: [sourced('P1', 5000), sourced('P2', 5000)] }));
    const [part] = spec.given(eur).when(reverse({ amountMinor: 100 })).events() as RevenueAttributionReversed[];
    // 100 × 326 / 300 = 108.67 → 109, split 55/54 over the remaining 163/163
    expect(part!.data).toMatchObject({ amountMinor: 100, reportingAmountMinor: 109, remainingMinor: 200 });
    expect(part!.data.allocations).toEqual([
      { partnerId: 'P1', type: 'sourced', amountMinor: 50, reportingAmountMinor: 55 },
      { partnerId: 'P2', type: 'sourced', amountMinor: 50, reportingAmountMinor: 54 },
    ]);
    const [rest] = spec.given(eur, part!).when(reverse()).events() as RevenueAttributionReversed[];
    expect(rest!.data).toMatchObject({ amountMinor: 200, reportingAmountMinor: 217 });
    expect(existing(spec.given(eur, part!, rest!).state).remaining.every((r) => r.amountMinor === 0 && r.reportingAmountMinor === 0)).toBe(true);
  });
});

describe('properties (fast-check)', () => {
  const bpsVector = (n: number) =>
    fc.uniqueArray(fc.integer({ min: 1, max: 9999 }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => {
      const b = [0, ...[...cuts].sort((x, y) => x - y), 10000];
      return b.slice(1).map((v, i) => v - b[i]!);
    });
  const creditsArb = fc
    .record({ s: fc.integer({ min: 0, max: 6 }), i: fc.integer({ min: 0, max: 6 }) })
    .filter(({ s, i }) => s + i > 0)
    .chain(({ s, i }) =>
      fc.tuple(s ? bpsVector(s) : fc.constant([] as number[]), i ? bpsVector(i) : fc.constant([] as number[]), fc.shuffledSubarray(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'], { minLength: 6, maxLength: 6 })).map(
        ([sb, ib, ids]) => [...sb.map((b, k) => sourced(ids[k]!, b)), ...ib.map((b, k) => influenced(ids[(k + 3) % 6]!, b))],
      ),
    );
  const amountArb = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));

  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new Error(`property broken: ${what}`);
  };
  const sumsPerType = (allocations: readonly { type: string; amountMinor: number; reportingAmountMinor?: number }[], field: 'amountMinor' | 'reportingAmountMinor') => {
    const sums = new Map<string, bigint>();
    for (const a of allocations) sums.set(a.type, (sums.get(a.type) ?? 0n) + BigInt(a[field] ?? 0));
    return sums;
  };

  it('allocations of every type present sum exactly to the amount (and the reporting amount), never negative', () => {
    fc.assert(
      fc.property(creditsArb, amountArb, fc.option(amountArb, { nil: undefined }), (credits, amount, reporting) => {
        const allocations = allocateCredits(credits, amount, reporting);
        check(allocations.length === credits.length, 'one allocation per credit');
        for (const [, sum] of sumsPerType(allocations, 'amountMinor')) check(sum === BigInt(amount), 'each type sums to the amount');
        if (reporting !== undefined) for (const [, sum] of sumsPerType(allocations, 'reportingAmountMinor')) check(sum === BigInt(reporting), 'each type sums to the reporting amount');
        for (const a of allocations) check(a.amountMinor >= 0 && (a.reportingAmountMinor ?? 0) >= 0, 'no allocation is negative');
      }),
      { numRuns: 3000 },
    );
  });

  it('any sequence of partial reversals splits exactly, never takes more than an allocation holds, and ends at zero', () => {
    fc.assert(
      fc.property(
        creditsArb,
        amountArb,
        fc.option(fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), { nil: undefined }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
        (credits, amount, reportingAmountMinor, fractions) => {
          const foreign = reportingAmountMinor !== undefined;
          const events: AttributionEvent[] = [
            attributedEvent(
              attribute(
                { amount: { amountMinor: amount, currency: foreign ? 'EUR' : 'USD' }, credits, ...(reportingAmountMinor !== undefined ? { reportingAmountMinor } : {}) },
                { enrolledPartnerIds: credits.map((c) => c.partnerId) },
              ),
            ),
          ];
          for (const f of [...fractions, 1]) {
            const s = existing(spec.given(...events).state);
            if (s.remainingMinor === 0) break;
            const part = f === 1 ? undefined : Math.max(1, Math.floor(s.remainingMinor * f));
            const [e] = spec.given(...events).when(reverse(part === undefined ? {} : { amountMinor: part })).events() as RevenueAttributionReversed[];
            const d = e!.data;
            // Plain checks in the loop (thousands of runs): `expect` only once a property fails.
            for (const [, sum] of sumsPerType(d.allocations, 'amountMinor')) check(sum === BigInt(d.amountMinor), 'reversal parts sum to the reversal');
            if (foreign) for (const [, sum] of sumsPerType(d.allocations, 'reportingAmountMinor')) check(sum === BigInt(d.reportingAmountMinor!), 'reporting parts sum');
            d.allocations.forEach((a, i) => {
              check(a.amountMinor >= 0 && a.amountMinor <= s.remaining[i]!.amountMinor, 'a part is within what its allocation holds');
              if (foreign) check(a.reportingAmountMinor! >= 0 && a.reportingAmountMinor! <= s.remaining[i]!.reportingAmountMinor!, 'a reporting part is within what remains');
            });
            events.push(e!);
            const after = existing(spec.given(...events).state);
            check(after.remainingMinor === s.remainingMinor - d.amountMinor, 'remaining decreases by the reversal');
            check(after.remaining.every((r) => r.amountMinor >= 0), 'nothing remains negative');
            for (const [, sum] of sumsPerType(after.remaining, 'amountMinor')) check(sum === BigInt(after.remainingMinor), 'each type still sums to what remains');
          }
          const end = existing(spec.given(...events).state);
          check(end.status === 'reversed', 'fully reversed at the end');
          check(end.remaining.every((r) => r.amountMinor === 0 && (r.reportingAmountMinor ?? 0) === 0), 'every allocation is back to zero');
          check((end.remainingReportingMinor ?? 0) === 0, 'the reporting amount is back to zero');
        },
      ),
      { numRuns: 1500 },
    );
  });
});
