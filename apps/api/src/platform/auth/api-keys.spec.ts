import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiKeyConfigError, findKey, hashKey, loadApiKeys, parseApiKeys } from './api-keys.js';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-keys-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** The error a call throws; fails the test if it throws nothing. */
function errorOf(fn: () => unknown): Error {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof Error)) throw new Error('expected the call to throw');
  return thrown;
}

const ADMIN = 'admin-secret-0123456789';
const PARTNER = 'partner-secret-0123456789';

describe('parseApiKeys', () => {
  it('parses keys, keeping only their hashes, with explicit or derived actor ids', () => {
    const keys = parseApiKeys(
      JSON.stringify([
        { key: ADMIN, role: 'admin', id: 'ops-admin' },
        { key: PARTNER, role: 'partner', partnerId: 'acme' },
      ]),
    );
    expect(keys).toEqual([
      { id: 'ops-admin', role: 'admin', keyHash: hashKey(ADMIN) },
      { id: `key-${hashKey(PARTNER).toString('hex').slice(0, 12)}`, role: 'partner', partnerId: 'acme', keyHash: hashKey(PARTNER) },
    ]);
    expect(JSON.stringify(keys)).not.toContain(ADMIN);
  });

  it.each([
    ['not JSON', `[{"key":"${ADMIN}", role: admin}]`, /not valid JSON/],
    ['not an array', JSON.stringify({ key: ADMIN, role: 'admin' }), /must be a JSON array/],
    ['an empty array', '[]', /empty array/],
    ['an unknown role', JSON.stringify([{ key: ADMIN, role: 'root' }]), /\[0\]\.role must be one of admin, channel-ops/],
    ['a partner without partnerId', JSON.stringify([{ key: PARTNER, role: 'partner' }]), /\[0\]\.partnerId is required/],
    ['a malformed partnerId', JSON.stringify([{ key: PARTNER, role: 'partner', partnerId: '-bad id' }]), /\[0\]\.partnerId is required .* must match/],
    ['a partnerId on another role', JSON.stringify([{ key: ADMIN, role: 'finance', partnerId: 'acme' }]), /\[0\]\.partnerId is only allowed for the partner role/],
    ['a short key', JSON.stringify([{ key: 'short-key-123', role: 'admin' }]), /\[0\]\.key is too short/],
    ['a key with a space', JSON.stringify([{ key: 'has a space 0123456789', role: 'admin' }]), /\[0\]\.key has characters/],
    ['an unknown field', JSON.stringify([{ key: ADMIN, role: 'admin', partnerID: 'x' }]), /\[0\] has an unknown field "partnerID"/],
    ['a duplicate key', JSON.stringify([{ key: ADMIN, role: 'admin' }, { key: ADMIN, role: 'auditor' }]), /\[1\]\.key is the same key as entry 0/],
    ['a duplicate id', JSON.stringify([{ key: ADMIN, role: 'admin', id: 'a' }, { key: PARTNER, role: 'auditor', id: 'a' }]), /\[1\]\.id "a" is already used by entry 0/],
  ])('refuses %s, naming the entry and never printing the key', (_name, json, message) => {
    const error = errorOf(() => parseApiKeys(json));
    expect(error).toBeInstanceOf(ApiKeyConfigError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(ADMIN);
    expect(error.message).not.toContain(PARTNER);
    expect(error.message).not.toContain('short-key-123');
    expect(error.message).not.toContain('has a space');
  });

  it('reports every bad entry at once', () => {
    const error = errorOf(() => parseApiKeys(JSON.stringify([{ key: ADMIN, role: 'nope' }, { key: PARTNER, role: 'partner' }])));
    expect((error as ApiKeyConfigError).problems).toHaveLength(2);
  });
});

describe('loadApiKeys', () => {
  it('reads LEDGER_API_KEYS', () => {
    const out: string[] = [];
    const { keys, createdAdminKey } = loadApiKeys({ apiKeys: JSON.stringify([{ key: ADMIN, role: 'auditor' }]), nodeEnv: 'production', dataDir: tempDir() }, (l) => out.push(l));
    expect(keys.map((k) => k.role)).toEqual(['auditor']);
    expect(createdAdminKey).toBeUndefined();
    expect(out).toEqual([]);
  });

  it('reads LEDGER_API_KEYS_FILE, and names the file when it cannot', () => {
    const dir = tempDir();
    const file = path.join(dir, 'keys.json');
    fs.writeFileSync(file, JSON.stringify([{ key: PARTNER, role: 'partner', partnerId: 'acme' }]));
    expect(loadApiKeys({ apiKeysFile: file, nodeEnv: 'production', dataDir: dir }, () => {}).keys[0]?.partnerId).toBe('acme');
    const missing = path.join(dir, 'missing.json');
    expect(errorOf(() => loadApiKeys({ apiKeysFile: missing, nodeEnv: 'production', dataDir: dir }, () => {})).message).toContain(missing);
  });

  it('refuses to start in production without configured keys, and creates nothing', () => {
    const dir = path.join(tempDir(), 'data');
    const error = errorOf(() => loadApiKeys({ nodeEnv: 'production', dataDir: dir }, () => {}));
    expect(error).toBeInstanceOf(ApiKeyConfigError);
    expect(error.message).toMatch(/NODE_ENV=production and no API keys/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('creates an owner-only admin key on first start, prints it once, and reuses it without printing it', () => {
    const dir = path.join(tempDir(), 'nested', 'data');
    const first: string[] = [];
    const created = loadApiKeys({ nodeEnv: 'development', dataDir: dir }, (l) => first.push(l));
    const key = created.createdAdminKey;
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const file = path.join(dir, 'admin.key');
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(key);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(first).toHaveLength(1);
    expect(first[0]).toContain(key);
    expect(first[0]).toContain(file);
    expect(created.keys).toEqual([{ id: expect.stringMatching(/^key-[0-9a-f]{12}$/), role: 'admin', keyHash: hashKey(key!) }]);

    const second: string[] = [];
    const reused = loadApiKeys({ nodeEnv: 'development', dataDir: dir }, (l) => second.push(l));
    expect(reused.createdAdminKey).toBeUndefined();
    expect(reused.keys).toEqual(created.keys);
    expect(second.join('\n')).toContain(file);
    expect(second.join('\n')).not.toContain(key);
  });

  it('warns when the stored admin key has become readable by others', () => {
    const dir = tempDir();
    const { createdAdminKey } = loadApiKeys({ nodeEnv: 'test', dataDir: dir }, () => {});
    fs.chmodSync(path.join(dir, 'admin.key'), 0o644);
    const out: string[] = [];
    loadApiKeys({ nodeEnv: 'test', dataDir: dir }, (l) => out.push(l));
    expect(out.some((l) => /readable by other users/.test(l))).toBe(true);
    expect(out.join('\n')).not.toContain(createdAdminKey);
  });
});

describe('findKey', () => {
  const keys = parseApiKeys(
    JSON.stringify([
      { key: ADMIN, role: 'admin', id: 'a' },
      { key: PARTNER, role: 'partner', partnerId: 'acme', id: 'p' },
    ]),
  );

  it('finds a presented key by its hash', () => {
    expect(findKey(keys, PARTNER)?.id).toBe('p');
    expect(findKey(keys, ADMIN)?.id).toBe('a');
  });

  it('finds nothing for unknown, empty, prefixed or truncated keys', () => {
    for (const presented of [undefined, '', 'unknown-key-0123456789', ADMIN.slice(0, -1), `${ADMIN}x`, ADMIN.toUpperCase(), 'x'.repeat(10_000)]) {
      expect(findKey(keys, presented)).toBeUndefined();
    }
  });
});
