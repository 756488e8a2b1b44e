import fc from 'fast-check';
import { convertMinor, parseRate, rateProblem } from './conversion.js';

describe('convertMinor (exact decimal conversion on minor units)', () => {
  it('converts with both currencies exponents: EUR cents to USD cents, JPY yen to USD cents, USD cents to BHD fils', () => {
    expect(convertMinor(1_000_000, 'EUR', 'USD', '1.0834')).toBe(1_083_400n);
    expect(convertMinor(1_000_000, 'JPY', 'USD', '0.00667')).toBe(667_000n); // ¥1,000,000 → $6,670.00
    expect(convertMinor(100, 'USD', 'BHD', '0.376')).toBe(376n); // $1.00 → 0.376 BHD
    expect(convertMinor(12_345, 'USD', 'JPY', '151.2')).toBe(18_666n); // $123.45 → ¥18,665.64 → ¥18,666
  });

  it('rounds once, half away from zero', () => {
    expect(convertMinor(1, 'EUR', 'USD', '1.5')).toBe(2n);
    expect(convertMinor(1, 'EUR', 'USD', '1.4999')).toBe(1n);
    expect(convertMinor(-1, 'EUR', 'USD', '1.5')).toBe(-2n);
    expect(convertMinor(3, 'EUR', 'USD', '0.5')).toBe(2n);
  });

  it('answers beyond the safe integer range as a bigint rather than rounding (the caller refuses it)', () => {
    expect(convertMinor(Number.MAX_SAFE_INTEGER, 'EUR', 'USD', '2')).toBe(BigInt(Number.MAX_SAFE_INTEGER) * 2n);
  });

  it('equals the exact rational product rounded half up, for any amount and rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.bigInt({ min: 1n, max: 999_999_999_999n }), fc.integer({ min: 0, max: 11 }), (amount, units, scale) => {
        const digits = units.toString().padStart(scale + 1, '0');
        const rate = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
        const exact = BigInt(amount) * units; // over 10^scale
        const d = 10n ** BigInt(scale);
        const got = convertMinor(amount, 'EUR', 'USD', rate);
        // |got − exact/d| ≤ 1/2, and exactly half rounds up
        expect(2n * (got * d - exact) <= d && 2n * (exact - got * d) < d).toBe(true);
      }),
    );
  });
});

describe('rates', () => {
  it('accepts plain positive decimals of up to 12 significant digits', () => {
    expect(rateProblem('1.0834')).toBeUndefined();
    expect(rateProblem('0.000000123456789012')).toBeUndefined();
    expect(parseRate('151.20')).toEqual({ units: 15120n, scale: 2 });
  });

  it.each(['0', '0.000', '-1', '1e3', '1.', '.5', ' 1', '1.2345678901234', 1.08, null])('refuses %p', (v) => {
    expect(rateProblem(v)).toBeDefined();
  });
});
