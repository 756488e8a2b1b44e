import { InvalidInput } from './errors.js';
import { invalidField, isInstant, isText, MAX_TEXT, requireInstant, requireText } from './input.js';

describe('input guards shared by the deciders', () => {
  it('text: a string, not blank, at most 500 characters', () => {
    expect(isText('a')).toBe(true);
    expect(isText('x'.repeat(MAX_TEXT))).toBe(true);
    for (const v of ['', '   ', 'x'.repeat(MAX_TEXT + 1), 7, null, undefined]) expect(isText(v)).toBe(false);
    expect(() => requireText(' ', 'reason')).toThrow(/reason must be a non-empty string of at most 500 characters/);
  });

  it('instant: only the canonical toISOString form of a real UTC time', () => {
    expect(isInstant('2026-03-31T00:00:00.000Z')).toBe(true);
    for (const v of ['2026-03-31', '2026-03-31T00:00:00Z', '2026-02-30T00:00:00.000Z', '2026-03-31T00:00:00.000+00:00', 'soon', 0]) expect(isInstant(v)).toBe(false);
    expect(requireInstant('2026-03-31T00:00:00.000Z', 'at')).toBe('2026-03-31T00:00:00.000Z');
  });

  it('a refusal names its field, as the HTTP layer does', () => {
    const e = invalidField('amount.amountMinor', 'must be greater than zero');
    expect(e).toBeInstanceOf(InvalidInput);
    expect(e.errors).toEqual([{ path: 'amount.amountMinor', message: 'must be greater than zero' }]);
    let thrown: unknown;
    try {
      requireInstant('2026-13-01T00:00:00.000Z', 'paidAt');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ errors: [{ path: 'paidAt' }] });
  });
});
