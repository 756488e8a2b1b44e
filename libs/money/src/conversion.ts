import { currencyExponent } from './currency.js';

/**
 * Exact currency conversion on minor units (DOMAIN.md, "Exchange rates (v2)"). A rate is a decimal string of
 * units of the target currency per unit of the source currency; it is read into an integer and a power of ten,
 * so the whole computation is integer arithmetic in bigint and the result is rounded once, half away from zero.
 */
export const MAX_RATE_SIGNIFICANT_DIGITS = 12;

/** Positive, plain decimal notation (no exponent, no sign): `1.0834`, `151.2`, `0.00734`. */
const RATE_PATTERN = /^(?:0|[1-9]\d*)(?:\.\d+)?$/;

export interface ParsedRate {
  /** The rate is `units / 10^scale`. */
  readonly units: bigint;
  readonly scale: number;
}

/** Why `value` is not a rate, or undefined when it is one. */
export function rateProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || !RATE_PATTERN.test(value)) return 'must be a positive decimal string such as "1.0834" (no exponent, no sign)';
  const digits = value.replace('.', '').replace(/^0+/, '');
  const significant = digits.replace(/0+$/, '');
  if (significant.length === 0) return 'must be greater than zero';
  if (significant.length > MAX_RATE_SIGNIFICANT_DIGITS) return `must have at most ${MAX_RATE_SIGNIFICANT_DIGITS} significant digits`;
  if (value.length > 40) return 'is too long';
  return undefined;
}

export function parseRate(value: string): ParsedRate {
  const problem = rateProblem(value);
  if (problem !== undefined) throw new RangeError(`rate ${problem}`);
  const [whole, fraction = ''] = value.split('.');
  return { units: BigInt(`${whole}${fraction}`), scale: fraction.length };
}

/**
 * `amountMinor` of `from` in minor units of `to` at `rate`, exactly, rounded once half away from zero. Returns a
 * bigint so that the caller decides what to do with an amount beyond the safe integer range.
 *   to minor = from minor × rate × 10^(exp(to) − exp(from))
 */
export function convertMinor(amountMinor: number | bigint, from: string, to: string, rate: string): bigint {
  const fromExp = exponentOf(from);
  const toExp = exponentOf(to);
  const { units, scale } = parseRate(rate);
  const amount = BigInt(amountMinor);
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const numerator = magnitude * units * 10n ** BigInt(Math.max(0, toExp - fromExp));
  const denominator = 10n ** BigInt(scale + Math.max(0, fromExp - toExp));
  // Half away from zero on the magnitude, then the sign back.
  const rounded = (2n * numerator + denominator) / (2n * denominator);
  return negative ? -rounded : rounded;
}

function exponentOf(currency: string): number {
  const e = currencyExponent(currency);
  if (e === undefined) throw new RangeError(`${currency} is not an ISO 4217 currency`);
  return e;
}
