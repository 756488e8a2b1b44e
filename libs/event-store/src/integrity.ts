import type { RecordedEvent } from '#events/envelope.js';
import { digestOfHeads, eventHash, GENESIS_HASH } from './hashing.js';
import { CompactRange, eventLeafHash, type CompletedNode } from './merkle.js';
import { merkleOf } from './merkle-log.js';
import type { EventStore } from './port.js';

export interface VerifyResult {
  readonly ok: boolean;
  readonly checkedEvents: number;
  readonly position: bigint;
  readonly firstInvalidPosition?: bigint;
  readonly reason?: string;
  /** The stream-heads digest (v1) at `position`, over the verified prefix when the chain breaks. */
  readonly digest: string;
  readonly digestMatches?: boolean;
  /** The tree head recomputed from the events checked: `size` events up to `position`. */
  readonly size: number;
  readonly rootHash: string;
  /** Present when a root was given: whether the recomputed root at the given size equals it. */
  readonly rootMatches?: boolean;
}

export interface VerifyOptions {
  /** Check up to this position (inclusive); the head by default. */
  readonly position?: bigint;
  /** A digest kept outside the ledger, compared with the one recomputed at `position`. */
  readonly digest?: string;
  /** A tree head kept outside the ledger (a checkpoint): its size ... */
  readonly size?: number;
  /** ... and its root (hex), compared with the root recomputed at `size`. */
  readonly rootHash?: string;
  readonly onProgress?: (checked: number, position: bigint) => void;
}

/** The part of an event `verify` recomputes. */
export type CheckedEvent = Pick<RecordedEvent, 'eventId' | 'type' | 'streamId' | 'revision' | 'position' | 'data' | 'metadata' | 'prevHash' | 'hash'>;

/**
 * Recomputes, event by event in log order: each stream's revisions and hash chain, every event's hash, the
 * v1 digest of stream heads and the Merkle tree (so the root at any kept size). Memory grows with the number
 * of streams, not events. Shared by `verifyLog` (any adapter) and the read-only SQLite file check.
 */
export class LogChecker {
  private readonly heads = new Map<string, string>();
  private readonly revisions = new Map<string, bigint>();
  readonly range = new CompactRange();
  checked = 0;
  lastPosition = 0n;
  /** The root when the tree had `keptSize` leaves. */
  rootAtKeptSize: Buffer | undefined;
  /** Leaf hash of the last event accepted, and the complete subtrees it closed. */
  lastLeaf: Buffer | undefined;
  completed: readonly CompletedNode[] = [];

  constructor(private readonly keptSize?: number) {
    if (keptSize === 0) this.rootAtKeptSize = this.range.root();
  }

  /** Checks the next event; the reason it is invalid, or undefined (and the event is then part of the tree). */
  check(e: CheckedEvent): string | undefined {
    if (e.position <= this.lastPosition) return `position ${e.position} does not follow position ${this.lastPosition}`;
    const expectedPrev = this.heads.get(e.streamId) ?? GENESIS_HASH;
    const expectedRevision = (this.revisions.get(e.streamId) ?? -1n) + 1n;
    if (e.revision !== expectedRevision) return `revision ${e.revision} where ${expectedRevision} was expected`;
    if (e.prevHash !== expectedPrev) return 'prevHash does not match the previous event of its stream';
    if (eventHash(e.prevHash, e) !== e.hash) return 'content does not match its hash';
    this.heads.set(e.streamId, e.hash);
    this.revisions.set(e.streamId, e.revision);
    this.lastLeaf = eventLeafHash(e.position, e.hash);
    this.completed = this.range.push(this.lastLeaf);
    this.checked += 1;
    this.lastPosition = e.position;
    if (this.checked === this.keptSize) this.rootAtKeptSize = this.range.root();
    return undefined;
  }

  digest(): string {
    return digestOfHeads(this.heads);
  }

  /** The verdict on a kept tree head, once every event up to the end was checked. */
  keptHead(rootHash: string | undefined): { rootMatches?: boolean; reason?: string } {
    if (this.keptSize === undefined) return {};
    if (this.keptSize > this.checked) {
      return { rootMatches: false, reason: `the log has ${this.checked} events, fewer than the ${this.keptSize} of the kept tree head: events were deleted or the log was truncated` };
    }
    if (rootHash === undefined) return {};
    const matches = this.rootAtKeptSize!.toString('hex') === rootHash;
    return matches
      ? { rootMatches: true }
      : { rootMatches: false, reason: `the root of the first ${this.keptSize} events differs from the kept tree head: history before it was rewritten` };
  }
}

