import { InvalidInput } from '#libs/kernel/errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const PERIOD = /^\d{4}-\d{2}$/;

describe('list cursors', () => {
  it('give back the key they were made from', () => {
    const cursor = encodeCursor(['P-1', '2026-03']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, [ID, PERIOD])).toEqual(['P-1', '2026-03']);
  });

  it.each([
    ['not base64url', '%%%'],
    ['not JSON', Buffer.from('P-1').toString('base64url')],
    ['not an array', encodeCursor(['x']).slice(1)],
    ['too few parts', encodeCursor(['P-1'])],
    ['too many parts', encodeCursor(['P-1', '2026-03', 'x'])],
    ['a part off its pattern', encodeCursor(['P 1', '2026-03'])],
    ['a number for a string', Buffer.from(JSON.stringify(['P-1', 202603])).toString('base64url')],
    ['empty', ''],
    ['oversize', 'A'.repeat(401)],
  ])('refuse %s as a 400 on `cursor`', (_what, cursor) => {
    let error: unknown;
    try {
      decodeCursor(cursor, [ID, PERIOD]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).message).toBe('cursor is not one this list returned');
  });
});
