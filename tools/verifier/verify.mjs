#!/usr/bin/env node
// Standalone verifier for channel-ledger checkpoints (docs/audit.md). It imports no ledger code: only Node's
// crypto, fs and fetch, so an auditor can read all of it and run it with nothing but Node 20+.
//
//   node verify.mjs --checkpoint kept.checkpoint --key <verifier key or file> --url https://ledger.example --token <auditor API key> [--events]
//   node verify.mjs --checkpoint kept.checkpoint --key <verifier key or file> --export log.ndjson
//
// With --url it checks the kept checkpoint's signature, fetches the service's current signed checkpoint,
// and checks an RFC 9162 consistency proof between them: the log the service shows now extends the one the
// checkpoint committed to. --events also downloads every event and recomputes every hash and the tree.
// With --export it recomputes everything from an export file and compares it with the checkpoint.
//
//   node verify.mjs --statement statement.json --key <verifier key or file> (--url https://ledger.example --token <auditor API key> | --export log.ndjson)
//
// A partner statement (docs/statements.md): its Ed25519 signature over the signing message (the content hash
// recomputed from the content presented), and its digest against the log's tree head at the statement's
// position (the service's signed checkpoint at that position, or the tree recomputed from an export). The
// content itself can only be recomputed with the ledger's rules: `ledger statement verify` or
// `POST /v1/audit/statements/verify` do that.
// Exit codes: 0 verified; 1 verification failed (bad signature, inconsistent log, damaged events);
// 2 could not run (bad arguments, unreadable files, the service unreachable or refusing).
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

class Failure extends Error {}
class UsageError extends Error {}

// ---- RFC 9162 Merkle tree (SHA-256; leaf H(0x00 || input), node H(0x01 || left || right)) ----

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHash = (input) => sha256(Buffer.from([0]), input);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);
const EMPTY_ROOT = sha256();

/** The leaf input of an event: position as 8 bytes big-endian, then the event's 32-byte hash. */
function eventLeaf(position, hashHex) {
  const b = Buffer.alloc(40);
  b.writeBigUInt64BE(BigInt(position), 0);
  b.write(hashHex, 8, 'hex');
  return leafHash(b);
}

/** The right edge of a tree being built leaf by leaf; `root()` at any time is the head of the leaves so far. */
class CompactRange {
  peaks = [];
  size = 0;
  push(leaf) {
    let h = leaf;
    let level = 0;
    while (this.peaks[level] !== undefined) {
      h = nodeHash(this.peaks[level], h);
      this.peaks[level] = undefined;
      level += 1;
    }
    this.peaks[level] = h;
    this.size += 1;
  }
  root() {
    let r;
    for (const p of this.peaks) if (p !== undefined) r = r === undefined ? p : nodeHash(p, r);
    return r ?? EMPTY_ROOT;
  }
}

const half = (x) => Math.floor(x / 2);
const odd = (x) => x % 2 === 1;
const isPowerOfTwo = (n) => n > 0 && 2 ** Math.round(Math.log2(n)) === n;

/** RFC 9162 §2.1.4.2. */
function verifyConsistency(from, to, proof, fromRoot, toRoot) {
  if (from > to || from < 0) return false;
  if (from === to) return proof.length === 0 && fromRoot.equals(toRoot);
  if (from === 0) return proof.length === 0;
  if (proof.length === 0 || proof.some((p) => p.length !== 32)) return false;
  const path = isPowerOfTwo(from) ? [fromRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn)) {
        do {
          fn = half(fn);
          sn = half(sn);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(fromRoot) && sr.equals(toRoot);
}

// ---- C2SP signed notes (Ed25519) and checkpoints ----

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function parseVerifierKey(text) {
  const parts = text.trim().split('+');
  if (parts.length < 3) throw new UsageError('the key is not a signed-note verifier key (<name>+<key id>+<key>)');
  const [name, id] = parts;
  const raw = Buffer.from(parts.slice(2).join('+'), 'base64');
  if (!/^[0-9a-f]{8}$/.test(id) || raw.length !== 33 || raw[0] !== 1) throw new UsageError('the key is not an Ed25519 verifier key');
  const publicKey = raw.subarray(1);
  const keyId = sha256(Buffer.from(name, 'utf8'), Buffer.from([0x0a, 0x01]), publicKey).subarray(0, 4);
  if (keyId.toString('hex') !== id) throw new UsageError('the verifier key id does not match its key');
  return { name, keyId, publicKey: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' }) };
}

/** The checkpoint in `note` when `key` signed it: { origin, size, root }. */
function openCheckpoint(note, key, what) {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Failure(`${what} is not a signed note`);
  const text = note.slice(0, split + 1);
  let signed = false;
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m) throw new Failure(`${what}: malformed signature line`);
    const blob = Buffer.from(m[2], 'base64');
    if (m[1] !== key.name || blob.length !== 68 || !blob.subarray(0, 4).equals(key.keyId)) continue;
    if (!verifySignature(null, Buffer.from(text, 'utf8'), key.publicKey, blob.subarray(4))) throw new Failure(`${what}: the signature does not verify`);
    signed = true;
  }
  if (!signed) throw new Failure(`${what} is not signed by ${key.name}`);
  const [origin, sizeLine, rootLine] = text.split('\n');
  const root = Buffer.from(rootLine ?? '', 'base64');
  if (!/^(0|[1-9]\d{0,15})$/.test(sizeLine ?? '') || root.length !== 32) throw new Failure(`${what} is not a checkpoint (origin, size, root hash)`);
  if (origin !== key.name) throw new Failure(`${what} is for origin ${origin}, not ${key.name}`);
  return { origin, size: Number(sizeLine), root };
}

