import { InvalidInput } from './errors.js';

/** API.md: free-text fields (`reason`, `activity`, names) are non-empty strings of at most 500 characters. */
export const MAX_TEXT = 500;

/** A refusal of one input field, named by its path as the HTTP layer's validation names it. */
export function invalidField(path: string, message: string): InvalidInput {
  return new InvalidInput(message, {}, [{ path, message }]);
}

export function requireText(value: string, path: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_TEXT) {
    throw invalidField(path, `${path} must be a non-empty string of at most ${MAX_TEXT} characters`);
  }
  return value;
}

/** A canonical UTC instant (`toISOString`), as the HTTP layer's `parseLedgerTime` produces. */
export function requireInstant(value: string, path: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms) || new Date(ms).toISOString() !== value) {
    throw invalidField(path, `${path} must be a canonical UTC ISO 8601 instant (e.g. 2026-03-31T00:00:00.000Z)`);
  }
  return value;
}
