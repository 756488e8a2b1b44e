import { InvalidInput } from '#libs/kernel/errors.js';

/** A statement period: a month `YYYY-MM` or a quarter `YYYY-Qn` (DOMAIN.md, "Partner statements (v2)"). */
export const STATEMENT_PERIOD_PATTERN = /^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$/;

export interface PeriodBounds {
  /** Inclusive start, UTC ISO 8601. */
  readonly from: string;
  /** Exclusive end. */
  readonly to: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** The half-open interval [from, to) of a period, UTC; undefined when `period` is not one. */
export function periodBounds(period: string): PeriodBounds | undefined {
  const m = STATEMENT_PERIOD_PATTERN.exec(period);
  if (m === null) return undefined;
  const year = Number(m[1]);
  if (year < 1970) return undefined;
  const firstMonth = m[2] !== undefined ? Number(m[2]) - 1 : (Number(m[3]) - 1) * 3;
  const months = m[2] !== undefined ? 1 : 3;
  const fromMs = Date.UTC(year, firstMonth, 1);
  const toMs = Date.UTC(year, firstMonth + months, 1);
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), fromMs, toMs };
}

/** `periodBounds`, or a 400 naming `path`. */
export function requirePeriod(period: unknown, path = 'period'): PeriodBounds {
  const b = typeof period === 'string' ? periodBounds(period) : undefined;
  if (b === undefined) {
    const message = `${path} must be a month (YYYY-MM, e.g. 2026-03) or a quarter (YYYY-Qn, e.g. 2026-Q1), from 1970 on`;
    throw new InvalidInput(message, {}, [{ path, message }]);
  }
  return b;
}
