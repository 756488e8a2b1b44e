/**
 * Exact splitting of an integer amount of minor units (DOMAIN.md, "Revenue attribution"): the parts are
 * integers, never negative, and always sum exactly to the total. Every product is taken in bigint, so
 * `amount × weight` (up to 2^53 × 2^53) never leaves exact arithmetic.
 */

export interface WeightedPart {
  /** Orders the parts among equal remainders (ascending, by UTF-16 code units: no locale). Unique. */
  readonly key: string;
  /** A non-negative integer: basis points of a share, or the minor units that remain of an allocation. */
  readonly weight: number | bigint;
}

export interface Share {
  readonly key: string;
  /** Basis points; the shares of one split sum to exactly 10,000. */
  readonly bps: number;
}

export const FULL_SHARE_BPS = 10_000;

/**
 * The largest-remainder (Hamilton) method: each part first gets `floor(total × weight / Σweight)`; the
 * units left over (fewer than the number of parts) go one each to the parts with the largest remainders,
 * ties to the smaller key. Returns the amounts in the order of `parts`.
 *
 * Consequences the callers rely on: a part is `floor` or `ceil` of its exact quota, so it never exceeds
 * its weight when `total ≤ Σweight` (a reversal never takes back more than an allocation holds), and a
 * part of weight 0 is always 0.
 */
export function allocateLargestRemainder(total: number | bigint, parts: readonly WeightedPart[]): number[] {
  const t = toNonNegativeBigInt(total, 'total');
  const weights = parts.map((p, i) => toNonNegativeBigInt(p.weight, `weight of part ${i}`));
  const keys = new Set(parts.map((p) => p.key));
  if (keys.size !== parts.length) throw new RangeError('the keys of the parts must be unique (they break ties)');
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (t === 0n) return parts.map(() => 0);
  if (sum === 0n) throw new RangeError('cannot split a non-zero total over parts whose weights sum to zero');

  const floors = weights.map((w) => (t * w) / sum);
  const remainders = weights.map((w) => (t * w) % sum);
  let left = t - floors.reduce((a, b) => a + b, 0n);
  const order = parts
    .map((_p, i) => i)
    .sort((a, b) => {
      const ra = remainders[a]!;
      const rb = remainders[b]!;
      if (ra !== rb) return ra > rb ? -1 : 1;
      const ka = parts[a]!.key;
      const kb = parts[b]!.key;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  const amounts = [...floors];
  for (const i of order) {
    if (left === 0n) break;
    amounts[i] = amounts[i]! + 1n;
    left -= 1n;
  }
  return amounts.map((a) => toSafeNumber(a));
}

/** Splits `total` by basis-point shares summing to exactly 10,000 (a partner's share of one credit type). */
export function splitByBps(total: number | bigint, shares: readonly Share[]): number[] {
  let sum = 0;
  for (const [i, s] of shares.entries()) {
    if (!Number.isSafeInteger(s.bps) || s.bps < 0 || s.bps > FULL_SHARE_BPS) {
      throw new RangeError(`share ${i} must be an integer number of basis points from 0 to ${FULL_SHARE_BPS}`);
    }
    sum += s.bps;
  }
  if (sum !== FULL_SHARE_BPS) throw new RangeError(`shares must sum to exactly ${FULL_SHARE_BPS} basis points, not ${sum}`);
  return allocateLargestRemainder(
    total,
    shares.map((s) => ({ key: s.key, weight: s.bps })),
  );
}

/**
 * `amount × numerator / denominator` rounded half away from zero (all operands non-negative, so half up),
 * exactly: the reporting-currency share of a partial reversal.
 */
export function mulDivRoundHalfUp(amount: number | bigint, numerator: number | bigint, denominator: number | bigint): number {
  const a = toNonNegativeBigInt(amount, 'amount');
  const n = toNonNegativeBigInt(numerator, 'numerator');
  const d = toNonNegativeBigInt(denominator, 'denominator');
  if (d === 0n) throw new RangeError('denominator must not be zero');
  return toSafeNumber((2n * a * n + d) / (2n * d));
}

function toNonNegativeBigInt(value: number | bigint, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RangeError(`${what} must not be negative`);
    return value;
  }
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be a safe integer (no floats, no unsafe integers)`);
  if (value < 0) throw new RangeError(`${what} must not be negative`);
  return BigInt(value);
}

function toSafeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('amount out of the safe integer range');
  return Number(value);
}
