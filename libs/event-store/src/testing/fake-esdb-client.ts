import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  ANY,
  BACKWARDS,
  END,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  type AppendExpectedRevision,
  type Filter,
  type Position,
} from '@eventstore/db-client';
import type { EsdbClient } from '../esdb/esdb-event-store.js';

/** One record of the fake's log, in the client's shape. */
export interface FakeRecord {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position: Position;
  readonly created: Date;
}

type Method = 'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'getProjectionStatus';
/** What an injected fault does: throw this error, or (`'hang'`) never answer. */
type Fault = { error: unknown; after?: 'write' } | 'hang';

interface InputEvent {
  readonly id?: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: unknown;
  readonly contentType?: string;
}

/**
 * An in-memory EventStoreDB with the client's surface, for what needs a server: it answers as the server
 * does (positions with commit ≥ prepare, backwards reads, "stream not found", wrong expected version, filtered
 * subscriptions with checkpoints and "caught up", system events in `$all`, deletion and scavenging) and lets a
 * test inject faults into any call. Not a model of clustering: a fault stands for what a cluster does to a client.
 */
export class FakeEsdbClient {
  readonly log: FakeRecord[] = [];
  /** Every call, in order (how many round trips an operation costs). */
  readonly calls: Method[] = [];
  /** Legacy (pre-v20) positions: the events of one append share the commit position after their prepares. */
  legacyTransactions = false;
  byCorrelation: { status: string; position?: string } = { status: 'Running' };
  private nextPosition = 1000n;
  private readonly faults = new Map<Method, Fault[]>();
  private readonly live = new Set<(r: FakeRecord) => void>();
  private readonly deleted = new Set<string>();

  /** The next `times` calls of `method` fail with `error` (or hang); `after: 'write'` fails an append after it is written. */
  fail(method: Method, fault: Fault, times = 1): this {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(method, queue);
    return this;
  }

  asClient(): EsdbClient {
    return this as unknown as EsdbClient;
  }

  // --- client surface ------------------------------------------------------------------------------------

  async appendToStream(
    streamName: string,
    event: InputEvent | InputEvent[],
    options: { expectedRevision?: AppendExpectedRevision } = {},
  ): Promise<{ success: boolean; nextExpectedRevision: bigint; position?: Position }> {
    const fault = this.take('appendToStream');
    if (fault === 'hang') return new Promise(() => undefined);
    if (fault && fault.after !== 'write') throw fault.error;
    const events = Array.isArray(event) ? event : [event];
    const expected = options.expectedRevision ?? ANY;
    const head = this.head(streamName);
    const ok =
      expected === ANY ||
      (expected === NO_STREAM && head === undefined) ||
      (expected === STREAM_EXISTS && head !== undefined) ||
      (typeof expected === 'bigint' && head?.revision === expected);
    if (!ok) {
      // ESDB's idempotency: the same ids right after the expected revision are answered as written.
      const at = expected === NO_STREAM ? 0n : typeof expected === 'bigint' ? expected + 1n : undefined;
      const same = at !== undefined && events.every((e, i) => this.streamEvents(streamName).find((r) => r.revision === at + BigInt(i))?.id === e.id);
      if (same) {
        const last = this.streamEvents(streamName).find((r) => r.revision === at! + BigInt(events.length - 1))!;
        return { success: true, nextExpectedRevision: last.revision, position: last.position };
      }
      throw new EsdbWrongExpectedVersionError(undefined, { streamName, expected, current: head ? head.revision : NO_STREAM });
    }
    const written = this.write(streamName, events);
    if (fault) throw fault.error;
    const last = written[written.length - 1]!;
    return { success: true, nextExpectedRevision: last.revision, position: last.position };
  }

