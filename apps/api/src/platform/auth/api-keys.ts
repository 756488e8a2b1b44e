import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Role, ROLES } from '#events/envelope.js';
import type { LedgerConfig } from '#libs/ledger/config.js';

/** A configured key. The key itself is never kept: only its SHA-256, so a heap dump does not give it away. */
export interface ApiKeyRecord {
  /** The actor id recorded in the metadata of the events this key's commands append. */
  readonly id: string;
  readonly role: Role;
  readonly partnerId?: string;
  readonly keyHash: Buffer;
}

/** Injection token of the loaded `ApiKeyRecord[]`. */
export const API_KEYS = Symbol('API_KEYS');

export const PARTNER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const KEY_ID_PATTERN = PARTNER_ID_PATTERN;
export const MIN_KEY_LENGTH = 16;
const MAX_KEY_LENGTH = 512;
/** Visible ASCII without spaces: a key with a space or a non-ASCII character could not be sent as a Bearer token. */
const KEY_PATTERN = /^[\x21-\x7e]+$/;
const ENTRY_FIELDS = new Set(['key', 'role', 'partnerId', 'id']);
export const ADMIN_KEY_FILE = 'admin.key';

/** Every message names the entry by index and field, never by the key: config errors end up in logs. */
export class ApiKeyConfigError extends Error {
  override readonly name = 'ApiKeyConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid API key configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function defaultKeyId(keyHash: Buffer): string {
  return `key-${keyHash.toString('hex').slice(0, 12)}`;
}

export interface LoadedApiKeys {
  readonly keys: ApiKeyRecord[];
  /** The admin key created on this start (first start without configured keys), for the caller to hand out. */
  readonly createdAdminKey?: string;
}

/**
 * Reads the keys from `LEDGER_API_KEYS` or `LEDGER_API_KEYS_FILE`. Without either, production refuses to start;
 * elsewhere an admin key is created once in `<dataDir>/admin.key` (owner-only) and printed through `out` that
 * one time only, so a developer can start the service with no setup and the key is not repeated in later logs.
 */
