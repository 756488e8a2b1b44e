import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Signed checkpoints: the C2SP tlog-checkpoint body (origin, tree size, base64 root hash, each on its own
 * line) signed as a C2SP signed note with Ed25519 (signature type 0x01). Keys use the encodings of the
 * reference implementation (golang.org/x/mod/sumdb/note), so Go tooling reads them:
 *   verifier key  `<name>+<key id hex>+<base64(0x01 || public key)>`
 *   signer key    `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || seed)>`
 * with key id = SHA-256(name || 0x0A || 0x01 || public key)[:4].
 */
const ED25519 = 0x01;
/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI DER prefix of an Ed25519 public key. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const NAME = /^[^\s+]+$/u;

export interface NoteSigner {
  readonly name: string;
  readonly keyId: Buffer;
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
  readonly seed: Buffer;
}

/** `a+b+…+rest` into `count` fields: base64 key material may itself contain '+'. */
function splitKey(text: string, count: number): string[] {
  const parts = text.trim().split('+');
  return parts.length < count ? parts : [...parts.slice(0, count - 1), parts.slice(count - 1).join('+')];
}

export function keyIdOf(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256').update(name).update(Buffer.from([0x0a, ED25519])).update(publicKey).digest().subarray(0, 4);
}

export function signerFromSeed(name: string, seed: Buffer): NoteSigner {
  if (!NAME.test(name)) throw new Error('a key name is non-empty and has no spaces or "+"');
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url');
  return { name, keyId: keyIdOf(name, publicKey), publicKey, privateKey, seed };
}

export function generateSigner(name: string): NoteSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  return signerFromSeed(name, seed);
}

export function signerKey(s: NoteSigner): string {
  return `PRIVATE+KEY+${s.name}+${s.keyId.toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), s.seed]).toString('base64')}`;
}

export function parseSignerKey(text: string): NoteSigner {
  const parts = splitKey(text, 5);
  if (parts.length !== 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw new Error('not a signer key (PRIVATE+KEY+<name>+<id>+<key>)');
  const [, , name, id, key] = parts as [string, string, string, string, string];
  const raw = Buffer.from(key, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519) throw new Error('the signer key is not an Ed25519 key');
  const s = signerFromSeed(name, raw.subarray(1));
  if (s.keyId.toString('hex') !== id) throw new Error('the signer key id does not match its key');
  return s;
}

export function verifierKey(s: Pick<NoteSigner, 'name' | 'keyId' | 'publicKey'>): string {
  return `${s.name}+${s.keyId.toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), s.publicKey]).toString('base64')}`;
}

export function parseVerifierKey(text: string): { name: string; keyId: Buffer; publicKey: Buffer } {
  const parts = splitKey(text, 3);
  if (parts.length !== 3) throw new Error('not a verifier key (<name>+<id>+<key>)');
  const [name, id, key] = parts as [string, string, string];
  const raw = Buffer.from(key, 'base64');
  if (!NAME.test(name) || !/^[0-9a-f]{8}$/.test(id) || raw.length !== 33 || raw[0] !== ED25519) throw new Error('not an Ed25519 verifier key');
  const publicKey = raw.subarray(1);
  if (keyIdOf(name, publicKey).toString('hex') !== id) throw new Error('the verifier key id does not match its key');
  return { name, keyId: Buffer.from(id, 'hex'), publicKey };
}

/** The public key as a JWK (RFC 8037), for clients that take keys in that form. */
export function publicJwk(s: Pick<NoteSigner, 'publicKey' | 'keyId'>): { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string } {
  return { kty: 'OKP', crv: 'Ed25519', x: s.publicKey.toString('base64url'), kid: s.keyId.toString('hex') };
}

/** `text` (ending in a newline) signed: the text, a blank line, then `— <name> base64(key id || signature)`. */
export function signNote(text: string, s: NoteSigner): string {
  if (!text.endsWith('\n') || text.endsWith('\n\n')) throw new Error('a note text ends in exactly one newline');
  const signature = sign(null, Buffer.from(text, 'utf8'), s.privateKey);
  return `${text}\n\u2014 ${s.name} ${Buffer.concat([s.keyId, signature]).toString('base64')}\n`;
}

/** The text of `note` when one of its signature lines is a valid signature by `key`; throws otherwise. */
export function openNote(note: string, key: string): string {
  const v = parseVerifierKey(key);
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('malformed note: no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const pub = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, v.publicKey]), format: 'der', type: 'spki' });
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m) throw new Error('malformed note: a signature line is not "— <name> <signature>"');
    const blob = Buffer.from(m[2]!, 'base64');
    if (m[1] !== v.name || blob.length !== 68 || !blob.subarray(0, 4).equals(v.keyId)) continue;
    if (!verify(null, Buffer.from(text, 'utf8'), pub, blob.subarray(4))) throw new Error(`the signature by ${v.name} does not verify`);
    return text;
  }
  throw new Error(`the note carries no signature by ${v.name}+${v.keyId.toString('hex')}`);
}

export function checkpointText(origin: string, size: number, rootHashHex: string): string {
  return `${origin}\n${size}\n${Buffer.from(rootHashHex, 'hex').toString('base64')}\n`;
}

export function parseCheckpoint(text: string): { origin: string; size: number; rootHash: string } {
  const lines = text.split('\n');
  if (lines.length < 4 || !/^(0|[1-9]\d{0,15})$/.test(lines[1]!)) throw new Error('malformed checkpoint: origin, size, root hash expected');
  const root = Buffer.from(lines[2]!, 'base64');
  if (root.length !== 32 || root.toString('base64') !== lines[2]) throw new Error('malformed checkpoint: the root hash is not 32 bytes of base64');
  return { origin: lines[0]!, size: Number(lines[1]), rootHash: root.toString('hex') };
}
