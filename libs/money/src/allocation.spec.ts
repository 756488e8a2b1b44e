import fc from 'fast-check';
import { allocateLargestRemainder, FULL_SHARE_BPS, mulDivRoundHalfUp, splitByBps } from './allocation.js';

const RUNS = 5000;

/** Plain checks inside properties run thousands of times (`expect` is slow); a failure still shrinks and reports. */
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`property broken: ${what}`);
}

/** Random basis-point vectors that sum to exactly 10,000: cut points in [0, 10000], sorted. */
const bpsVector = (maxParts = 12) =>
  fc.integer({ min: 1, max: maxParts }).chain((n) =>
    fc.uniqueArray(fc.integer({ min: 1, max: FULL_SHARE_BPS - 1 }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => {
      const sorted = [...cuts].sort((a, b) => a - b);
      const bounds = [0, ...sorted, FULL_SHARE_BPS];
      return bounds.slice(1).map((b, i) => b - bounds[i]!);
    }),
  );

const keys = (n: number) => Array.from({ length: n }, (_, i) => `P${String(i).padStart(3, '0')}`);
const amount = fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 1_000_000_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

describe('splitByBps (largest remainder)', () => {
  it.each<[number, number[], number[]]>([
    [100, [5000, 5000], [50, 50]],
    [101, [5000, 5000], [51, 50]],
    [100, [3334, 3333, 3333], [34, 33, 33]],
    [1, [3334, 3333, 3333], [1, 0, 0]],
    [2, [3333, 3334, 3333], [1, 1, 0]],
    [10, [10000], [10]],
    [0, [2500, 7500], [0, 0]],
    [999, [1, 9999], [0, 999]],
    [Number.MAX_SAFE_INTEGER, [5000, 5000], [4503599627370496, 4503599627370495]],
  ])('splits %i by %j into %j', (total, bps, expected) => {
    expect(splitByBps(total, bps.map((b, i) => ({ key: `P${i}`, bps: b })))).toEqual(expected);
  });

  it('breaks ties by key, not by position', () => {
    // three equal remainders, one unit left: the smallest key gets it wherever it stands
    expect(splitByBps(1, [{ key: 'zeta', bps: 5000 }, { key: 'alpha', bps: 5000 }])).toEqual([0, 1]);
    expect(splitByBps(2, [{ key: 'c', bps: 3334 }, { key: 'b', bps: 3333 }, { key: 'a', bps: 3333 }])).toEqual([1, 0, 1]);
  });

  it('compares keys by code unit, not locale (uppercase sorts first)', () => {
    expect(splitByBps(1, [{ key: 'a', bps: 5000 }, { key: 'B', bps: 5000 }])).toEqual([0, 1]);
  });

  it('gives the larger remainder the extra unit before any tie-break', () => {
    // 10 × 0.3333 = 3.333, 10 × 0.6667 = 6.667: the 0.667 remainder wins although "a" sorts first
    expect(splitByBps(10, [{ key: 'a', bps: 3333 }, { key: 'b', bps: 6667 }])).toEqual([3, 7]);
  });

  it.each([
    [[5000, 4999]],
    [[5000, 5001]],
    [[]],
    [[10000.5]],
    [[-1, 10001]],
  ])('refuses shares %j that are not integers summing to 10,000', (bps) => {
    expect(() => splitByBps(100, bps.map((b, i) => ({ key: `P${i}`, bps: b })))).toThrow(RangeError);
  });

  it.each([[1.5], [-1], [Number.MAX_SAFE_INTEGER + 1], [Number.NaN]])('refuses a total of %p', (total) => {
    expect(() => splitByBps(total, [{ key: 'P', bps: 10000 }])).toThrow(RangeError);
  });

  it('refuses duplicate keys (they could not break a tie)', () => {
    expect(() => splitByBps(1, [{ key: 'P', bps: 5000 }, { key: 'P', bps: 5000 }])).toThrow(RangeError);
  });

  it('property: the parts sum exactly to the total, are never negative, and each is the floor or ceiling of its exact quota', () => {
    fc.assert(
      fc.property(amount, bpsVector(), (total, bps) => {
        const parts = splitByBps(total, bps.map((b, i) => ({ key: keys(bps.length)[i]!, bps: b })));
        check(parts.reduce((s, p) => s + BigInt(p), 0n) === BigInt(total), 'the parts sum exactly to the total');
        for (const [i, p] of parts.entries()) {
          check(Number.isSafeInteger(p) && p >= 0, 'a part is a non-negative safe integer');
          const floor = (BigInt(total) * BigInt(bps[i]!)) / 10_000n;
          check(BigInt(p) === floor || BigInt(p) === floor + 1n, 'a part is the floor or the ceiling of its quota');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('property: the same shares in another order give each partner the same amount', () => {
    fc.assert(
      fc.property(amount, bpsVector(8), fc.integer(), (total, bps, seed) => {
        const shares = bps.map((b, i) => ({ key: keys(bps.length)[i]!, bps: b }));
        const shuffled = [...shares].sort((a, b) => ((a.key.charCodeAt(3) * 31 + seed) % 7) - ((b.key.charCodeAt(3) * 31 + seed) % 7));
        const byKey = (s: typeof shares) => Object.fromEntries(splitByBps(total, s).map((p, i) => [s[i]!.key, p]));
        expect(byKey(shuffled)).toEqual(byKey(shares));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('allocateLargestRemainder over arbitrary weights (reversals over what remains)', () => {
  const weights = fc.array(fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), { minLength: 1, maxLength: 10 });

  it('property: a part of any total up to Σweight never exceeds its weight, and the parts sum exactly', () => {
    fc.assert(
      fc.property(
        weights.filter((w) => w.some((x) => x > 0)),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (ws, fraction) => {
          const sum = ws.reduce((s, w) => s + BigInt(w), 0n);
          // a total from 0 to Σweight (capped to the safe range, as amounts are)
          const cap = sum < BigInt(Number.MAX_SAFE_INTEGER) ? sum : BigInt(Number.MAX_SAFE_INTEGER);
          const total = BigInt(Math.floor(Number(cap) * fraction));
          const parts = allocateLargestRemainder(total, ws.map((w, i) => ({ key: keys(ws.length)[i]!, weight: w })));
          check(parts.reduce((s, p) => s + BigInt(p), 0n) === total, 'the parts sum exactly to the total');
          parts.forEach((p, i) => check(p >= 0 && p <= ws[i]! && (ws[i] !== 0 || p === 0), 'a part is within 0 and its weight'));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('property: taking everything gives back exactly each weight', () => {
    fc.assert(
      fc.property(weights.filter((w) => w.some((x) => x > 0) && w.reduce((s, x) => s + x, 0) <= Number.MAX_SAFE_INTEGER), (ws) => {
        const total = ws.reduce((s, w) => s + w, 0);
        expect(allocateLargestRemainder(total, ws.map((w, i) => ({ key: keys(ws.length)[i]!, weight: w })))).toEqual(ws);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts bigint weights beyond the safe range (products stay exact)', () => {
    const huge = 2n ** 80n;
    expect(allocateLargestRemainder(3, [{ key: 'a', weight: huge }, { key: 'b', weight: huge }, { key: 'c', weight: huge }])).toEqual([1, 1, 1]);
  });

  it('refuses a non-zero total over zero weights, and splits zero over anything', () => {
    expect(() => allocateLargestRemainder(1, [{ key: 'a', weight: 0 }])).toThrow(RangeError);
    expect(allocateLargestRemainder(0, [{ key: 'a', weight: 0 }])).toEqual([0]);
  });
});

describe('mulDivRoundHalfUp', () => {
  it.each([
    [1, 1, 2, 1],
    [1, 1, 3, 0],
    [2, 1, 3, 1],
    [5, 3, 10, 2],
    [7, 7, 7, 7],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  ])('%i × %i / %i → %i', (a, n, d, expected) => {
    expect(mulDivRoundHalfUp(a, n, d)).toBe(expected);
  });

  it('refuses a zero denominator', () => {
    expect(() => mulDivRoundHalfUp(1, 1, 0)).toThrow(RangeError);
  });
});