// ---- Event hashes (the ledger's canonical JSON: keys sorted by UTF-16 code units, no whitespace) ----

function canonicalJson(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
}

function eventHash(e) {
  const envelope = { data: e.data, eventId: e.eventId, metadata: e.metadata, revision: String(e.revision), streamId: e.streamId, type: e.type };
  return createHash('sha256').update(`${e.prevHash}\n${canonicalJson(envelope)}`).digest('hex');
}

/** Checks events in log order: each stream's chain and revisions, each hash; builds the tree. */
class EventChecker {
  heads = new Map();
  range = new CompactRange();
  lastPosition = 0n;
  rootAt = new Map();
  constructor(sizes) {
    this.sizes = new Set(sizes);
    if (this.sizes.has(0)) this.rootAt.set(0, EMPTY_ROOT);
  }
  add(e) {
    const where = `position ${e.position}`;
    if (typeof e.position !== 'string' || !/^\d+$/.test(e.position) || BigInt(e.position) <= this.lastPosition) throw new Failure(`${where}: not in log order`);
    const head = this.heads.get(e.streamId);
    const expectedRevision = head ? head.revision + 1n : 0n;
    if (BigInt(e.revision) !== expectedRevision) throw new Failure(`${where}: revision ${e.revision} of ${e.streamId} where ${expectedRevision} was expected`);
    if (e.prevHash !== (head ? head.hash : '0'.repeat(64))) throw new Failure(`${where}: prevHash does not continue ${e.streamId}`);
    if (eventHash(e) !== e.hash) throw new Failure(`${where}: the content does not match its hash`);
    this.heads.set(e.streamId, { revision: expectedRevision, hash: e.hash });
    this.lastPosition = BigInt(e.position);
    this.range.push(eventLeaf(e.position, e.hash));
    if (this.sizes.has(this.range.size)) this.rootAt.set(this.range.size, this.range.root());
  }
}

// ---- Sources ----

