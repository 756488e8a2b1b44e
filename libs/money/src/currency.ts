import currencyCodes from 'currency-codes';

/**
 * ISO 4217 codes that are not money a partner program pays in: precious metals, bond-market units, the SDR,
 * and the testing / "no currency" codes.
 */
const NOT_MONEY = new Set(['XAU', 'XAG', 'XPD', 'XPT', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XSU', 'XUA', 'XTS', 'XXX']);

/** Minor-unit exponent of an ISO 4217 currency (USD 2, JPY 0, BHD 3), or undefined for an unknown code. */
export function currencyExponent(code: string): number | undefined {
  if (!/^[A-Z]{3}$/.test(code) || NOT_MONEY.has(code)) return undefined;
  // The library searches its whole table on every lookup (profiled: a tenth of deciding a registration); at
  // most 26³ three-letter codes exist, so the answers are remembered (null: not a currency).
  let exponent = exponents.get(code);
  if (exponent === undefined) {
    exponent = currencyCodes.code(code)?.digits ?? null;
    exponents.set(code, exponent);
  }
  return exponent ?? undefined;
}

const exponents = new Map<string, number | null>();

export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && currencyExponent(code) !== undefined;
}
