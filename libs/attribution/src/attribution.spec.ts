import fc from 'fast-check';
import type { AttributionCredit, AttributionEvent, RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import { fold } from '#libs/kernel/decider.js';
import { AlreadyExists, InvalidInput, NotFound, RuleViolation } from '#libs/kernel/errors.js';
import {
  allocateCredits,
  attributionDecider,
  attributionStreamId,
  type AttributeRevenue,
  type AttributionCommand,
  type AttributionState,
  type DealFact,
  type ExistingAttribution,
  type ReverseAttribution,
} from './attribution.js';

const NOW = new Date('2026-04-02T10:00:00.000Z');
const RECOGNIZED = '2026-03-15T00:00:00.000Z';

const given = (...events: AttributionEvent[]): AttributionState => fold(attributionDecider.evolve, attributionDecider.initialState(), events);
const when = (state: AttributionState, command: AttributionCommand) => attributionDecider.decide(command, state, NOW);
const existing = (s: AttributionState): ExistingAttribution => {
  if (s.status === 'none') throw new Error('expected an attribution');
  return s;
};

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

const attributedEvent = (command: AttributeRevenue): RevenueAttributed => when(given(), command)[0] as RevenueAttributed;

describe('attribution stream', () => {
  it('is named attribution-<attributionId>', () => {
    expect(attributionStreamId('A-1')).toBe('attribution-A-1');
  });
});

describe('AttributeRevenue', () => {
  it('given no attribution, when one partner sources it all, then RevenueAttributed with one allocation of the whole amount', () => {
    expect(when(given(), attribute())).toEqual([
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

  it('records the deal it is tied to when the deal allows it', () => {
    const deal: DealFact = { dealId: 'D1', partnerId: 'P1', status: 'won' };
    expect(attributedEvent(attribute({ dealId: 'D1' }, { deal })).data.dealId).toBe('D1');
    expect(attributedEvent(attribute({ dealId: 'D1' }, { deal: { ...deal, status: 'approved' } })).data.dealId).toBe('D1');
  });

  it('then the attribution holds the whole amount as what remains', () => {
    const s = existing(given(attributedEvent(attribute({ credits: [sourced('P1', 5000), sourced('P2', 5000)] }))));
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

    it('when reportingAmountMinor is missing, then RuleViolation naming it (the program in force decides the reporting currency)', () => {
      const act = () => when(given(), attribute({ amount: { amountMinor: 1000, currency: 'JPY' } }));
      expect(act).toThrow(RuleViolation);
      expect(act).toThrow(expect.objectContaining({ errors: [expect.objectContaining({ path: 'reportingAmountMinor' })] }));
    });

    it('follows the reporting currency of the program in force', () => {
      const e = attributedEvent(attribute({ amount: { amountMinor: 1000, currency: 'EUR' } }, { reportingCurrency: 'EUR' }));
      expect(e.data.reportingCurrency).toBe('EUR');
      expect(e.data).not.toHaveProperty('reportingAmountMinor');
      expect(() => when(given(), attribute({ amount: { amountMinor: 1000, currency: 'USD' } }, { reportingCurrency: 'EUR' }))).toThrow(RuleViolation);
    });
  });

  describe('in the reporting currency', () => {
    it('when reportingAmountMinor equals the amount, then it is accepted and left out as redundant', () => {
      const e = attributedEvent(attribute({ reportingAmountMinor: 10000 }));
      expect(e.data).not.toHaveProperty('reportingAmountMinor');
      expect(e.data.allocations[0]).not.toHaveProperty('reportingAmountMinor');
    });

    it('when reportingAmountMinor differs from the amount, then RuleViolation', () => {
      expect(() => when(given(), attribute({ reportingAmountMinor: 9999 }))).toThrow(RuleViolation);
    });
  });

  it('given an attribution, when attributed again with the same id, then AlreadyExists (never an overwrite)', () => {
    const s = given(attributedEvent(attribute()));
    expect(() => when(s, attribute())).toThrow(AlreadyExists);
    expect(() => when(s, attribute({ amount: { amountMinor: 1, currency: 'USD' } }))).toThrow(AlreadyExists);
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
    const act = () => when(given(), attribute(over, { enrolledPartnerIds: Array.from({ length: 101 }, (_, i) => `P${i}`) }));
    expect(act).toThrow(InvalidInput);
    expect(act).toThrow(expect.objectContaining({ errors: expect.arrayContaining([expect.objectContaining({ path })]) }));
  });

  it('allows one partner in both types (it sourced and influenced)', () => {
    const e = attributedEvent(attribute({ credits: [sourced('P1', 10000), influenced('P1', 10000)] }));
    expect(e.data.allocations).toHaveLength(2);
  });

  it('given a credited partner that is not enrolled, then RuleViolation naming the credit', () => {
    const act = () => when(given(), attribute({ credits: [sourced('P1', 5000), sourced('GHOST', 5000)] }, { enrolledPartnerIds: ['P1'] }));
    expect(act).toThrow(RuleViolation);
    expect(act).toThrow(expect.objectContaining({ errors: [{ path: 'credits.1.partnerId', message: 'partner GHOST is not enrolled' }] }));
  });

  describe('a sourced credit that names a deal', () => {
    const deal: DealFact = { dealId: 'D1', partnerId: 'P1', status: 'approved' };

    it('given a deal the directory does not know, then RuleViolation', () => {
      expect(() => when(given(), attribute({ dealId: 'D1' }, { deal: undefined }))).toThrow(RuleViolation);
    });

    it('given a deal registered by another partner, then RuleViolation', () => {
      const act = () => when(given(), attribute({ dealId: 'D1', credits: [sourced('P2', 10000)] }, { deal }));
      expect(act).toThrow(RuleViolation);
      expect(act).toThrow(/registered it \(P1\)/);
    });

    it.each(['submitted', 'conflicted', 'rejected', 'expired', 'lost'])('given a %s deal, then RuleViolation (approved or won only)', (status) => {
      expect(() => when(given(), attribute({ dealId: 'D1' }, { deal: { ...deal, status } }))).toThrow(RuleViolation);
    });

    it('does not bind influenced credits to the registrant', () => {
      const e = attributedEvent(attribute({ dealId: 'D1', credits: [sourced('P1', 10000), influenced('P2', 10000)] }, { deal }));
      expect(e.data.allocations.map((a) => a.partnerId)).toEqual(['P1', 'P2']);
    });

    it('given only influenced credits, a dealId must still name a registered deal', () => {
      expect(() => when(given(), attribute({ dealId: 'D1', credits: [influenced('P2', 10000)] }, { deal: undefined }))).toThrow(RuleViolation);
      expect(attributedEvent(attribute({ dealId: 'D1', credits: [influenced('P2', 10000)] }, { deal: { ...deal, status: 'submitted' } })).data.dealId).toBe('D1');
    });
  });
});

describe('ReverseAttribution', () => {
  const twoPartners = attributedEvent(attribute({ amount: { amountMinor: 101, currency: 'USD' }, credits: [sourced('P1', 5000), sourced('P2', 5000), influenced('P3', 10000)] }));

  it('given no attribution, then NotFound', () => {
    expect(() => when(given(), reverse())).toThrow(NotFound);
  });

  it('given an attribution, when reversed without an amount, then everything that remains is taken back, per allocation', () => {
    expect(when(given(twoPartners), reverse())).toEqual([
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
    const [first] = when(given(twoPartners), reverse({ amountMinor: 1 })) as RevenueAttributionReversed[];
    // P1 holds 51, P2 50: 1 × 51/101 and 1 × 50/101 — P1's remainder is larger
    expect(first!.data.allocations).toEqual([
      { partnerId: 'P1', type: 'sourced', amountMinor: 1 },
      { partnerId: 'P2', type: 'sourced', amountMinor: 0 },
      { partnerId: 'P3', type: 'influenced', amountMinor: 1 },
    ]);
    const s = existing(given(twoPartners, first!));
    expect(s).toMatchObject({ status: 'attributed', remainingMinor: 100, reversals: 1 });
    expect(s.remaining.map((r) => r.amountMinor)).toEqual([50, 50, 100]);
    const [second] = when(s, reverse({ amountMinor: 100 })) as RevenueAttributionReversed[];
    expect(second!.data).toMatchObject({ sequence: 2, remainingMinor: 0 });
    expect(existing(given(twoPartners, first!, second!))).toMatchObject({ status: 'reversed', remainingMinor: 0 });
  });

  it('when asked for more than remains, then RuleViolation with what remains', () => {
    const act = () => when(given(twoPartners), reverse({ amountMinor: 102 }));
    expect(act).toThrow(RuleViolation);
    expect(act).toThrow(expect.objectContaining({ extensions: { remainingMinor: 101 } }));
  });

  it('given a fully reversed attribution, when reversed again, then RuleViolation', () => {
    const all = when(given(twoPartners), reverse());
    expect(() => when(given(twoPartners, ...all), reverse())).toThrow(RuleViolation);
    expect(() => when(given(twoPartners, ...all), reverse({ amountMinor: 1 }))).toThrow(RuleViolation);
  });

  it('when the reversal would precede the recognition, then RuleViolation', () => {
    expect(() => when(given(twoPartners), reverse({ reversedAt: '2026-03-14T23:59:59.999Z' }))).toThrow(RuleViolation);
    expect(when(given(twoPartners), reverse({ reversedAt: RECOGNIZED }))).toHaveLength(1);
  });

  it.each<[string, Partial<ReverseAttribution['data']>, string]>([
    ['a zero amount', { amountMinor: 0 }, 'amountMinor'],
    ['a float amount', { amountMinor: 0.5 }, 'amountMinor'],
    ['a negative amount', { amountMinor: -1 }, 'amountMinor'],
    ['an empty reason', { reason: ' ' }, 'reason'],
    ['a reason over 500 characters', { reason: 'x'.repeat(501) }, 'reason'],
    ['a reversedAt that is not a time', { reversedAt: 'yesterday' }, 'reversedAt'],
  ])('when reversed with %s, then InvalidInput', (_what, over, path) => {
    const act = () => when(given(twoPartners), reverse(over));
    expect(act).toThrow(InvalidInput);
    expect(act).toThrow(expect.objectContaining({ errors: [expect.objectContaining({ path })] }));
  });

  it('takes the reporting amount back in proportion, and all of it with the last cent', () => {
    const eur = attributedEvent(attribute({ amount: { amountMinor: 300, currency: 'EUR' }, reportingAmountMinor: 326, credits: [sourced('P1', 5000), sourced('P2', 5000)] }));
    const [part] = when(given(eur), reverse({ amountMinor: 100 })) as RevenueAttributionReversed[];
    // 100 × 326 / 300 = 108.67 → 109, split 55/54 over the remaining 163/163
    expect(part!.data).toMatchObject({ amountMinor: 100, reportingAmountMinor: 109, remainingMinor: 200 });
    expect(part!.data.allocations).toEqual([
      { partnerId: 'P1', type: 'sourced', amountMinor: 50, reportingAmountMinor: 55 },
      { partnerId: 'P2', type: 'sourced', amountMinor: 50, reportingAmountMinor: 54 },
    ]);
    const [rest] = when(given(eur, part!), reverse()) as RevenueAttributionReversed[];
    expect(rest!.data).toMatchObject({ amountMinor: 200, reportingAmountMinor: 217 });
    expect(existing(given(eur, part!, rest!)).remaining.every((r) => r.amountMinor === 0 && r.reportingAmountMinor === 0)).toBe(true);
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
            const s = existing(given(...events));
            if (s.remainingMinor === 0) break;
            const part = f === 1 ? undefined : Math.max(1, Math.floor(s.remainingMinor * f));
            const [e] = when(s, reverse(part === undefined ? {} : { amountMinor: part })) as RevenueAttributionReversed[];
            const d = e!.data;
            // Plain checks in the loop (thousands of runs): `expect` only once a property fails.
            for (const [, sum] of sumsPerType(d.allocations, 'amountMinor')) check(sum === BigInt(d.amountMinor), 'reversal parts sum to the reversal');
            if (foreign) for (const [, sum] of sumsPerType(d.allocations, 'reportingAmountMinor')) check(sum === BigInt(d.reportingAmountMinor!), 'reporting parts sum');
            d.allocations.forEach((a, i) => {
              check(a.amountMinor >= 0 && a.amountMinor <= s.remaining[i]!.amountMinor, 'a part is within what its allocation holds');
              if (foreign) check(a.reportingAmountMinor! >= 0 && a.reportingAmountMinor! <= s.remaining[i]!.reportingAmountMinor!, 'a reporting part is within what remains');
            });
            events.push(e!);
            const after = existing(given(...events));
            check(after.remainingMinor === s.remainingMinor - d.amountMinor, 'remaining decreases by the reversal');
            check(after.remaining.every((r) => r.amountMinor >= 0), 'nothing remains negative');
            for (const [, sum] of sumsPerType(after.remaining, 'amountMinor')) check(sum === BigInt(after.remainingMinor), 'each type still sums to what remains');
          }
          const end = existing(given(...events));
          check(end.status === 'reversed', 'fully reversed at the end');
          check(end.remaining.every((r) => r.amountMinor === 0 && (r.reportingAmountMinor ?? 0) === 0), 'every allocation is back to zero');
          check((end.remainingReportingMinor ?? 0) === 0, 'the reporting amount is back to zero');
        },
      ),
      { numRuns: 1500 },
    );
  });
});
