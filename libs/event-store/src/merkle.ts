import { createHash, hash } from 'node:crypto';

/**
 * The log as an RFC 9162 (§2.1) Merkle tree: SHA-256, leaf hash H(0x00 || leaf input), node hash
 * H(0x01 || left || right), the tree shape fixed by the number of leaves. Sizes and indices are JS numbers
 * (exact up to 2^53 leaves); arithmetic avoids 32-bit bitwise operators for that reason.
 */
export const ALGORITHM = 'rfc9162-sha256';

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/**
 * SHA-256 of one buffer. One-shot `crypto.hash` with a 'binary' (latin1) string output, turned back into bytes: on Node 20
 * that is about 4× faster than asking `crypto.hash` for a Buffer (which takes a slower path) and than a
 * `createHash` object, for inputs this small (measured: 0.39 µs against 1.46 µs and 1.75 µs). The append path
 * computes two of these an event.
 */
function sha256(input: Uint8Array): Buffer {
  return Buffer.from(hash('sha256', input, 'binary'), 'latin1');
}

export function leafHash(input: Uint8Array): Buffer {
  return sha256(Buffer.concat([LEAF_PREFIX, input]));
}

/** 0x01 || left || right for two 32-byte hashes, reused (hashing copies it): no allocation a node. */
const NODE_INPUT = Buffer.alloc(65, 0x01);

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== 32 || right.length !== 32) return sha256(Buffer.concat([NODE_PREFIX, left, right]));
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 33);
  return sha256(NODE_INPUT);
}

/**
 * The leaf input of an event: its position (8 bytes, big-endian) then its stored hash (32 bytes). The stored
 * event hash chains the events of one stream and does not cover the position (EventStoreDB assigns positions
 * only at commit, and existing logs must keep verifying), so the leaf adds it: an event moved to another
 * position, or a position gap closed, changes the leaf and so every later root.
 */
export function eventLeafInput(position: bigint, eventHashHex: string): Buffer {
  const out = Buffer.alloc(40);
  out.writeBigUInt64BE(position, 0);
  if (!/^[0-9a-f]{64}$/.test(eventHashHex)) throw new TypeError('an event hash is 64 lowercase hex digits');
  out.write(eventHashHex, 8, 'hex');
  return out;
}

/** 0x00 || position || event hash, reused (hashing copies it). */
const EVENT_LEAF_INPUT = Buffer.alloc(41, 0x00);

export function eventLeafHash(position: bigint, eventHashHex: string): Buffer {
  EVENT_LEAF_INPUT.writeBigUInt64BE(position, 1);
  if (!/^[0-9a-f]{64}$/.test(eventHashHex)) throw new TypeError('an event hash is 64 lowercase hex digits');
  EVENT_LEAF_INPUT.write(eventHashHex, 9, 'hex');
  return sha256(EVENT_LEAF_INPUT);
}

/**
 * Where proofs read the tree: the hash of the complete subtree of 2^level leaves starting at leaf
 * `index * 2^level` (level 0: the leaf hash). Only subtrees inside the tree asked about are requested.
 */
export type NodeReader = (level: number, index: number) => Buffer;

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** MTH(D[start:end]) per RFC 9162, from stored complete subtrees: O(log n) reads. */
export function subtreeHash(read: NodeReader, start: number, end: number): Buffer {
  const n = end - start;
  if (n <= 0) return EMPTY_ROOT;
  if (isPowerOfTwo(n) && start % n === 0) return read(Math.round(Math.log2(n)), start / n);
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(subtreeHash(read, start, start + k), subtreeHash(read, start + k, end));
}

export function rootAt(read: NodeReader, size: number): Buffer {
  return subtreeHash(read, 0, size);
}