export function loadApiKeys(config: Pick<LedgerConfig, 'apiKeys' | 'apiKeysFile' | 'nodeEnv' | 'dataDir'>, out: (line: string) => void): LoadedApiKeys {
  if (config.apiKeys !== undefined && config.apiKeysFile !== undefined) {
    throw new ApiKeyConfigError(['set LEDGER_API_KEYS or LEDGER_API_KEYS_FILE, not both']);
  }
  if (config.apiKeys !== undefined) return { keys: parseApiKeys(config.apiKeys, 'LEDGER_API_KEYS') };
  if (config.apiKeysFile !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(config.apiKeysFile, 'utf8');
    } catch (error) {
      throw new ApiKeyConfigError([`LEDGER_API_KEYS_FILE ${config.apiKeysFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
    return { keys: parseApiKeys(text, `LEDGER_API_KEYS_FILE (${config.apiKeysFile})`) };
  }
  if (config.nodeEnv === 'production') {
    throw new ApiKeyConfigError([
      'NODE_ENV=production and no API keys are configured: set LEDGER_API_KEYS or LEDGER_API_KEYS_FILE (a JSON array of { "key", "role", "partnerId"? })',
    ]);
  }
  return localAdminKey(config.dataDir, out);
}

/** Parses and validates the JSON of `LEDGER_API_KEYS` (or of the keys file); `source` names it in errors. */
export function parseApiKeys(json: string, source = 'LEDGER_API_KEYS'): ApiKeyRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be a key.
    throw new ApiKeyConfigError([`${source} is not valid JSON (expected an array of { "key", "role", "partnerId"?, "id"? })`]);
  }
  if (!Array.isArray(parsed)) throw new ApiKeyConfigError([`${source} must be a JSON array of { "key", "role", "partnerId"?, "id"? }`]);
  if (parsed.length === 0) throw new ApiKeyConfigError([`${source} is an empty array: configure at least one key`]);

  const problems: string[] = [];
  const keys: ApiKeyRecord[] = [];
  const byHash = new Map<string, number>();
  const byId = new Map<string, number>();
  parsed.forEach((entry: unknown, index) => {
    const at = `${source}[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${at} must be an object { "key", "role", "partnerId"?, "id"? }`);
      return;
    }
    const e = entry as Record<string, unknown>;
    const before = problems.length;
    for (const field of Object.keys(e)) {
      if (!ENTRY_FIELDS.has(field)) problems.push(`${at} has an unknown field ${JSON.stringify(field)} (allowed: key, role, partnerId, id)`);
    }
    const { key, role, partnerId, id } = e;
    if (typeof key !== 'string') problems.push(`${at}.key must be a string`);
    else if (key.length < MIN_KEY_LENGTH) problems.push(`${at}.key is too short: use at least ${MIN_KEY_LENGTH} characters`);
    else if (key.length > MAX_KEY_LENGTH) problems.push(`${at}.key is too long: use at most ${MAX_KEY_LENGTH} characters`);
    else if (!KEY_PATTERN.test(key)) problems.push(`${at}.key has characters a Bearer token cannot carry (use visible ASCII characters, no spaces)`);

    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      problems.push(`${at}.role must be one of ${ROLES.join(', ')}`);
    }
    if (role === 'partner') {
      if (typeof partnerId !== 'string' || !PARTNER_ID_PATTERN.test(partnerId)) {
        problems.push(`${at}.partnerId is required for the partner role and must match ${PARTNER_ID_PATTERN.source}`);
      }
    } else if (partnerId !== undefined) {
      problems.push(`${at}.partnerId is only allowed for the partner role`);
    }
    if (id !== undefined && (typeof id !== 'string' || !KEY_ID_PATTERN.test(id))) {
      problems.push(`${at}.id must match ${KEY_ID_PATTERN.source}`);
    }
    if (problems.length > before || typeof key !== 'string') return;

    const keyHash = hashKey(key);
    const hex = keyHash.toString('hex');
    const sameKey = byHash.get(hex);
    if (sameKey !== undefined) {
      problems.push(`${at}.key is the same key as entry ${sameKey}: each key must be unique`);
      return;
    }
    byHash.set(hex, index);
    const actorId = typeof id === 'string' ? id : defaultKeyId(keyHash);
    const sameId = byId.get(actorId);
    if (sameId !== undefined) {
      problems.push(`${at}.id ${JSON.stringify(actorId)} is already used by entry ${sameId}: actor ids must be unique`);
      return;
    }
    byId.set(actorId, index);
    keys.push({ id: actorId, role: role as Role, ...(role === 'partner' && { partnerId: partnerId as string }), keyHash });
  });
  if (problems.length) throw new ApiKeyConfigError(problems);
  return keys;
}

function localAdminKey(dataDir: string, out: (line: string) => void): LoadedApiKeys {
  const file = path.join(dataDir, ADMIN_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const created = randomBytes(32).toString('base64url');
  try {
    // `wx` fails if the file exists, so two processes starting at once cannot both create (and print) a key.
    fs.writeFileSync(file, `${created}\n`, { flag: 'wx', mode: 0o600 });
    // The mode given at creation is reduced by the umask; chmod states it exactly.
    fs.chmodSync(file, 0o600);
    out(`No API keys configured: created an admin key, stored in ${file} (owner-only; shown this once): ${created}`);
    return { keys: [adminRecord(created)], createdAdminKey: created };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stored = fs.readFileSync(file, 'utf8').trim();
  if (stored.length < MIN_KEY_LENGTH || !KEY_PATTERN.test(stored)) {
    throw new ApiKeyConfigError([`${file} does not hold a usable key: delete it to have a new one created`]);
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    out(`Warning: ${file} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it`);
  }
  out(`No API keys configured: using the admin key stored in ${file}`);
  return { keys: [adminRecord(stored)] };
}

function adminRecord(key: string): ApiKeyRecord {
  const keyHash = hashKey(key);
  return { id: defaultKeyId(keyHash), role: 'admin', keyHash };
}

/**
 * The record of a presented key, or undefined. Every record is compared, in constant time, so neither the
 * comparison nor the loop tells an attacker how close a guess was or where it matched.
 */
export function findKey(keys: readonly ApiKeyRecord[], presented: string | undefined): ApiKeyRecord | undefined {
  if (presented === undefined || presented.length === 0 || presented.length > MAX_KEY_LENGTH) return undefined;
  const hash = hashKey(presented);
  let found: ApiKeyRecord | undefined;
  for (const record of keys) {
    if (timingSafeEqual(record.keyHash, hash) && found === undefined) found = record;
  }
  return found;
}