/**
 * Recomputes every event's hash from its content and its stream's previous hash, in log order, and names
 * the first position where the stored chain disagrees; recomputes the Merkle tree and compares it with the
 * store's own tree and with a kept tree head. Works on any adapter through `readAll`.
 */
export async function verifyLog(store: EventStore, options: VerifyOptions = {}): Promise<VerifyResult> {
  const upTo = options.position ?? (await store.headPosition());
  const checker = new LogChecker(options.size);
  const result = (broken?: { position?: bigint; reason: string }): VerifyResult => {
    const kept = checker.keptHead(options.rootHash);
    const failure = broken ?? (kept.reason === undefined ? undefined : { position: options.size! > checker.checked ? checker.lastPosition + 1n : undefined, reason: kept.reason });
    let rootMatches: boolean | undefined;
    if (options.rootHash !== undefined) rootMatches = checker.rootAtKeptSize === undefined ? false : checker.rootAtKeptSize.toString('hex') === options.rootHash;
    return {
      ok: failure === undefined,
      checkedEvents: checker.checked,
      position: checker.lastPosition > upTo ? checker.lastPosition : upTo,
      ...(failure !== undefined ? { ...(failure.position !== undefined ? { firstInvalidPosition: failure.position } : {}), reason: failure.reason } : {}),
      digest: checker.digest(),
      ...(options.digest !== undefined ? { digestMatches: broken === undefined && options.digest === checker.digest() } : {}),
      size: checker.checked,
      rootHash: checker.range.root().toString('hex'),
      ...(rootMatches !== undefined ? { rootMatches } : {}),
    };
  };
  // A kept head beyond `position` is checked too: the scan goes on to it.
  for await (const e of store.readAll({ fromPosition: 0n, toPosition: options.size === undefined ? upTo : undefined })) {
    if (e.position > upTo && checker.checked >= (options.size ?? 0)) break;
    const reason = checker.check(e);
    if (reason) return result({ position: e.position, reason });
    if (options.onProgress && checker.checked % 10_000 === 0) options.onProgress(checker.checked, e.position);
  }
  if (store.merkle) {
    const stored = await store.merkle.treeHead().catch(() => undefined);
    const mine = checker.range.root().toString('hex');
    if (stored !== undefined && stored.size >= checker.checked) {
      const at = await store.merkle.treeHead(checker.checked);
      if (at.rootHash !== mine) {
        const first = await firstStoredLeafDiffering(store, checker.checked);
        return result({ position: first, reason: "the store's Merkle tree does not match its events (events reordered, replaced or the tree rewritten)" });
      }
    } else if (stored !== undefined) {
      return result({ position: stored.position + 1n, reason: `the store's Merkle tree covers ${stored.size} events but the log has ${checker.checked}` });
    }
  }
  // A stream the store deleted and scavenged leaves no gap in any chain: only the store's own record of the
  // deletion (or a kept tree head) shows it.
  const removed = store.removals ? await store.removals() : [];
  if (removed.length > 0) {
    const named = removed.slice(0, 10).map((r) => `${r.streamId} (${r.kind}: ${r.detail})`);
    return result({ reason: `the store has removed events of ${removed.length} stream(s): ${named.join('; ')}${removed.length > named.length ? '; …' : ''}` });
  }
  return result();
}

/** The position of the first event whose stored tree head disagrees with the recomputed one: a second pass, only on failure. */
async function firstStoredLeafDiffering(store: EventStore, size: number): Promise<bigint | undefined> {
  const tree = merkleOf(store);
  const range = new CompactRange();
  for await (const e of store.readAll({ fromPosition: 0n })) {
    range.push(eventLeafHash(e.position, e.hash));
    if ((await tree.treeHead(range.size)).rootHash !== range.root().toString('hex')) return e.position;
    if (range.size >= size) break;
  }
  return undefined;
}

/** The digest at a position: what an auditor stored outside the ledger before tree heads (v1). */
export async function digestAt(store: EventStore, position?: bigint): Promise<{ position: bigint; digest: string }> {
  const upTo = position ?? (await store.headPosition());
  const heads = new Map<string, string>();
  for await (const e of store.readAll({ fromPosition: 0n, toPosition: upTo })) heads.set(e.streamId, e.hash);
  return { position: upTo, digest: digestOfHeads(heads) };
}
