import {
  BACKWARDS,
  END,
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
  type ReadRevision,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { DomainEventShape, Recorded, RecordedEvent } from '#events/envelope.js';
import { eventHash, GENESIS_HASH } from '../hashing.js';
import {
  matchesFilter,
  StoreUnavailableError,
  WrongExpectedVersionError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadFilter,
  type ReadStreamOptions,
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
  resolveRepeat,
  serverFilter,
  toReadPosition,
  type ErrorContext,
} from './mapping.js';

/** Events per `$all` read: bounds memory whatever the size of the log. */
const PAGE = 500;
/** `$all` events read per step when looking backwards for the last ledger event among ESDB's own. */
const HEAD_PAGE = 100;
/** Events read back from the head to recognise a resent append (a few others may have appended since). */
const REPEAT_WINDOW = 16;
/** Attempts when another writer appends between reading the head and appending. */
const MAX_APPEND_ATTEMPTS = 10;
const PING_DEADLINE_MS = 5000;

/**
 * The EventStoreDB adapter: the same port, the same meanings as the SQLite adapter.
 *
 * - The hash chain needs each stream's previous hash, so every append reads the stream's head first and
 *   appends at exactly that revision: a concurrent writer makes ESDB refuse it, and the adapter retries
 *   (re-checking the caller's expected revision against the new head).
 * - Positions are ESDB's (commit, prepare) pairs packed into one bigint (`encodePosition`).
 * - ESDB has no index by event id. A resend is recognised from the stream itself (around its head, and
 *   where an exact expected revision says it went) and, for ids used in other streams, from the
 *   `$bc-<commandId>` stream, which is eventually consistent: an id reused in another stream within
 *   moments of its first use can go unnoticed.
 */
export class EsdbEventStore implements EventStore {
  readonly kind = 'esdb' as const;
  private closed = false;
  private readonly subscriptions = new Set<Subscription>();

  constructor(private readonly client: EventStoreDBClient) {}

  /** Connects lazily: the first call reaches the server (see `ping`). */
  static connect(connectionString: string): EsdbEventStore {
    return new EsdbEventStore(EventStoreDBClient.connectionString(connectionString));
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError('append needs at least one event');
    assertEventIds(events);
    const context: ErrorContext = { streamId, expected };
    for (let attempt = 1; ; attempt++) {
      const tail = await this.readTail(streamId, REPEAT_WINDOW);
      const repeat = await this.findRepeat(streamId, events, expected, tail, attempt === 1);
      if (repeat) return repeat;
      const head = tail[0];
      checkExpectedRevision(streamId, expected, head?.revision);
      const chained = chainEvents(streamId, events, head);
      let conflict: unknown;
      try {
        const result = await this.client.appendToStream(
          streamId,
          chained.map((c) =>
            jsonEvent({ id: c.event.eventId, type: c.event.type, data: c.event.data as JSONType, metadata: encodeMetadata(c.event.metadata, c.prevHash, c.hash) }),
          ),
          { expectedRevision: appendRevisionFor(head?.revision) },
        );
        // With `throwOnAppendFailure=false` in the connection string a conflict is reported, not thrown (and
        // its `nextExpectedRevision` is unreliable in client 6.2's batch append, so it is not used).
        if (!result.success) conflict = result;
      } catch (err) {
        if (!isEsdbWrongExpectedVersion(err)) throw mapEsdbError(err, context);
        conflict = err;
      }
      if (conflict !== undefined) {
        if (attempt < MAX_APPEND_ATTEMPTS) {
          await backoff(attempt);
          continue;
        }
        if (isEsdbWrongExpectedVersion(conflict)) throw mapEsdbError(conflict, context);
        const [now] = await this.readTail(streamId, 1);
        throw new WrongExpectedVersionError(streamId, expected, now ? now.revision : 'no_stream');
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

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertOpen();
    let remaining = options.limit ?? Infinity;
    if (remaining <= 0) return;
    const from = options.fromPosition ?? 0n;
    const to = options.toPosition === undefined ? undefined : decodePosition(options.toPosition);
    // Raw ESDB position of the last event looked at: reads restart there (inclusively) and skip it.
    let after: Position | undefined = from === 0n ? undefined : decodePosition(from);
    let cursor: ReadPosition = toReadPosition(from);
    while (!this.closed) {
      const page = await this.collect(
        this.client.readAll({ fromPosition: cursor, direction: FORWARDS, maxCount: PAGE }),
        {},
      );
      for (const resolved of page) {
        const raw = resolved.event?.position;
        if (!raw || (after && comparePositions(raw, after) <= 0)) continue;
        if (to && comparePositions(raw, to) > 0) return;
        after = raw;
        if (isSystemEvent(resolved.event!)) continue;
        const e = decodeRecorded(resolved);
        if (!matchesFilter(e, options.filter)) continue;
        yield e;
        if (--remaining <= 0) return;
      }
      if (page.length < PAGE || !after) return;
      cursor = after;
    }
  }

  subscribe(fromPosition = 0n, filter?: ReadFilter): Subscription {
    this.assertOpen();
    const source: AllStreamSubscription = this.client.subscribeToAll({
      fromPosition: toReadPosition(fromPosition),
      filter: serverFilter(filter),
    });
    // The client emits gRPC failures as 'error' events without ending the readable, so an iteration not yet
    // started would never see them (and, with no listener, one would crash the process): destroying the
    // readable with the error hands it to whoever iterates, now or later.
    source.on('error', (err: Error) => source.destroy(err));
    let closing = false;
    const release = async (): Promise<void> => {
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
          if (!ev || isSystemEvent(ev)) continue;
          // The subscription starts after `fromPosition` already; this guards the exclusivity regardless.
          if (after && comparePositions(ev.position, after) <= 0) continue;
          after = ev.position;
          const e = decodeRecorded(resolved);
          if (matchesFilter(e, filter)) yield e;
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
      const page = await this.collect(this.client.readAll({ fromPosition: cursor, direction: BACKWARDS, maxCount: HEAD_PAGE }), {});
      for (const resolved of page) {
        const ev = resolved.event;
        if (!ev || (before && comparePositions(ev.position, before) >= 0)) continue;
        before = ev.position;
        if (!isSystemEvent(ev)) return encodePosition(ev.position);
      }
      if (page.length < HEAD_PAGE || !before) return 0n;
      cursor = before;
    }
  }

  /**
   * Reads `$bc-<commandId>`, which ESDB's `$by_correlation_id` system projection (it must be running:
   * `--run-projections=All --start-standard-projections`) fills from the `$correlationId` the adapter
   * writes into every event's metadata. A projection trails the log, so this is eventually consistent:
   * a command's events can be missing here for a moment after their append, which is why the command
   * pipeline also checks the stream it reads. Reading a `$` stream needs the rights of an admin or ops user
   * on a secure server.
   */
  async findByCommandId(commandId: string): Promise<RecordedEvent[]> {
    this.assertOpen();
    const links = await this.readResolved(`$bc-${commandId}`, { direction: FORWARDS, fromRevision: START, resolveLinkTos: true });
    const byId = new Map<string, RecordedEvent>();
    for (const resolved of links) {
      const ev = resolved.event;
      // A link whose event was deleted or scavenged resolves to nothing.
      if (!ev || isSystemEvent(ev)) continue;
      const e = decodeRecorded(resolved);
      if (e.metadata.commandId === commandId) byId.set(e.eventId, e);
    }
    return [...byId.values()].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  }

  async importRecorded(e: RecordedEvent): Promise<bigint> {
    this.assertOpen();
    assertEventIds([e]);
    const [head] = await this.readTail(e.streamId, 1);
    const next = head ? head.revision + 1n : 0n;
    if (e.revision !== next) throw new WrongExpectedVersionError(e.streamId, e.revision - 1n, head ? head.revision : 'no_stream');
    if (e.prevHash !== (head ? head.hash : GENESIS_HASH)) throw new Error(`import: event ${e.eventId} does not continue the hash chain of ${e.streamId}`);
    if (eventHash(e.prevHash, e) !== e.hash) throw new Error(`import: event ${e.eventId} does not match its hash`);
    const context: ErrorContext = { streamId: e.streamId, expected: e.revision - 1n };
    let appended: boolean;
    try {
      const result = await this.client.appendToStream(
        e.streamId,
        jsonEvent({ id: e.eventId, type: e.type, data: e.data as JSONType, metadata: encodeMetadata(e.metadata, e.prevHash, e.hash) }),
        { expectedRevision: appendRevisionFor(head?.revision) },
      );
      appended = result.success;
    } catch (err) {
      throw mapEsdbError(err, context);
    }
    if (!appended) {
      const [now] = await this.readTail(e.streamId, 1);
      throw new WrongExpectedVersionError(e.streamId, e.revision - 1n, now ? now.revision : 'no_stream');
    }
    const [stored] = await this.readStreamRaw(e.streamId, { direction: FORWARDS, fromRevision: e.revision, maxCount: 1, requiresLeader: true });
    if (!stored || stored.eventId !== e.eventId) throw new Error(`import: event ${e.eventId} is not at revision ${e.revision} of ${e.streamId} after its append`);
    return stored.position;
  }

  async ping(): Promise<void> {
    this.assertOpen();
    try {
      for await (const _ of this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1, deadline: PING_DEADLINE_MS })) break;
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

  private async findRepeat(
    streamId: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
    tail: readonly RecordedEvent[],
    lookElsewhere: boolean,
  ): Promise<AppendResult | undefined> {
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
    if (found.size === 0 && lookElsewhere) {
      for (const commandId of new Set(events.map((e) => e.metadata.commandId))) add(await this.findByCommandId(commandId));
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

  private async readStreamRaw(
    streamId: string,
    options: { direction: typeof FORWARDS | typeof BACKWARDS; fromRevision: ReadRevision; maxCount?: number; requiresLeader?: boolean },
  ): Promise<RecordedEvent[]> {
    const resolved = await this.readResolved(streamId, options);
    return resolved.filter((r) => r.event && !isSystemEvent(r.event)).map(decodeRecorded);
  }

  private async readResolved(
    streamId: string,
    options: { direction: typeof FORWARDS | typeof BACKWARDS; fromRevision: ReadRevision; maxCount?: number; requiresLeader?: boolean; resolveLinkTos?: boolean },
  ): Promise<ResolvedEvent[]> {
    try {
      return await this.collect(this.client.readStream(streamId, options), { streamId });
    } catch (err) {
      if (err instanceof StreamNotFoundError || (err as { type?: unknown })?.type === ErrorType.STREAM_NOT_FOUND) return [];
      throw err;
    }
  }

  /** Drains a read; errors other than "stream not found" come out in the port's vocabulary. */
  private async collect<T>(read: AsyncIterable<T>, context: ErrorContext): Promise<T[]> {
    const out: T[] = [];
    try {
      for await (const x of read) out.push(x);
    } catch (err) {
      if (err instanceof StreamNotFoundError || (err as { type?: unknown })?.type === ErrorType.STREAM_NOT_FOUND) throw err;
      throw mapEsdbError(err, context);
    }
    return out;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

/** Jittered, so writers that collided do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
}