async function fetchJson(base, path, token) {
  let res;
  try {
    res = await fetch(new URL(path, base), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (error) {
    throw new UsageError(`cannot reach ${base}: ${error.cause?.message ?? error.message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new UsageError(`${path}: HTTP ${res.status} ${text.slice(0, 200).replace(/\s+/g, ' ')}`);
  return JSON.parse(text);
}

async function againstService(kept, key, url, token, allEvents) {
  const started = performance.now();
  const now = await fetchJson(url, '/v1/audit/digest', token);
  const head = openCheckpoint(String(now.checkpoint), key, "the service's checkpoint");
  if (head.size < kept.size) throw new Failure(`the service's log has ${head.size} events, fewer than the ${kept.size} of the kept checkpoint: it was truncated`);
  const c = await fetchJson(url, `/v1/audit/proofs/consistency?from=${kept.size}&to=${head.size}`, token);
  const proof = (c.proof ?? []).map((h) => Buffer.from(h, 'hex'));
  if (!verifyConsistency(kept.size, head.size, proof, kept.root, head.root)) {
    throw new Failure(`the consistency proof from ${kept.size} to ${head.size} events does not hold: the log was rewritten since the kept checkpoint`);
  }
  const result = { ok: true, fromSize: kept.size, toSize: head.size, proofHashes: proof.length, proofMs: Math.round(performance.now() - started), newCheckpoint: now.checkpoint };
  if (allEvents) {
    const checker = new EventChecker([kept.size, head.size]);
    let from = '0';
    while (checker.range.size < head.size) {
      const page = await fetchJson(url, `/v1/audit/events?fromPosition=${from}&limit=1000`, token);
      for (const e of page.items) {
        if (checker.range.size === head.size) break;
        checker.add(e);
      }
      if (page.nextPosition === null || page.items.length === 0) break;
      from = page.nextPosition;
    }
    if (checker.range.size < head.size) throw new Failure(`the service served ${checker.range.size} events, not the ${head.size} its checkpoint covers`);
    if (!checker.rootAt.get(kept.size).equals(kept.root)) throw new Failure(`the events served do not hash to the kept checkpoint's root at ${kept.size}`);
    if (!checker.rootAt.get(head.size).equals(head.root)) throw new Failure(`the events served do not hash to the service's own checkpoint root at ${head.size}`);
    result.eventsChecked = checker.range.size;
  }
  return result;
}

async function againstExport(kept, file) {
  if (!existsSync(file)) throw new UsageError(`no export file ${file}`);
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let header;
  let trailer;
  let n = 0;
  const checker = new EventChecker([kept.size]);
  for await (const text of lines) {
    n += 1;
    if (text.trim() === '') continue;
    let v;
    try {
      v = JSON.parse(text);
    } catch {
      throw new Failure(`line ${n} of the export is not JSON`);
    }
    if (trailer) throw new Failure(`line ${n}: content after the trailer`);
    if (n === 1 && v.format !== undefined) {
      header = v;
      if (v.fromPosition !== undefined && v.fromPosition !== '0') throw new UsageError('this export starts after the beginning of the log: export it whole to verify it');
    } else if (v.eventId === undefined && v.rootHash !== undefined) trailer = v;
    else {
      try {
        checker.add(v);
      } catch (error) {
        throw new Failure(`line ${n}: ${error.message}`);
      }
    }
  }
  if (!header) throw new Failure('the export has no header line: not a complete export');
  if (!trailer) throw new Failure('the export has no trailer line: it was cut short');
  if (trailer.count !== checker.range.size || trailer.rootHash !== checker.range.root().toString('hex')) throw new Failure(`the export's trailer (${trailer.count} events) does not match its ${checker.range.size} events`);
  if (checker.range.size < kept.size) throw new Failure(`the export has ${checker.range.size} events, fewer than the ${kept.size} of the kept checkpoint`);
  if (!checker.rootAt.get(kept.size).equals(kept.root)) throw new Failure(`the first ${kept.size} events of the export do not hash to the kept checkpoint's root: history was rewritten`);
  return { ok: true, fromSize: kept.size, toSize: checker.range.size, eventsChecked: checker.range.size, rootHash: checker.range.root().toString('hex') };
}

// ---- Partner statements ----

const STATEMENT_SIGNING_CONTEXT = 'channel-ledger/statement-signature/1\n';

/** The statement's signature with `key`, over its fields and the SHA-256 of its content as presented. */
function statementSignature(st, key) {
  const contentHash = createHash('sha256').update(canonicalJson(st.content ?? null), 'utf8').digest('hex');
  const fields = {
    statementId: st.statementId,
    partnerId: st.partnerId,
    period: st.period,
    position: st.position,
    digest: { size: st.digest?.size, rootHash: st.digest?.rootHash },
    programVersion: st.programVersion,
    commissionPlanVersion: st.commissionPlanVersion,
    contentHash,
  };
  const sig = Buffer.from(String(st.signature ?? ''), 'base64');
  const valid = sig.length === 64 && contentHash === st.contentHash && verifySignature(null, Buffer.from(STATEMENT_SIGNING_CONTEXT + canonicalJson(fields), 'utf8'), key.publicKey, sig);
  return { valid, contentHash, contentHashMatches: contentHash === st.contentHash };
}

async function statementDigestFromService(st, key, url, token) {
  const now = await fetchJson(url, `/v1/audit/digest?position=${encodeURIComponent(st.position)}`, token);
  const head = openCheckpoint(String(now.checkpoint), key, "the service's checkpoint at the statement's position");
  return { size: head.size, rootHash: head.root.toString('hex') };
}

async function statementDigestFromExport(st, file) {
  if (!existsSync(file)) throw new UsageError(`no export file ${file}`);
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const checker = new EventChecker([]);
  const position = BigInt(st.position);
  let n = 0;
  for await (const text of lines) {
    n += 1;
    if (text.trim() === '') continue;
    let v;
    try {
      v = JSON.parse(text);
    } catch {
      throw new Failure(`line ${n} of the export is not JSON`);
    }
    if (v.eventId === undefined) continue;
    if (BigInt(v.position) > position) break;
    try {
      checker.add(v);
    } catch (error) {
      throw new Failure(`line ${n}: ${error.message}`);
    }
  }
  return { size: checker.range.size, rootHash: checker.range.root().toString('hex') };
}

async function verifyStatementFile(opts, key) {
  if (!existsSync(opts.statement)) throw new UsageError(`no statement file ${opts.statement}`);
  let st;
  try {
    st = JSON.parse(readFileSync(opts.statement, 'utf8'));
  } catch {
    throw new UsageError(`${opts.statement} is not JSON`);
  }
  if (st === null || typeof st !== 'object' || typeof st.position !== 'string' || !/^\d{1,20}$/.test(st.position)) throw new UsageError(`${opts.statement} is not a statement (no position)`);
  const token = opts.token ?? process.env.LEDGER_TOKEN;
  const signature = statementSignature(st, key);
  const log = opts.url ? await statementDigestFromService(st, key, opts.url, token) : await statementDigestFromExport(st, opts.export);
  const digestMatches = log.size === st.digest?.size && log.rootHash === st.digest?.rootHash;
  const result = { ok: signature.valid && digestMatches, signatureValid: signature.valid, contentHashMatches: signature.contentHashMatches, digestMatches, statementId: st.statementId, position: st.position, digest: st.digest, logDigest: log };
  if (!result.ok) {
    const reasons = [!signature.contentHashMatches && 'the content does not hash to contentHash', !signature.valid && 'the signature does not verify', !digestMatches && `the digest is not the log's tree head at position ${st.position} (${log.size} events, ${log.rootHash})`].filter(Boolean);
    throw Object.assign(new Failure(`statement ${st.statementId}: ${reasons.join('; ')}`), { result });
  }
  return result;
}

// ---- Command line ----

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--events') opts.events = true;
    else if (['--checkpoint', '--key', '--url', '--token', '--export', '--statement'].includes(a) && i + 1 < argv.length) opts[a.slice(2)] = argv[++i];
    else throw new UsageError(`unknown argument ${a}`);
  }
  if (opts.statement !== undefined) {
    if (opts.checkpoint !== undefined || !opts.key || (opts.url === undefined) === (opts.export === undefined)) {
      throw new UsageError('usage: verify.mjs --statement <file> --key <verifier key | file> (--url <service> [--token <key>] | --export <file>)');
    }
    return opts;
  }
  if (!opts.checkpoint || !opts.key || (opts.url === undefined) === (opts.export === undefined)) {
    throw new UsageError('usage: verify.mjs --checkpoint <file> --key <verifier key | file> (--url <service> [--token <key>] [--events] | --export <file>)');
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.statement !== undefined) {
    const key = parseVerifierKey(existsSync(opts.key) ? readFileSync(opts.key, 'utf8') : opts.key);
    return verifyStatementFile(opts, key);
  }
  if (!existsSync(opts.checkpoint)) throw new UsageError(`no checkpoint file ${opts.checkpoint}`);
  const key = parseVerifierKey(existsSync(opts.key) ? readFileSync(opts.key, 'utf8') : opts.key);
  const kept = openCheckpoint(readFileSync(opts.checkpoint, 'utf8'), key, 'the kept checkpoint');
  const token = opts.token ?? process.env.LEDGER_TOKEN;
  return opts.url ? againstService(kept, key, opts.url, token, opts.events === true) : againstExport(kept, opts.export);
}

try {
  const r = await main();
  process.stdout.write(`${JSON.stringify(r)}\n`);
  if (r.statementId !== undefined) process.stderr.write(`verified: statement ${r.statementId} is signed by the key and its digest is the log's tree head at position ${r.position}\n`);
  else process.stderr.write(`verified: the log of ${r.toSize} events extends the kept checkpoint of ${r.fromSize}${r.eventsChecked !== undefined ? `, every event rechecked` : ''}\n`);
} catch (error) {
  const failed = error instanceof Failure;
  process.stdout.write(`${JSON.stringify({ ...(error.result ?? {}), ok: false, reason: error.message })}\n`);
  process.stderr.write(`${failed ? 'NOT VERIFIED' : 'error'}: ${error.message}\n`);
  process.exitCode = failed ? 1 : 2;
}