/** PATH(m, D[size]) (RFC 9162 §2.1.3.1): the audit path of leaf `index` in the tree of `size` leaves. */
export function inclusionProof(read: NodeReader, index: number, size: number): Buffer[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size} leaves`);
  const path: Buffer[] = [];
  const walk = (m: number, start: number, n: number): void => {
    if (n === 1) return;
    const k = largestPowerOfTwoBelow(n);
    if (m < k) {
      walk(m, start, k);
      path.push(subtreeHash(read, start + k, start + n));
    } else {
      walk(m - k, start + k, n - k);
      path.push(subtreeHash(read, start, start + k));
    }
  };
  walk(index, 0, size);
  return path;
}

/** PROOF(m, D[n]) (RFC 9162 §2.1.4.1): that the tree of `from` leaves is a prefix of the tree of `to` leaves. */
export function consistencyProof(read: NodeReader, from: number, to: number): Buffer[] {
  if (!(from >= 0 && from <= to)) throw new RangeError(`no consistency proof from ${from} to ${to}`);
  if (from === 0 || from === to) return [];
  const proof: Buffer[] = [];
  const sub = (m: number, start: number, n: number, complete: boolean): void => {
    if (m === n) {
      if (!complete) proof.push(subtreeHash(read, start, start + n));
      return;
    }
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      sub(m, start, k, complete);
      proof.push(subtreeHash(read, start + k, start + n));
    } else {
      sub(m - k, start + k, n - k, false);
      proof.push(subtreeHash(read, start, start + k));
    }
  };
  sub(from, 0, to, true);
  return proof;
}

const half = (x: number): number => Math.floor(x / 2);
const odd = (x: number): boolean => x % 2 === 1;

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or undefined when the proof has the wrong shape. */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Buffer | undefined {
  if (!(index >= 0 && index < size)) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (p.length !== 32 || sn === 0) return undefined;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn)) {
        do {
          fn = half(fn);
          sn = half(sn);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const r = rootFromInclusionProof(index, size, leaf, proof);
  return r !== undefined && r.equals(root);
}

/** RFC 9162 §2.1.4.2: the tree of `from` leaves with `fromRoot` is a prefix of the tree of `to` leaves with `toRoot`. */
export function verifyConsistency(from: number, to: number, proof: readonly Uint8Array[], fromRoot: Uint8Array, toRoot: Uint8Array): boolean {
  if (from > to || from < 0) return false;
  if (from === to) return proof.length === 0 && Buffer.from(fromRoot).equals(toRoot);
  if (from === 0) return proof.length === 0;
  if (proof.length === 0 || proof.some((p) => p.length !== 32)) return false;
  const path = isPowerOfTwo(from) ? [fromRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
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

/** A complete subtree that an append completed: what a store keeps to answer proofs without rehashing. */
export interface CompletedNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Buffer;
}

/**
 * The right edge of the tree (one complete subtree per set bit of its size): appending a leaf costs O(1)
 * hashes amortised and names the complete subtrees it closed; the root is O(log n) hashes from here.
 */
export class CompactRange {
  private readonly peaks: (Buffer | undefined)[] = [];
  private count = 0;

  /** The edge of a tree of `size` leaves, read from its stored complete subtrees. */
  static load(read: NodeReader, size: number): CompactRange {
    const r = new CompactRange();
    let start = 0;
    for (let level = Math.floor(Math.log2(Math.max(size, 1))) + 1; level >= 0; level--) {
      const width = 2 ** level;
      if (start + width <= size) {
        r.peaks[level] = read(level, start / width);
        start += width;
      }
    }
    r.count = size;
    return r;
  }

  get size(): number {
    return this.count;
  }

  /** Adds a leaf hash; returns the subtrees of level ≥ 1 it completed, lowest first. */
  push(leaf: Buffer): CompletedNode[] {
    const index = this.count;
    const done: CompletedNode[] = [];
    let h = leaf;
    let level = 0;
    while (this.peaks[level] !== undefined) {
      h = nodeHash(this.peaks[level]!, h);
      this.peaks[level] = undefined;
      level += 1;
      done.push({ level, index: Math.floor(index / 2 ** level), hash: h });
    }
    this.peaks[level] = h;
    this.count += 1;
    return done;
  }

  root(): Buffer {
    let r: Buffer | undefined;
    for (const p of this.peaks) {
      if (p === undefined) continue;
      r = r === undefined ? p : nodeHash(p, r);
    }
    return r ?? EMPTY_ROOT;
  }
}