  readStream(streamName: string, options: { direction?: string; fromRevision?: bigint | typeof START | typeof END; maxCount?: number; resolveLinkTos?: boolean } = {}): Readable {
    const fault = this.take('readStream');
    const stream = readable();
    if (fault === 'hang') return stream;
    if (fault) return failed(stream, fault.error);
    const events = streamName.startsWith('$bc-') ? this.byCorrelationId(streamName.slice(4)) : this.streamEvents(streamName);
    if (events.length === 0 || this.deleted.has(streamName)) return failed(stream, new StreamNotFoundError(undefined, streamName));
    const backwards = options.direction === BACKWARDS;
    const from = options.fromRevision ?? (backwards ? END : START);
    let out = backwards ? [...events].reverse() : events;
    if (typeof from === 'bigint') out = out.filter((r) => (backwards ? r.revision <= from : r.revision >= from));
    out = out.slice(0, options.maxCount ?? Infinity);
    return ended(stream, out.map((r) => this.resolved(r, options.resolveLinkTos)));
  }

  readAll(options: { direction?: string; fromPosition?: Position | typeof START | typeof END; maxCount?: number } = {}): Readable {
    const fault = this.take('readAll');
    const stream = readable();
    if (fault === 'hang') return stream;
    if (fault) return failed(stream, fault.error);
    const backwards = options.direction === BACKWARDS;
    const from = options.fromPosition ?? (backwards ? END : START);
    let out = backwards ? [...this.log].reverse() : [...this.log];
    if (typeof from === 'object') out = out.filter((r) => (backwards ? compare(r.position, from) <= 0 : compare(r.position, from) >= 0));
    return ended(stream, out.slice(0, options.maxCount ?? Infinity).map((r) => ({ event: r })));
  }

  subscribeToAll(options: { fromPosition?: Position | typeof START | typeof END; filter?: Filter } = {}): Readable & { unsubscribe(): Promise<void> } {
    const fault = this.take('subscribeToAll');
    const stream = readable() as unknown as Readable & { unsubscribe(): Promise<void> };
    let stop = (): void => undefined;
    stream.unsubscribe = async () => stop();
    if (fault === 'hang') return stream;
    if (fault) {
      // The client emits 'error' without ending the readable.
      setImmediate(() => stream.emit('error', (fault as { error: unknown }).error));
      return stream;
    }
    const filter = options.filter;
    const from = options.fromPosition ?? START;
    const matches = (r: FakeRecord): boolean => {
      if (!filter) return true;
      const subject = filter.filterOn === 'streamName' ? r.streamId : r.type;
      if ('prefixes' in filter && filter.prefixes) return filter.prefixes.some((p) => subject.startsWith(p));
      if ('regex' in filter && filter.regex) return new RegExp(filter.regex).test(subject);
      return true;
    };
    const window = 32 * (filter?.checkpointInterval ?? 1);
    setImmediate(async () => {
      if (stream.destroyed) return;
      stream.emit('confirmation');
      const history = from === END ? [] : this.log.filter((r) => from === START || compare(r.position, from) > 0);
      let scanned = 0;
      for (const r of history) {
        if (stream.destroyed) return;
        if (matches(r)) stream.push({ event: r });
        if (filter?.checkpointReached && ++scanned % window === 0) await filter.checkpointReached(stream as never, r.position);
      }
      const last = history[history.length - 1];
      if (filter?.checkpointReached && last) await filter.checkpointReached(stream as never, last.position);
      if (stream.destroyed) return;
      stream.emit('caughtUp');
      const onAppend = (r: FakeRecord): void => {
        if (!stream.destroyed && matches(r)) stream.push({ event: r });
      };
      this.live.add(onAppend);
      stop = () => this.live.delete(onAppend);
      stream.once('close', stop);
    });
    return stream;
  }

  async getProjectionStatus(name: string): Promise<{ status: string; position: string }> {
    const fault = this.take('getProjectionStatus');
    if (fault === 'hang') return new Promise(() => undefined);
    if (fault) throw fault.error;
    if (name !== '$by_correlation_id') throw new Error(`no projection ${name}`);
    const last = this.log[this.log.length - 1]?.position;
    return { status: this.byCorrelation.status, position: this.byCorrelation.position ?? (last ? `C:${last.commit}/P:${last.prepare}` : 'C:0/P:0') };
  }

