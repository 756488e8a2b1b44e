import {
  BACKWARDS,
  END,
  eventTypeFilter,
  EventStoreDBClient,
  FORWARDS,
  jsonEvent,
  START,
  StreamNotFoundError,
  ErrorType,
  type AllStreamSubscription,
  type JSONType,
  type Position,
  type ReadPosition,
  type Filter,
  type ReadRevision,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { DomainEventShape, Recorded, RecordedEvent } from '#events/envelope.js';
import { eventHash, GENESIS_HASH } from '../hashing.js';
import {
  matchesFilter,
  QueryUnavailableError,
  StoreUnavailableError,
  WrongExpectedVersionError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type FindByCommandOptions,
  type NewEvent,
  type ReadAllOptions,
  type ReadFilter,
  type ReadStreamOptions,
  type StreamRemoval,
  type Subscription,
} from '../port.js';
import {
  appendRevisionFor,
  assertEventIds,
  chainEvents,
  checkExpectedRevision,
  comparePositions,
  decodePosition,
  decodeRecorded,
  encodeMetadata,
  encodePosition,
  isEsdbWrongExpectedVersion,
  isSystemEvent,
  mapEsdbError,
  removalOf,
  resolveRepeat,
  serverFilter,
  toReadPosition,
  tryDecodeRecorded,
  type CheckpointReached,
  type ErrorContext,
} from './mapping.js';

/** `$all` events read per step when looking backwards for the last ledger event among ESDB's own. */
const HEAD_PAGE = 100;
/** Events per step when a stream is searched backwards for a command's events. */
const STREAM_PAGE = 500;
/** Events read back from the head to recognise a resent append (a few others may have appended since). */
const REPEAT_WINDOW = 16;
/** Point reads (`readAt`) in flight at once: each is one round trip. */
const POINT_READS = 16;
/** Each call's deadline unless the connection string's `defaultDeadline` says otherwise. */
export const DEFAULT_DEADLINE_MS = 10_000;
const BY_CORRELATION = '$by_correlation_id';

/** The part of `EventStoreDBClient` the adapter uses (structural, so tests can hand it a fault-injecting fake). */
export type EsdbClient = Pick<EventStoreDBClient, 'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'getProjectionStatus' | 'dispose'>;

export interface EsdbOptions {
  /**
   * Deadline of every call, in ms: an append (all its attempts), one read (for a long `$all` read: the wait for
   * each next message), a ping, a subscription's confirmation. The client gives reads and subscriptions no
   * deadline at all (`deadline: Infinity`), so a node that accepts connections and never answers would hang
   * requests and readiness: the adapter keeps its own timer and cancels the call when it fires.
   */
  readonly deadlineMs?: number;
  /**
   * A prefix of every stream id on the server, so that several ledgers (or test runs) share one cluster
   * without seeing each other: the ledger's ids, hashes and filters stay as they are, reads of the log see only
   * this namespace. Must not start with `$`. Set with `ledgerNamespace=` in the connection string.
   */
  readonly namespace?: string;
}

/**
 * The EventStoreDB adapter: the same port, the same meanings as the SQLite adapter.
 *
 * - The hash chain needs each stream's previous hash, so every append reads the stream's head first and
 *   appends at exactly that revision: a concurrent writer makes ESDB refuse it, and the adapter retries
 *   (re-checking the caller's expected revision against the new head). A single-event append is two round
 *   trips (head, append); a multi-event one reads its events back for their positions (three).
 * - Positions are ESDB's (commit, prepare) pairs packed into one bigint (`encodePosition`); one that does not
 *   decode is an `InvalidPositionError` (the caller's input), never sent to the server.
 * - Reads of the log and subscriptions filter on the server (stream prefix or event type, system events out)
 *   and skip what the ledger did not write.
 * - ESDB has no index by event id. A resend is recognised from the stream itself (around its head, and where
 *   an exact expected revision says it went); an id reused in a different stream is not detected.
 */
export class EsdbEventStore implements EventStore {
  readonly kind = 'esdb' as const;
  private closed = false;
  private readonly subscriptions = new Set<Subscription>();
  private readonly deadlineMs: number;
  private readonly ns: string;

  constructor(
    private readonly client: EsdbClient,
    options: EsdbOptions = {},
  ) {
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.ns = options.namespace ?? '';
    if (this.ns.startsWith('$') || /\s/.test(this.ns)) throw new RangeError(`namespace ${JSON.stringify(this.ns)} may not start with $ or hold spaces`);
    if (!Number.isSafeInteger(this.deadlineMs) || this.deadlineMs <= 0) throw new RangeError(`deadline ${this.deadlineMs} ms is not a positive integer`);
  }

  /**
   * Connects lazily: the first call reaches the server (see `ping`). Credentials and TLS come with the
   * connection string (`esdb://user:password@node1:2113,node2:2113?tls=true&tlsCAFile=/ca.crt`); its
   * `defaultDeadline` (ms) becomes the adapter's deadline for every call.
   */
  static connect(connectionString: string, options: EsdbOptions = {}): EsdbEventStore {
    const { clientString, namespace } = splitNamespace(connectionString);
    return new EsdbEventStore(EventStoreDBClient.connectionString(clientString), {
      deadlineMs: options.deadlineMs ?? deadlineFrom(connectionString),
      namespace: options.namespace ?? namespace,
    });
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError('append needs at least one event');
    assertEventIds(events);
    const context: ErrorContext = { streamId, expected };
    // Lost races are retried for as long as the deadline allows, not a fixed number of times: each loss means
    // another append succeeded (the log progresses), and `any` or `stream_exists` must not fail because the
    // stream is busy. An exact revision or `no_stream` fails on the next attempt's check if the head moved.
    const giveUpAt = Date.now() + this.deadlineMs;
    for (let attempt = 1; ; attempt++) {
      const tail = await this.readTail(streamId, REPEAT_WINDOW);
      const repeat = await this.findRepeat(streamId, events, expected, tail);
      if (repeat) return repeat;
      const head = tail[0];
      checkExpectedRevision(streamId, expected, head?.revision);
      const chained = chainEvents(streamId, events, head);
      let conflict: unknown;
      let position: Position | undefined;
      try {
        const result = await this.withDeadline(`append to ${streamId}`, () =>
          this.client.appendToStream(
            this.ns + streamId,
            chained.map((c) =>
              jsonEvent({ id: c.event.eventId, type: c.event.type, data: c.event.data as JSONType, metadata: encodeMetadata(c.event.metadata, c.prevHash, c.hash) }),
            ),
            { expectedRevision: appendRevisionFor(head?.revision), deadline: this.deadlineMs },
          ),
        );
        // With `throwOnAppendFailure=false` in the connection string a conflict is reported, not thrown (and
        // its `nextExpectedRevision` is unreliable in client 6.2's batch append, so it is not used).
        if (!result.success) conflict = result;
        else position = result.position;
      } catch (err) {
        if (!isEsdbWrongExpectedVersion(err)) throw mapEsdbError(err, context);
        conflict = err;
      }
      if (conflict !== undefined) {
        if (Date.now() < giveUpAt) {
          await backoff(attempt);
          continue;
        }
        if (isEsdbWrongExpectedVersion(conflict)) throw mapEsdbError(conflict, context);
        const [now] = await this.readTail(streamId, 1);
        throw new WrongExpectedVersionError(streamId, expected, now ? now.revision : 'no_stream');
      }
      // One event: the append's own position is the event's (commit = prepare since v20), no read back.
      if (chained.length === 1 && position) {
        const c = chained[0]!;
        const recorded: RecordedEvent = {
          eventId: c.event.eventId,
          type: c.event.type,
          streamId,
          revision: c.revision,
          position: encodePosition(position),
          // As the server will hand it back: JSON, so a read equals what the append answered.
          data: JSON.parse(JSON.stringify(c.event.data)) as unknown,
          metadata: JSON.parse(JSON.stringify(c.event.metadata)) as RecordedEvent['metadata'],
          prevHash: c.prevHash,
          hash: c.hash,
        };
        return { nextRevision: c.revision, position: recorded.position, events: [recorded] };
      }
      // The append result carries one position for the whole append; each event's comes from reading back.
      // Reading back also covers ESDB answering an identical concurrent resend as a no-op.
      return this.readBack(streamId, events, chained[0]!.revision);
    }
  }

  readStream<E extends DomainEventShape = DomainEventShape>(streamId: string, options: ReadStreamOptions = {}): Promise<Recorded<E>[]> {
    // The one place a stream's events are typed: the caller names the union its stream holds.
    return this.readStreamEvents(streamId, options) as Promise<Recorded<E>[]>;
  }

  private async readStreamEvents(streamId: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = options.limit;
    if (limit === 0) return [];
    const maxCount = limit === undefined || limit < 0 ? undefined : limit;
    if (options.direction === 'backwards') {
      let from: ReadRevision = options.fromRevision ?? END;
      if (from !== END) {
        // ESDB reads a backwards range below the given revision; past the head that range can be empty,
        // where the port means "from the head".
        const [head] = await this.readTail(streamId, 1);
        if (!head) return [];
        if ((from as bigint) >= head.revision) from = END;
      }
      return this.readStreamRaw(streamId, { direction: BACKWARDS, fromRevision: from, maxCount });
    }
    return this.readStreamRaw(streamId, { direction: FORWARDS, fromRevision: options.fromRevision ?? START, maxCount });
  }

  /**
   * A filtered catch-up subscription used as a bounded read: client 6.2's `readAll` cannot filter on the
   * server (it always sends "no filter"), so a read of the log is a subscription from `fromPosition` with the
   * server-side filter, ended at `toPosition` (the head when the read started, by default). The end is known
   * from the server: a matching event past it, a filter checkpoint at or past it, or the subscription's
   * "caught up" (servers since 23.10). Pull-based like the client's streams: a slow consumer slows the read.
   */
  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertOpen();
    let remaining = options.limit ?? Infinity;
    if (remaining <= 0) return;
    const from = options.fromPosition ?? 0n;
    const start = toReadPosition(from);
    const upTo = options.toPosition ?? (await this.headPosition());
    if (upTo <= from) return;
    const to = decodePosition(upTo);
    let after: Position | undefined = from === 0n ? undefined : decodePosition(from);
    for await (const resolved of this.boundedRead(start, to, (progress) => serverFilter(this.inNamespace(options.filter), progress))) {
      const ev = resolved.event!;
      if (after && comparePositions(ev.position!, after) <= 0) continue;
      after = ev.position;
      const e = this.decode(resolved);
      if (e && matchesFilter(e, options.filter)) {
        yield e;
        if (--remaining <= 0) return;
      }
    }
  }

  /**
   * One read of `$all` a position (forwards from it, one event: ESDB starts a forward read at the position
   * itself), POINT_READS in flight at a time, answered in the order given. A round trip an event rather than a
   * scan of the log: what a statement reads through its index (a partner's few hundred events, not the log's
   * millions). An event that is not the one at the position (none there) or not this namespace's is skipped.
   */
  async *readAt(positions: readonly bigint[]): AsyncGenerator<RecordedEvent> {
    this.assertOpen();
    const one = async (position: bigint): Promise<RecordedEvent | undefined> => {
      const at = decodePosition(position);
      const [resolved] = await this.collect(`the event at position ${position}`, this.client.readAll({ fromPosition: at, direction: FORWARDS, maxCount: 1 }), {});
      const ev = resolved?.event;
      if (!ev?.position || comparePositions(ev.position, at) !== 0) return undefined;
      return this.decode(resolved!);
    };
    for (let i = 0; i < positions.length; i += POINT_READS) {
      const page = await Promise.all(positions.slice(i, i + POINT_READS).map(one));
      for (const e of page) if (e !== undefined) yield e;
    }
  }

  subscribe(fromPosition = 0n, filter?: ReadFilter): Subscription {
    this.assertOpen();
    // Validates (synchronously, so a bad Last-Event-ID is refused before any response is started).
    const start = toReadPosition(fromPosition);
    const source: AllStreamSubscription = this.client.subscribeToAll({ fromPosition: start, filter: serverFilter(this.inNamespace(filter)) });
    const decode = (r: ResolvedEvent): RecordedEvent | undefined => this.decode(r);
    // The client emits gRPC failures as 'error' events without ending the readable, so an iteration not yet
    // started would never see them (and, with no listener, one would crash the process): destroying the
    // readable with the error hands it to whoever iterates, now or later.
    source.on('error', (err: Error) => source.destroy(err));
    // A node that accepts the call and never confirms it would leave the subscriber waiting for ever.
    const confirm = setTimeout(() => {
      source.destroy(new StoreUnavailableError(`EventStoreDB did not confirm a subscription within ${this.deadlineMs} ms`));
    }, this.deadlineMs);
    confirm.unref?.();
    source.once('confirmation', () => clearTimeout(confirm));
    let closing = false;
    const release = async (): Promise<void> => {
      clearTimeout(confirm);
      // Destroying the readable ends an iteration waiting on it; unsubscribe() cancels the gRPC call.
      source.destroy();
      await source.unsubscribe().catch(() => undefined);
    };
    const subscriptions = this.subscriptions;
    async function* run(): AsyncGenerator<RecordedEvent> {
      let after = fromPosition === 0n ? undefined : decodePosition(fromPosition);
      try {
        for await (const resolved of source) {
          if (closing) return;
          const ev = resolved.event;
          if (!ev?.position) continue;
          // The subscription starts after `fromPosition` already; this guards the exclusivity regardless.
          if (after && comparePositions(ev.position, after) <= 0) continue;
          after = ev.position;
          const e = decode(resolved);
          if (e && matchesFilter(e, filter)) yield e;
        }
      } catch (err) {
        // Destroying the readable on close() surfaces as a premature close: that is the requested end.
        if (closing) return;
        throw mapEsdbError(err);
      } finally {
        closing = true;
        subscriptions.delete(subscription);
        await release();
      }
    }
    const iterator = run();
    const subscription: Subscription = {
      [Symbol.asyncIterator]: () => iterator,
      async close() {
        subscriptions.delete(subscription);
        if (!closing) {
          closing = true;
          await release();
        }
        await iterator.return(undefined);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    let cursor: ReadPosition = END;
    let before: Position | undefined;
    for (;;) {
      const page = await this.collect('the head of $all', this.client.readAll({ fromPosition: cursor, direction: BACKWARDS, maxCount: HEAD_PAGE }), {});
      for (const resolved of page) {
        const ev = resolved.event;
        if (!ev?.position || (before && comparePositions(ev.position, before) >= 0)) continue;
        before = ev.position;
        if (this.decode(resolved)) return encodePosition(ev.position);
      }
      if (page.length < HEAD_PAGE || !before) return 0n;
      cursor = before;
    }
  }

  /**
   * With `streams` (what the command pipeline passes): those streams, searched backwards to their start, so
   * exact whatever ESDB runs, at the cost of reading them. Without: `$bc-<commandId>`, kept by ESDB's
   * `$by_correlation_id` system projection from the `$correlationId` every event carries. A projection trails
   * the log and may not run at all, so this first checks that it is running and has reached the log's head
   * as of the call (waiting up to the deadline for it): otherwise `QueryUnavailableError`, never a silent
   * "nothing". Reading `$bc-` streams and projection status needs `$ops` or `$admins` rights.
   */
  async findByCommandId(commandId: string, options: FindByCommandOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const byId = new Map<string, RecordedEvent>();
    if (options.streams) {
      for (const streamId of new Set(options.streams)) {
        let from: ReadRevision = END;
        for (;;) {
          const page = await this.readStreamRaw(streamId, { direction: BACKWARDS, fromRevision: from, maxCount: STREAM_PAGE });
          for (const e of page) if (e.metadata.commandId === commandId) byId.set(e.eventId, e);
          const last = page[page.length - 1];
          if (page.length < STREAM_PAGE || !last || last.revision === 0n) break;
          from = last.revision - 1n;
        }
      }
    } else {
      await this.awaitByCorrelation();
      const links = await this.readResolved(`$bc-${commandId}`, { direction: FORWARDS, fromRevision: START, resolveLinkTos: true });
      for (const resolved of links) {
        // A link whose event was deleted or scavenged resolves to nothing.
        const e = this.decode(resolved);
        if (e && e.metadata.commandId === commandId) byId.set(e.eventId, e);
      }
    }
    return [...byId.values()].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  }

  /**
   * Idempotent: an event already stored at its revision with the same id and hash (so the same content) is
   * answered with its position, so an import interrupted by a timeout that hid a write can simply be run again.
   */
  async importRecorded(e: RecordedEvent): Promise<bigint> {
    this.assertOpen();
    assertEventIds([e]);
    const [head] = await this.readTail(e.streamId, 1);
    if (head && e.revision <= head.revision) return this.alreadyImported(e, head);
    const next = head ? head.revision + 1n : 0n;
    if (e.revision !== next) throw new WrongExpectedVersionError(e.streamId, e.revision - 1n, head ? head.revision : 'no_stream');
    if (e.prevHash !== (head ? head.hash : GENESIS_HASH)) throw new Error(`import: event ${e.eventId} does not continue the hash chain of ${e.streamId}`);
    if (eventHash(e.prevHash, e) !== e.hash) throw new Error(`import: event ${e.eventId} does not match its hash`);
    const context: ErrorContext = { streamId: e.streamId, expected: e.revision - 1n };
    let appended: boolean;
    try {
      const result = await this.withDeadline(`import into ${e.streamId}`, () =>
        this.client.appendToStream(
          this.ns + e.streamId,
          jsonEvent({ id: e.eventId, type: e.type, data: e.data as JSONType, metadata: encodeMetadata(e.metadata, e.prevHash, e.hash) }),
          { expectedRevision: appendRevisionFor(head?.revision), deadline: this.deadlineMs },
        ),
      );
      appended = result.success;
    } catch (err) {
      if (!isEsdbWrongExpectedVersion(err)) throw mapEsdbError(err, context);
      appended = false;
    }
    const [stored] = await this.readStreamRaw(e.streamId, { direction: FORWARDS, fromRevision: e.revision, maxCount: 1, requiresLeader: true });
    if (!appended && stored) return this.alreadyImported(e, stored);
    if (!appended) {
      const [now] = await this.readTail(e.streamId, 1);
      throw new WrongExpectedVersionError(e.streamId, e.revision - 1n, now ? now.revision : 'no_stream');
    }
    if (!stored || stored.eventId !== e.eventId) throw new Error(`import: event ${e.eventId} is not at revision ${e.revision} of ${e.streamId} after its append`);
    return stored.position;
  }

  /**
   * Tombstones, soft deletes, truncations and retention settings of ledger streams, anywhere in `$all` (they
   * survive a scavenge, which removes the events themselves): a deletion after a position still took events
   * from before it.
   */
  async removals(): Promise<StreamRemoval[]> {
    this.assertOpen();
    const [last] = await this.collect('the head of $all', this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 }), {});
    const end = last?.event?.position;
    if (!end) return [];
    const found = new Map<string, StreamRemoval>();
    const markers = (progress: CheckpointReached): Filter => eventTypeFilter({ regex: '^\\$(?:metadata|streamDeleted)$', checkpointReached: progress });
    for await (const resolved of this.boundedRead(START, end, markers)) {
      const r = resolved.event ? removalOf(resolved.event) : undefined;
      if (r && !r.streamId.startsWith('$') && r.streamId.startsWith(this.ns)) {
        const streamId = r.streamId.slice(this.ns.length);
        found.set(`${streamId}:${r.kind}`, { ...r, streamId });
      }
    }
    return [...found.values()];
  }

  async ping(): Promise<void> {
    this.assertOpen();
    try {
      await this.collect('a ping', this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 }), {});
    } catch (err) {
      const mapped = mapEsdbError(err);
      throw mapped instanceof StoreUnavailableError ? mapped : new StoreUnavailableError(`EventStoreDB not ready: ${String((err as Error)?.message ?? err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close().catch(() => undefined)));
    await this.client.dispose();
  }

  // -------------------------------------------------------------------------------------------------------

  /** The stream's last `count` events, newest first; [] for a missing stream. Read on the leader: appends depend on it. */
  private readTail(streamId: string, count: number): Promise<RecordedEvent[]> {
    return this.readStreamRaw(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: count, requiresLeader: true });
  }

  /** Answers an import of an event at or below the stream's head: success only if it is the very same event. */
  private async alreadyImported(e: RecordedEvent, head: RecordedEvent): Promise<bigint> {
    const stored =
      head.revision === e.revision
        ? head
        : (await this.readStreamRaw(e.streamId, { direction: FORWARDS, fromRevision: e.revision, maxCount: 1, requiresLeader: true }))[0];
    if (stored && stored.revision === e.revision && stored.eventId === e.eventId && stored.hash === e.hash && stored.prevHash === e.prevHash) return stored.position;
    throw new WrongExpectedVersionError(e.streamId, e.revision - 1n, head.revision);
  }

  /**
   * The events of `$all` after `from` up to `to` that a server-side filter lets through: a catch-up
   * subscription, ended once the server has said it searched up to `to` (a filter checkpoint at or past it, or
   * "caught up") and every event it sent before saying so is taken. Read with `read()` rather than the async
   * iterator: the end is announced after the events before it are in the stream's buffer, so "buffer empty
   * and end announced" is exact, where an iterator may hold an event in flight.
   */
  private async *boundedRead(from: ReadPosition, to: Position, filterFor: (progress: CheckpointReached) => Filter): AsyncGenerator<ResolvedEvent & { event: { position: Position } }> {
    let announced = false;
    let failure: unknown;
    let wake: () => void = () => undefined;
    let alive: () => void = () => undefined;
    const source: AllStreamSubscription = this.client.subscribeToAll({
      fromPosition: from,
      filter: filterFor((_subscription, checkpoint) => {
        alive();
        if (comparePositions(checkpoint, to) >= 0) {
          announced = true;
          wake();
        }
      }),
    });
    source.on('caughtUp', () => {
      announced = true;
      wake();
    });
    // The client emits gRPC failures as 'error' without ending the stream.
    source.on('error', (err: unknown) => {
      failure ??= err;
      wake();
    });
    source.on('readable', () => wake());
    source.on('close', () => wake());
    try {
      for (;;) {
        const next = source.read() as ResolvedEvent | null;
        if (next !== null) {
          const p = next.event?.position;
          if (!p) continue;
          if (comparePositions(p, to) > 0) return;
          yield next as ResolvedEvent & { event: { position: Position } };
          if (comparePositions(p, to) === 0) return;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (announced || source.destroyed) return;
        await this.waitWithDeadline('a read of $all', new Promise<void>((resolve) => (wake = resolve)), (reset) => (alive = reset));
      }
    } catch (err) {
      throw mapEsdbError(err);
    } finally {
      source.destroy();
      await source.unsubscribe().catch(() => undefined);
    }
  }

  /** Waits until `$by_correlation_id` runs and has processed the log up to its head, or throws. */
  private async awaitByCorrelation(): Promise<void> {
    const head = await this.headPosition();
    const target = head === 0n ? undefined : decodePosition(head);
    const giveUpAt = Date.now() + this.deadlineMs;
    for (;;) {
      let status: { status: string; position: string };
      try {
        status = await this.withDeadline(`the status of ${BY_CORRELATION}`, () => this.client.getProjectionStatus(BY_CORRELATION, { deadline: this.deadlineMs }));
      } catch (err) {
        const mapped = mapEsdbError(err);
        if (mapped instanceof StoreUnavailableError && !(mapped instanceof QueryUnavailableError)) throw mapped;
        throw new QueryUnavailableError(`findByCommandId without streams needs the ${BY_CORRELATION} projection, whose status could not be read: ${String((err as Error)?.message ?? err)}`, { cause: err });
      }
      if (!/running/i.test(status.status)) {
        throw new QueryUnavailableError(`findByCommandId without streams needs the ${BY_CORRELATION} projection running (it is ${status.status}): name the command's streams, or start the standard projections`);
      }
      const at = /C:(\d+)\/P:(\d+)/.exec(status.position);
      if (!target || (at && comparePositions({ commit: BigInt(at[1]!), prepare: BigInt(at[2]!) }, target) >= 0)) return;
      if (Date.now() >= giveUpAt) {
        throw new QueryUnavailableError(`${BY_CORRELATION} trails the log (at ${status.position}, the head is C:${target.commit}/P:${target.prepare}): its answer would be incomplete`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async findRepeat(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision, tail: readonly RecordedEvent[]): Promise<AppendResult | undefined> {
    const ids = new Set(events.map((e) => e.eventId));
    const found = new Map<string, RecordedEvent>();
    const add = (es: readonly RecordedEvent[]): void => {
      for (const e of es) if (ids.has(e.eventId)) found.set(e.eventId, e);
    };
    add(tail);
    const oldestInTail = tail.length > 0 ? tail[tail.length - 1]!.revision : undefined;
    const head = tail[0]?.revision;
    // ESDB's own idempotency rule: a resend with the same expected revision finds its events right after it.
    const resendAt = expected === 'no_stream' ? 0n : typeof expected === 'bigint' ? expected + 1n : undefined;
    if (found.size === 0 && resendAt !== undefined && head !== undefined && oldestInTail !== undefined && resendAt < oldestInTail) {
      add(await this.readStreamRaw(streamId, { direction: FORWARDS, fromRevision: resendAt, maxCount: events.length, requiresLeader: true }));
    }
    if (found.size > 0 && found.size < events.length) {
      // Part of an earlier append may lie below the window: read the whole range it would occupy.
      const [id, hit] = [...found].find(([, e]) => e.streamId === streamId) ?? [];
      if (id !== undefined && hit) {
        const start = hit.revision - BigInt(events.findIndex((e) => e.eventId === id));
        if (start >= 0n) add(await this.readStreamRaw(streamId, { direction: FORWARDS, fromRevision: start, maxCount: events.length, requiresLeader: true }));
      }
    }
    return resolveRepeat(streamId, events, found);
  }

  private async readBack(streamId: string, events: readonly NewEvent[], firstRevision: bigint): Promise<AppendResult> {
    const stored = await this.readStreamRaw(streamId, { direction: FORWARDS, fromRevision: firstRevision, maxCount: events.length, requiresLeader: true });
    const result = resolveRepeat(streamId, events, new Map(stored.map((e) => [e.eventId, e])));
    if (!result || result.events[0]!.revision !== firstRevision) {
      throw new Error(`append to ${streamId}: its events are not at revision ${firstRevision} after the append`);
    }
    return result;
  }

  /** A stream's ledger events. Within one of the ledger's streams every event must decode: a foreign one is refused loudly. */
  private async readStreamRaw(
    streamId: string,
    options: { direction: typeof FORWARDS | typeof BACKWARDS; fromRevision: ReadRevision; maxCount?: number; requiresLeader?: boolean },
  ): Promise<RecordedEvent[]> {
    const resolved = await this.readResolved(this.ns + streamId, options);
    return resolved.filter((r) => r.event && !isSystemEvent(r.event)).map((r) => this.outOfNamespace(decodeRecorded(r))!);
  }

  private async readResolved(
    streamId: string,
    options: { direction: typeof FORWARDS | typeof BACKWARDS; fromRevision: ReadRevision; maxCount?: number; requiresLeader?: boolean; resolveLinkTos?: boolean },
  ): Promise<ResolvedEvent[]> {
    try {
      return await this.collect(`a read of ${streamId}`, this.client.readStream(streamId, options), { streamId });
    } catch (err) {
      if (isStreamNotFound(err)) return [];
      throw err;
    }
  }

  /** Drains a read within the deadline; errors other than "stream not found" come out in the port's vocabulary. */
  private async collect<T>(what: string, read: AsyncIterable<T>, context: ErrorContext): Promise<T[]> {
    const out: T[] = [];
    const drain = (async () => {
      for await (const x of read) out.push(x);
      return out;
    })();
    try {
      return await this.withDeadline(what, () => drain, () => cancel(read));
    } catch (err) {
      if (isStreamNotFound(err)) throw err;
      throw mapEsdbError(err, context);
    }
  }

  /** Runs `call` and gives up after the deadline (cancelling what `onTimeout` cancels) with StoreUnavailableError. */
  private withDeadline<T>(what: string, call: () => Promise<T>, onTimeout?: () => void): Promise<T> {
    const running = call();
    running.catch(() => undefined);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        onTimeout?.();
        reject(new StoreUnavailableError(`EventStoreDB did not answer ${what} within ${this.deadlineMs} ms`));
      }, this.deadlineMs);
      running.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  /** Like `withDeadline` for one step of a long read; `onProgress` receives a function that restarts the timer. */
  private waitWithDeadline<T>(what: string, step: Promise<T>, onProgress: (reset: () => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => reject(new StoreUnavailableError(`EventStoreDB did not answer ${what} within ${this.deadlineMs} ms`)), this.deadlineMs);
      };
      arm();
      onProgress(arm);
      step.then(
        (v) => {
          clearTimeout(timer);
          onProgress(() => undefined);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          onProgress(() => undefined);
          reject(e);
        },
      );
    });
  }

  /** A ledger event of this namespace, with the id the ledger knows; undefined for anything else. */
  private decode(resolved: ResolvedEvent): RecordedEvent | undefined {
    const e = tryDecodeRecorded(resolved);
    return e && this.outOfNamespace(e);
  }

  private outOfNamespace(e: RecordedEvent): RecordedEvent | undefined {
    if (this.ns === '') return e;
    if (!e.streamId.startsWith(this.ns)) return undefined;
    return { ...e, streamId: e.streamId.slice(this.ns.length) };
  }

  /** The filter as the server must see it: within the namespace (by stream prefix) when there is one. */
  private inNamespace(filter: ReadFilter | undefined): ReadFilter | undefined {
    if (this.ns === '') return filter;
    const prefixes = filter?.streamPrefixes?.length ? filter.streamPrefixes.map((p) => this.ns + p) : [this.ns];
    return { streamPrefixes: prefixes };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof StreamNotFoundError || (err as { type?: unknown })?.type === ErrorType.STREAM_NOT_FOUND;
}

/** Stops a client read: its gRPC call is cancelled and its stream ends. */
function cancel(read: unknown): void {
  const r = read as { cancel?: () => Promise<void>; destroy?: (e?: Error) => void };
  void r.cancel?.().catch(() => undefined);
  r.destroy?.();
}

/** Takes the adapter's own `ledgerNamespace` option out of a connection string (the client would warn about it). */
export function splitNamespace(connectionString: string): { clientString: string; namespace?: string } {
  const m = /([?&])ledgerNamespace=([^&]*)(&?)/i.exec(connectionString);
  if (!m) return { clientString: connectionString };
  const clientString = (connectionString.slice(0, m.index) + (m[3] ? m[1] : '') + connectionString.slice(m.index + m[0].length)).replace(/\?$/, '');
  return { clientString, namespace: decodeURIComponent(m[2]!) };
}

/** `defaultDeadline` (ms) of a connection string, which the client itself applies only to some calls. */
export function deadlineFrom(connectionString: string): number | undefined {
  const m = /[?&]defaultDeadline=(\d+)/i.exec(connectionString);
  return m ? Number(m[1]) : undefined;
}

/** Exponential with jitter, capped: writers that collided do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(200, 2 ** Math.min(attempt, 8));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
}
