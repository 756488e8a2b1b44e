import { currencyExponent, isCurrency } from './currency.js';

/**
 * Money is integer minor units with its ISO 4217 currency (DOMAIN.md, "Money, time, identity"). No float
 * ever holds an amount: arithmetic that could leave the safe-integer range is done in bigint.
 */
export interface Money {
  readonly amountMinor: number;
  readonly currency: string;
}

/** Why a value is not Money, or undefined when it is. Floats, strings, negatives and unsafe integers fail. */
export function moneyProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object { amountMinor, currency }';
  const { amountMinor, currency } = value as Record<string, unknown>;
  const amountProblem = minorAmountProblem(amountMinor);
  if (amountProblem !== undefined) return `amountMinor ${amountProblem}`;
  if (!isCurrency(currency)) return 'currency must be an ISO 4217 code such as USD, EUR or JPY';
  const extra = Object.keys(value).filter((k) => k !== 'amountMinor' && k !== 'currency');
  if (extra.length) return `unknown member ${extra[0]}`;
  return undefined;
}

/**
 * Why a bare amount of minor units (`reportingAmountMinor`, a reversal's `amountMinor`) is not one, or
 * undefined when it is: the same rules as Money's `amountMinor`.
 */
export function minorAmountProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be an integer number of minor units (no floats, no strings)';
  if (!Number.isSafeInteger(value)) return 'must be a safe integer';
  if (value < 0) return 'must not be negative';
  return undefined;
}

export function isMinorAmount(value: unknown): value is number {
  return minorAmountProblem(value) === undefined;
}

export function isMoney(value: unknown): value is Money {
  return moneyProblem(value) === undefined;
}

/** Sum of same-currency amounts, refusing to leave the safe-integer range. */
export function addMinor(a: number, b: number): number {
  const s = a + b;
  if (!Number.isSafeInteger(s)) throw new RangeError('amount out of the safe integer range');
  return s;
}

/** `a − b` for same-currency amounts where `b ≤ a` is a rule of the caller: a negative result is a bug. */
export function subMinor(a: number, b: number): number {
  const d = a - b;
  if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`cannot take ${b} from ${a} minor units`);
  return d;
}

export function sumMinor(amounts: Iterable<number>): number {
  let s = 0;
  for (const a of amounts) s = addMinor(s, a);
  return s;
}

/**
 * Minor units as a decimal string in the currency's major unit, by its ISO 4217 exponent (USD 12345 →
 * `123.45`, JPY 12345 → `12345`, BHD 12345 → `12.345`): for people, never for arithmetic.
 */
export function formatMinor(amountMinor: number, currency: string): string {
  if (!Number.isSafeInteger(amountMinor)) throw new RangeError('amountMinor must be a safe integer');
  const exponent = currencyExponent(currency);
  if (exponent === undefined) throw new RangeError(`${currency} is not an ISO 4217 currency`);
  const sign = amountMinor < 0 ? '-' : '';
  const digits = Math.abs(amountMinor).toString().padStart(exponent + 1, '0');
  return exponent === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