  /** Connections come and go; the fake server stays (several adapters may share it, as on a real server). */
  async dispose(): Promise<void> {}

  // --- what an operator or another program does to the server ----------------------------------------------

  /** An event the ledger did not write (another program, a test), in any shape. */
  writeForeign(streamId: string, type: string, data: unknown, metadata?: unknown, isJson = true): FakeRecord {
    return this.write(streamId, [{ id: randomUUID(), type, data, metadata, contentType: isJson ? 'application/json' : 'application/octet-stream' }])[0]!;
  }

  /** A soft delete: `$tb` = the end in `$$<stream>`; the events stay in `$all` until a scavenge. */
  deleteStream(streamId: string): void {
    this.write(`$$${streamId}`, [{ id: randomUUID(), type: '$metadata', data: { $tb: '9223372036854775807' } }]);
    this.deleted.add(streamId);
  }

  /** Removes the events of deleted streams, as a scavenge does; the deletion markers stay. */
  scavenge(): void {
    for (let i = this.log.length - 1; i >= 0; i--) if (this.deleted.has(this.log[i]!.streamId)) this.log.splice(i, 1);
  }

  // -------------------------------------------------------------------------------------------------------

  private take(method: Method): Fault | undefined {
    this.calls.push(method);
    return this.faults.get(method)?.shift();
  }

  private head(streamId: string): FakeRecord | undefined {
    if (this.deleted.has(streamId)) return undefined;
    const events = this.streamEvents(streamId);
    return events[events.length - 1];
  }

  private streamEvents(streamId: string): FakeRecord[] {
    return this.log.filter((r) => r.streamId === streamId);
  }

  private write(streamId: string, events: readonly InputEvent[]): FakeRecord[] {
    let revision = this.head(streamId)?.revision ?? -1n;
    const prepares = events.map(() => (this.nextPosition += 137n));
    const commit = this.legacyTransactions ? (this.nextPosition += 61n) : undefined;
    const written = events.map((e, i) => {
      const json = e.contentType === undefined || e.contentType === 'application/json';
      const record: FakeRecord = {
        streamId,
        id: e.id ?? randomUUID(),
        revision: (revision += 1n),
        type: e.type,
        isJson: json,
        // What the server hands back: JSON goes through a parse, so no object is shared with the writer.
        data: json ? (JSON.parse(JSON.stringify(e.data ?? {})) as unknown) : e.data,
        metadata: e.metadata === undefined ? {} : (JSON.parse(JSON.stringify(e.metadata)) as unknown),
        position: { commit: commit ?? prepares[i]!, prepare: prepares[i]! },
        created: new Date(),
      };
      this.log.push(record);
      return record;
    });
    for (const r of written) for (const l of this.live) l(r);
    return written;
  }

  /** What `$by_correlation_id` would have linked so far (the links resolved: the fake never scavenges them). */
  private byCorrelationId(correlationId: string): FakeRecord[] {
    if (!/running/i.test(this.byCorrelation.status)) return [];
    return this.log
      .filter((r) => (r.metadata as { $correlationId?: unknown } | undefined)?.$correlationId === correlationId)
      .map((r, i) => ({ ...r, revision: BigInt(i) }));
  }

  private resolved(r: FakeRecord, _resolveLinkTos?: boolean): { event: FakeRecord } {
    return { event: r };
  }
}

function compare(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  return a.prepare === b.prepare ? 0 : a.prepare < b.prepare ? -1 : 1;
}

function readable(): Readable & { cancel(): Promise<void> } {
  const r = new Readable({ objectMode: true, read() {} }) as Readable & { cancel(): Promise<void> };
  r.cancel = async () => {
    r.destroy();
  };
  return r;
}

function ended<T extends Readable>(stream: T, items: readonly unknown[]): T {
  setImmediate(() => {
    for (const x of items) stream.push(x);
    stream.push(null);
  });
  return stream;
}

function failed<T extends Readable>(stream: T, error: unknown): T {
  setImmediate(() => stream.destroy(error as Error));
  return stream;
}
