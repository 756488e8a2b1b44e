import { Readable } from 'node:stream';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { toWire, type Actor, type WireEvent } from '#events/envelope.js';
import { checkpointText, publicJwk, signNote, verifierKey, type NoteSigner } from '#libs/event-store/checkpoint.js';
import { exportHeader, exportTrailer, exportTreeHead } from '#libs/event-store/export-format.js';
import { verifyLog, type VerifyResult } from '#libs/event-store/integrity.js';
import { ALGORITHM } from '#libs/event-store/merkle.js';
import { merkleOf } from '#libs/event-store/merkle-log.js';
import type { EventStore, MerkleLog } from '#libs/event-store/port.js';
import { findReplayable, REPLAYABLE_READ_MODELS } from '#projections/replay/read-models.js';
import { assertMayReplay } from '#projections/replay/registry.js';
import { replayAsOf } from '#projections/replay/replay.js';
import { parseLedgerTime } from '../http/validation.js';
import { CHECKPOINT_SIGNER, EVENT_STORE } from '#libs/ledger/tokens.js';
import { ProblemException } from '../platform/problem.js';

/** Parameters of `/v1/audit/replay` itself; everything else belongs to the replayed read model's query. */
const REPLAY_PARAMS = new Set(['projection', 'asOf']);

/**
 * Whole-log scans (verify, digest, replay) run at most this many at a time; more wait their turn, so a
 * burst of audit requests cannot starve commands of the event loop and the store.
 */
const MAX_CONCURRENT_SCANS = 2;

class Limiter {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.queue.shift()?.();
    }
  }
}

export interface EventsPage {
  readonly items: WireEvent[];
  readonly nextPosition: string | null;
}

