import { isCurrency } from './currency.js';

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
  if (typeof amountMinor !== 'number' || !Number.isInteger(amountMinor)) return 'amountMinor must be an integer number of minor units (no floats, no strings)';
  if (!Number.isSafeInteger(amountMinor)) return 'amountMinor must be a safe integer';
  if (amountMinor < 0) return 'amountMinor must not be negative';
  if (!isCurrency(currency)) return 'currency must be an ISO 4217 code such as USD, EUR or JPY';
  const extra = Object.keys(value).filter((k) => k !== 'amountMinor' && k !== 'currency');
  if (extra.length) return `unknown member ${extra[0]}`;
  return undefined;
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
