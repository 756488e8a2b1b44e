import { canonicalJson, digestOfHeads, eventHash, GENESIS_HASH } from './hashing.js';

const metadata = {
  schemaVersion: 1,
  actor: { id: 'a', role: 'admin' as const },
  commandId: 'c',
  correlationId: 'c',
  causationId: 'c',
  recordedAt: '2026-01-01T00:00:00.000Z',
};

describe('canonical encoding and hashes', () => {
  it('sorts object keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
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