/** The auditor's view of the log itself (API.md, "Audit"): reads, integrity, as-of replay, export. */
@Injectable()
export class AuditService implements BeforeApplicationShutdown {
  private readonly scans = new Limiter(MAX_CONCURRENT_SCANS);
  private readonly exports = new Map<Readable, { lines: number }>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CHECKPOINT_SIGNER) private readonly signer: NoteSigner,
  ) {}

  /** The stored tree when the adapter keeps one (O(log n) a call); otherwise a scan of the log, run as one. */
  private tree<T>(task: (tree: MerkleLog) => Promise<T>): Promise<T> {
    const tree = merkleOf(this.store);
    return this.store.merkle ? task(tree) : this.scans.run(() => task(tree));
  }

  private async treeSize(): Promise<number> {
    return (await this.tree((t) => t.treeHead())).size;
  }

  private async checkSize(name: string, size: number | undefined, current: number): Promise<void> {
    if (size !== undefined && size > current) {
      throw ProblemException.validationFailed(`${name} ${size} is beyond the size of the log (${current} events).`, [{ path: name, message: `${name} must be at most ${current}` }]);
    }
  }

  head(): Promise<bigint> {
    return this.store.headPosition();
  }

  async events(query: { from: bigint; limit: number; types?: readonly string[]; streamId?: string }, head: bigint): Promise<EventsPage> {
    const items: WireEvent[] = [];
    let more = false;
    const filter = { eventTypes: query.types, streamPrefixes: query.streamId === undefined ? undefined : [query.streamId] };
    for await (const e of this.store.readAll({ fromPosition: query.from, toPosition: head, filter })) {
      // The store filters by prefix: `partner-P1` also matches `partner-P10`.
      if (query.streamId !== undefined && e.streamId !== query.streamId) continue;
      if (items.length === query.limit) {
        more = true;
        break;
      }
      items.push(toWire(e));
    }
    return { items, nextPosition: more ? items[items.length - 1]!.position : null };
  }

  async stream(streamId: string, fromRevision: bigint, limit: number): Promise<{ items: WireEvent[]; nextCursor: string | null }> {
    const events = await this.store.readStream(streamId, { fromRevision, limit: limit + 1 });
    if (events.length === 0 && fromRevision === 0n) throw ProblemException.notFound(`stream ${streamId} does not exist`);
    const page = events.slice(0, limit);
    return { items: page.map(toWire), nextCursor: events.length > limit ? events[limit]!.revision.toString() : null };
  }

  /**
   * The tree head now, at `size` events, or covering the events up to `position`, with its signed checkpoint
   * (C2SP signed note) to keep outside the ledger.
   */
  async digest(at: { size?: number; position?: bigint } = {}): Promise<{ position: string; size: number; rootHash: string; algorithm: typeof ALGORITHM; checkpoint: string }> {
    if (at.position !== undefined) await this.withinLog(at.position);
    const current = await this.treeSize();
    await this.checkSize('size', at.size, current);
    const head = await this.tree(async (t) => t.treeHead(at.size ?? (at.position !== undefined ? await t.sizeAt(at.position) : undefined)));
    return {
      position: head.position.toString(),
      size: head.size,
      rootHash: head.rootHash,
      algorithm: ALGORITHM,
      checkpoint: signNote(checkpointText(this.signer.name, head.size, head.rootHash), this.signer),
    };
  }

  async inclusionProof(position: bigint, size?: number): Promise<Record<string, unknown>> {
    const current = await this.treeSize();
    await this.checkSize('size', size, current);
    const n = size ?? current;
    try {
      const p = await this.tree((t) => t.inclusionProof(position, n));
      return { leafIndex: p.leafIndex, position: p.position.toString(), size: p.size, leafHash: p.leafHash, auditPath: p.auditPath };
    } catch (error) {
      if (error instanceof RangeError) throw ProblemException.notFound(`There is no event at position ${position} among the first ${n} events of the log.`);
      throw error;
    }
  }

  async consistencyProof(from: number, to?: number): Promise<{ fromSize: number; toSize: number; proof: readonly string[] }> {
    const current = await this.treeSize();
    await this.checkSize('to', to, current);
    const n = to ?? current;
    if (from > n) throw ProblemException.validationFailed(`from ${from} is beyond to ${n}.`, [{ path: 'from', message: `from must be at most ${n}` }]);
    return this.tree((t) => t.consistencyProof(from, n));
  }

  publicKey(): Record<string, unknown> {
    const s = this.signer;
    return { algorithm: 'Ed25519', origin: s.name, keyName: s.name, keyId: s.keyId.toString('hex'), verifierKey: verifierKey(s), jwk: publicJwk(s) };
  }

  async verify(options: { position?: bigint; digest?: string; size?: number; rootHash?: string } = {}): Promise<Record<string, unknown>> {
    const at = await this.withinLog(options.position);
    const r: VerifyResult = await this.scans.run(() => verifyLog(this.store, { position: at, digest: options.digest, size: options.size, rootHash: options.rootHash }));
    return {
      ok: r.ok,
      checkedEvents: r.checkedEvents,
      position: r.position.toString(),
      ...(r.firstInvalidPosition !== undefined ? { firstInvalidPosition: r.firstInvalidPosition.toString() } : {}),
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      digest: r.digest,
      ...(r.digestMatches !== undefined ? { digestMatches: r.digestMatches } : {}),
      size: r.size,
      rootHash: r.rootHash,
      ...(r.rootMatches !== undefined ? { rootMatches: r.rootMatches } : {}),
    };
  }

  /**
   * `/v1/audit/replay`: validates the parameters against the registry, rebuilds the read model in memory
   * from the events recorded up to `asOf` (see `replayAsOf` for what that means), and answers with its
   * live query function.
   */
  async replay(raw: Readonly<Record<string, unknown>>, actor: Actor): Promise<{ position: bigint; asOf: string; value: unknown }> {
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value !== 'string') {
        throw ProblemException.validationFailed(`Send ${name} once.`, [{ path: name, message: `${name} must be given once` }]);
      }
      params[name] = value;
    }
    const known = REPLAYABLE_READ_MODELS.map((r) => r.name);
    const name = params.projection;
    const entry = name === undefined ? undefined : findReplayable(name);
    if (entry === undefined) {
      const message = `projection must be one of ${known.join(', ')}`;
      throw new ProblemException('validation-failed', name === undefined ? `projection is required: ${message}.` : `There is no replayable read model "${name}": ${message}.`, {
        errors: [{ path: 'projection', message }],
        extensions: { knownProjections: known },
      });
    }
    const asOf = params.asOf === undefined ? undefined : parseLedgerTime(params.asOf);
    if (asOf === undefined) {
      throw ProblemException.validationFailed('asOf must be a record time: an ISO 8601 date (2026-03-31) or UTC date-time (2026-03-31T12:00:00Z).', [
        { path: 'asOf', message: 'asOf must be an ISO 8601 date or UTC date-time' },
      ]);
    }
    const own: Record<string, string> = {};
    const unknown: string[] = [];
    for (const [k, v] of Object.entries(params)) {
      if (REPLAY_PARAMS.has(k)) continue;
      if (entry.params.includes(k)) own[k] = v;
      else unknown.push(k);
    }
    if (unknown.length) {
      const allowed = ['projection', 'asOf', ...entry.params].join(', ');
      throw ProblemException.validationFailed(`${entry.name} replay does not take ${unknown.join(', ')}; it takes ${allowed}.`, unknown.map((k) => ({ path: k, message: `property ${k} should not exist` })));
    }
    assertMayReplay(entry, actor);
    const parsed = entry.parse(own);
    const at = new Date(asOf);
    const r = await this.scans.run(() => replayAsOf(this.store, entry.projections, at, (db) => entry.query(db, parsed, at)));
    return { position: r.position, asOf, value: r.value };
  }

  /**
   * The log after `from` up to the head at the start, one wire envelope per line. A pull stream: the next
   * page is read only when the socket has taken the previous lines, so memory stays flat on any log size.
   */
  exportStream(from: bigint, head: bigint): Readable {
    const store = this.store;
    const counter = { lines: 0 };
    async function* lines(): AsyncGenerator<string> {
      yield `${JSON.stringify(exportHeader(from, head))}\n`;
      let count = 0;
      for await (const e of store.readAll({ fromPosition: from, toPosition: head })) {
        counter.lines += 1;
        count += 1;
        yield `${JSON.stringify(toWire(e))}\n`;
      }
      yield `${JSON.stringify(exportTrailer(count, await exportTreeHead(store, head), head))}\n`;
    }
    const stream = Readable.from(lines(), { objectMode: false, highWaterMark: 64 * 1024 });
    this.exports.set(stream, counter);
    stream.once('close', () => this.exports.delete(stream));
    return stream;
  }

  /** Open exports: lines read from the log so far, and whether the stream is backed up (for tests and debugging). */
  exportStats(): { lines: number; bufferedBytes: number; backedUp: boolean }[] {
    return [...this.exports].map(([s, c]) => ({ lines: c.lines, bufferedBytes: s.readableLength, backedUp: s.readableFlowing === false && s.readableLength >= s.readableHighWaterMark }));
  }

  /** An export still running at shutdown is cut off rather than holding the server open. */
  beforeApplicationShutdown(): void {
    for (const s of this.exports.keys()) s.destroy();
    this.exports.clear();
  }

  private async withinLog(position?: bigint): Promise<bigint | undefined> {
    if (position === undefined) return undefined;
    const head = await this.store.headPosition();
    if (position > head) {
      throw ProblemException.validationFailed(`position ${position} is beyond the head of the log (${head}).`, [{ path: 'position', message: `position must be at most ${head}` }]);
    }
    return position;
  }
}
