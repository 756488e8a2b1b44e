import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson, digestOfHeads, eventHash, GENESIS_HASH } from './hashing.js';

const metadata = {
  schemaVersion: 1,
  actor: { id: 'a', role: 'admin' as const },
  commandId: 'c',
  correlationId: 'c',
  causationId: 'c',
  recordedAt: '2026-01-01T00:00:00.000Z',
};

// The first implementation, kept as the oracle: every hash already in a log was made with it.
const original = (value: unknown): string => {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number in event');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => original(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${original(v)}`).join(',')}}`;
};

const leaf = fc.oneof(fc.string({ unit: 'grapheme-composite' }), fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt());
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('a', 'B', 'é', '\u{1F600}', '__proto__x', '__proto__', '10', '9', 'toJSON')), tie('node'), { maxKeys: 6 }),
})).node;

describe('canonical encoding and hashes', () => {
  it('sorts object keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });

  it('encodes exactly as the original functional form, so stored hashes still verify', () => {
    fc.assert(fc.property(value, (v) => canonicalJson(v) === original(v)), { numRuns: 3000 });
    // Sparse arrays and Dates (an object without own keys) as the original encoded them.
    // eslint-disable-next-line no-sparse-arrays
    expect(canonicalJson([1, , 3])).toBe(original([1, , 3]));
    expect(canonicalJson({ at: new Date(0) })).toBe(original({ at: new Date(0) }));
    // What the fast path hands to the slow one: functions, symbols, boxed strings, typed arrays, integer-like keys.
    const odd = [{ f: () => 1 }, [Symbol('s')], { s: Object('ab') }, { b: new Uint8Array([1, 2]) }, { 2: 'x', 10: 'y', a: 1 }, { m: new Map([[1, 2]]) }];
    for (const v of odd) expect(canonicalJson(v)).toBe(original(v));
  });

  it('hashes an envelope exactly as SHA-256 over the previous hash and its original canonical form', () => {
    const hex = (text: string) => createHash('sha256').update(text).digest('hex');
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.bigInt({ min: 0n, max: 1n << 62n }), value, value, (eventId, type, streamId, revision, data, meta) => {
        const e = { eventId, type, streamId, revision, data, metadata: meta as typeof metadata };
        const expected = hex(`${GENESIS_HASH}\n${original({ eventId, type, streamId, revision: revision.toString(), data, metadata: meta })}`);
        return eventHash(GENESIS_HASH, e) === expected;
      }),
      { numRuns: 1000 },
    );
    // Members absent at run time (a malformed import) are left out, as the original form left them out.
    const sparse = { eventId: 'e', type: 'T', streamId: 's', revision: 3n, data: undefined, metadata } as const;
    const noId = { ...sparse, data: { x: 1 }, eventId: undefined as unknown as string };
    for (const e of [sparse, noId]) {
      const { revision, ...rest } = e;
      expect(eventHash(GENESIS_HASH, e)).toBe(hex(`${GENESIS_HASH}\n${original({ ...rest, revision: revision.toString() })}`));
    }
  });

  it('refuses non-finite numbers, which JSON cannot carry', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
  });

  it('chains: the same content under another previous hash hashes differently', () => {
    const e = { eventId: 'e1', type: 'T', streamId: 's-1', revision: 0n, data: { x: 1 }, metadata };
    const h1 = eventHash(GENESIS_HASH, e);
    expect(h1).toMatch(/^[0-9a-f]{64}$/);
    expect(eventHash(GENESIS_HASH, { ...e })).toBe(h1);
    expect(eventHash(h1, e)).not.toBe(h1);
    expect(eventHash(GENESIS_HASH, { ...e, data: { x: 2 } })).not.toBe(h1);
  });

  it('digests heads independently of insertion order', () => {
    const a = new Map([['b', '2'], ['a', '1']]);
    const b = new Map([['a', '1'], ['b', '2']]);
    expect(digestOfHeads(a)).toBe(digestOfHeads(b));
    expect(digestOfHeads(a)).not.toBe(digestOfHeads(new Map([['a', '1'], ['b', '3']])));
  });
});
