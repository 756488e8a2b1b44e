import { currencyExponent, isCurrency } from './currency.js';
import { isMoney, moneyProblem } from './money.js';

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
