import { InvalidInput } from '#libs/kernel/errors.js';

/**
 * Keyset paging for every list: a cursor is the sort key of the last row a page returned, as base64url JSON.
 * Clients treat it as opaque; the list it came from decodes it with the patterns of its key's parts.
 */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The key a cursor carries, when it has one part per pattern and each matches; otherwise a 400 on `cursor`. */
export function decodeCursor(cursor: string, parts: readonly RegExp[]): string[] {
  let key: unknown;
  try {
    key = /^[A-Za-z0-9_-]{1,400}$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== parts.length || !key.every((k, i) => typeof k === 'string' && parts[i]!.test(k))) {
    const message = 'cursor is not one this list returned';
    throw new InvalidInput(message, {}, [{ path: 'cursor', message }]);
  }
  return key as string[];
}
