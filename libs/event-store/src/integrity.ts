import type { EventStore } from './port.js';
import { digestOfHeads, eventHash, GENESIS_HASH } from './hashing.js';

export interface VerifyResult {
  readonly ok: boolean;
  readonly checkedEvents: number;
  readonly position: bigint;
  readonly firstInvalidPosition?: bigint;
  readonly reason?: string;
  readonly digest: string;
  readonly digestMatches?: boolean;
}

export interface VerifyOptions {
  /** Check up to this position (inclusive); the head by default. */
  readonly position?: bigint;
  /** A digest kept outside the ledger, compared with the one recomputed at `position`. */
  readonly digest?: string;
  readonly onProgress?: (checked: number, position: bigint) => void;
}

/**
 * Recomputes every event's hash from its content and its stream's previous hash, in log order, and
 * names the first position where the stored chain disagrees. Works on any adapter through `readAll`;
 * memory grows with the number of streams, not events.
 */
export async function verifyLog(store: EventStore, options: VerifyOptions = {}): Promise<VerifyResult> {
  const upTo = options.position ?? (await store.headPosition());
  const heads = new Map<string, string>();
  const revisions = new Map<string, bigint>();
  let checked = 0;
  for await (const e of store.readAll({ fromPosition: 0n, toPosition: upTo })) {
    const expectedPrev = heads.get(e.streamId) ?? GENESIS_HASH;
    const expectedRevision = (revisions.get(e.streamId) ?? -1n) + 1n;
    let reason: string | undefined;
    if (e.revision !== expectedRevision) reason = `revision ${e.revision} where ${expectedRevision} was expected`;
    else if (e.prevHash !== expectedPrev) reason = 'prevHash does not match the previous event of its stream';
    else if (eventHash(e.prevHash, e) !== e.hash) reason = 'content does not match its hash';
    if (reason) {
      return { ok: false, checkedEvents: checked, position: upTo, firstInvalidPosition: e.position, reason, digest: digestOfHeads(heads), digestMatches: options.digest === undefined ? undefined : false };
    }
    heads.set(e.streamId, e.hash);
    revisions.set(e.streamId, e.revision);
    checked += 1;
    if (options.onProgress && checked % 10_000 === 0) options.onProgress(checked, e.position);
  }
  const digest = digestOfHeads(heads);
  // A stream the store deleted and scavenged leaves no gap in any chain: only the store's own record of the
  // deletion (or a digest kept outside) shows it.
  const removed = store.removals ? await store.removals() : [];
  if (removed.length > 0) {
    const named = removed.slice(0, 10).map((r) => `${r.streamId} (${r.kind}: ${r.detail})`);
    return {
      ok: false,
      checkedEvents: checked,
      position: upTo,
      reason: `the store has removed events of ${removed.length} stream(s): ${named.join('; ')}${removed.length > named.length ? '; …' : ''}`,
      digest,
      digestMatches: options.digest === undefined ? undefined : options.digest === digest,
    };
  }
  return {
    ok: true,
    checkedEvents: checked,
    position: upTo,
    digest,
    digestMatches: options.digest === undefined ? undefined : options.digest === digest,
  };
}

/** The digest at a position: what an auditor stores outside the ledger. */
export async function digestAt(store: EventStore, position?: bigint): Promise<{ position: bigint; digest: string }> {
  const upTo = position ?? (await store.headPosition());
  const heads = new Map<string, string>();
  for await (const e of store.readAll({ fromPosition: 0n, toPosition: upTo })) heads.set(e.streamId, e.hash);
  return { position: upTo, digest: digestOfHeads(heads) };
}
