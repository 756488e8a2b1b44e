import { currencyExponent, isCurrency } from './currency.js';
import { addMinor, formatMinor, isMinorAmount, isMoney, minorAmountProblem, moneyProblem, subMinor, sumMinor } from './money.js';

describe('currencies', () => {
  it('knows ISO 4217 exponents', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('BHD')).toBe(3);
    expect(currencyExponent('EUR')).toBe(2);
  });

  it('refuses unknown, lowercase, and non-money codes', () => {
    for (const c of ['usd', 'US', 'USDD', 'ABC', 'XXX', 'XTS', 'XAU', '', ' USD']) expect(isCurrency(c)).toBe(false);
    expect(isCurrency('XOF')).toBe(true);
  });

  it('answers a code asked again (remembered) as the first time, known or not', () => {
    for (let round = 0; round < 2; round++) {
      expect(currencyExponent('KWD')).toBe(3);
      expect(currencyExponent('ABC')).toBeUndefined();
      expect(isCurrency('ABC')).toBe(false);
    }
  });
});

describe('money at the edge', () => {
  it('accepts integer minor units in a known currency', () => {
    expect(isMoney({ amountMinor: 0, currency: 'USD' })).toBe(true);
    expect(isMoney({ amountMinor: Number.MAX_SAFE_INTEGER, currency: 'JPY' })).toBe(true);
  });

  it.each([
    [{ amountMinor: 1.5, currency: 'USD' }, /integer/],
    [{ amountMinor: '100', currency: 'USD' }, /integer/],
    [{ amountMinor: -1, currency: 'USD' }, /negative/],
    [{ amountMinor: 2 ** 53, currency: 'USD' }, /safe/],
    [{ amountMinor: Number.NaN, currency: 'USD' }, /integer/],
    [{ amountMinor: 1, currency: 'usd' }, /ISO 4217/],
    [{ amountMinor: 1 }, /ISO 4217/],
    [{ amountMinor: 1, currency: 'USD', fx: 1 }, /unknown member/],
    [[1, 'USD'], /object/],
    ['1 USD', /object/],
    [null, /object/],
  ])('refuses %j', (value, message) => {
    expect(moneyProblem(value)).toMatch(message);
  });
});

describe('bare minor amounts (reportingAmountMinor, a reversal amountMinor)', () => {
  it('follows the same rules as Money amounts', () => {
    expect(isMinorAmount(0)).toBe(true);
    expect(isMinorAmount(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(minorAmountProblem(1.5)).toMatch(/integer/);
    expect(minorAmountProblem('1')).toMatch(/integer/);
    expect(minorAmountProblem(-1)).toMatch(/negative/);
    expect(minorAmountProblem(2 ** 53)).toMatch(/safe/);
    expect(minorAmountProblem(null)).toMatch(/integer/);
  });
});

describe('exact arithmetic', () => {
  it('adds, subtracts and sums without leaving the safe range', () => {
    expect(addMinor(1, 2)).toBe(3);
    expect(() => addMinor(Number.MAX_SAFE_INTEGER, 1)).toThrow(RangeError);
    expect(subMinor(5, 5)).toBe(0);
    expect(() => subMinor(5, 6)).toThrow(RangeError);
    expect(sumMinor([1, 2, 3])).toBe(6);
    expect(sumMinor([])).toBe(0);
    expect(() => sumMinor([Number.MAX_SAFE_INTEGER, 1])).toThrow(RangeError);
  });
});

describe('formatMinor', () => {
  it.each([
    [12345, 'USD', '123.45'],
    [5, 'USD', '0.05'],
    [0, 'EUR', '0.00'],
    [12345, 'JPY', '12345'],
    [12345, 'BHD', '12.345'],
    [-5, 'USD', '-0.05'],
  ])('%i %s → %s (by the ISO 4217 exponent)', (minor, currency, text) => {
    expect(formatMinor(minor, currency)).toBe(text);
  });

  it('refuses unknown currencies and unsafe amounts', () => {
    expect(() => formatMinor(1, 'XXX')).toThrow(RangeError);
    expect(() => formatMinor(0.5, 'USD')).toThrow(RangeError);
  });
});
