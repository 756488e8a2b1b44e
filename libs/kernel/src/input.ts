import { InvalidInput } from './errors.js';

/** API.md: free-text fields (`reason`, `activity`, names) are non-empty strings of at most 500 characters. */
export const MAX_TEXT = 500;

/** A refusal of one input field, named by its path as the HTTP layer's validation names it. */
export function invalidField(path: string, message: string): InvalidInput {
  return new InvalidInput(message, {}, [{ path, message }]);
}

/**
 * What free text may not hold (issue #17): a lone surrogate (not Unicode text: no UTF-8 spelling, so it is
 * mangled or refused downstream) or a control character other than tab, line feed and carriage return (a NUL
 * ends strings in C tools, and none of them prints).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_TEXT = /[\p{Surrogate}\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/u;

/** True when the string holds only characters free text may hold (see NOT_TEXT). */
export function isCleanText(v: string): boolean {
  return !NOT_TEXT.test(v);
}

/** Free text as API.md allows it: a string, not blank, at most MAX_TEXT characters, of printable Unicode. */
export function isText(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '' && v.length <= MAX_TEXT && isCleanText(v);
}

/** The canonical `toISOString()` form of a UTC instant, which compares correctly as a string. */
export function isInstant(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const t = Date.parse(v);
  return Number.isFinite(t) && new Date(t).toISOString() === v;
}

export function requireText(value: string, path: string): string {
  if (!isText(value)) {
    throw invalidField(path, `${path} must be a non-empty string of at most ${MAX_TEXT} characters, without control characters or lone surrogates`);
  }
  return value;
}

/** A canonical UTC instant (`toISOString`), as the HTTP layer's `parseLedgerTime` produces. */
export function requireInstant(value: string, path: string): string {
  if (!isInstant(value)) {
    throw invalidField(path, `${path} must be a canonical UTC ISO 8601 instant (e.g. 2026-03-31T00:00:00.000Z)`);
  }
  return value;
}
