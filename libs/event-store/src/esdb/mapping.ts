/**
 * The pure half of the EventStoreDB adapter: how our port's positions, revisions, errors and envelopes map
 * onto `@eventstore/db-client` and back. Nothing here opens a connection, so all of it is unit-tested.
 */
import {
  ANY,
  DeadlineExceededError,
  ErrorType,
  eventTypeFilter,
  excludeSystemEvents,
  NO_STREAM,
  NotLeaderError,
  START,
  STREAM_EXISTS,
  streamNameFilter,
  TimeoutError,
  UnavailableError,
  CancelledError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  type AppendExpectedRevision,
  type CurrentRevision,
  type Filter,
  type Position,
  type ReadPosition,
} from '@eventstore/db-client';
import type { EventMetadata, RecordedEvent } from '#events/envelope.js';
import { eventHash, GENESIS_HASH } from '../hashing.js';
import {
  AppendTooLargeError,
  DuplicateEventIdError,
  InvalidPositionError,
  StoreAccessDeniedError,
  StoreUnavailableError,
  StreamDeletedError,
  WrongExpectedVersionError,
  type AppendResult,
  type ExpectedRevision,
  type NewEvent,
  type ReadFilter,
  type StreamRemoval,
} from '../port.js';

// ---------------------------------------------------------------------------------------------------------
// Positions

const OFFSET_BITS = 24n;
const OFFSET_LIMIT = 1n << OFFSET_BITS;
const OFFSET_MASK = OFFSET_LIMIT - 1n;
/** ESDB log positions are signed 64-bit on the server; the gRPC API sends 2^64 − 1 for "no position". */
const MAX_LOG_POSITION = (1n << 63n) - 1n;
/** Encoded positions must fit SQLite's signed 64-bit INTEGER (read-model checkpoints): a 512 GiB log. */
export const MAX_ENCODABLE_COMMIT = (1n << (63n - OFFSET_BITS)) - 1n;

/**
 * One bigint per event that sorts like ESDB's (commit, prepare) pair. The server never reports a prepare
 * after its commit (its `Position` refuses commit < prepare): since v20 every event has commit = prepare,
 * and events of a legacy transaction share the commit record's position, their prepares before it. So:
 * `commit × 2^24 − (commit − prepare)`. Servers since v20 get exactly `commit × 2^24` (the encoding
 * checkpoints written by earlier versions of the adapter hold, so nothing stored changes); a legacy event
 * sorts below its commit by its distance from it, which an append bounds below 2^24 (the maximum append size
 * is 16 MiB at most). 24 bits of offset keep the value inside a signed 64-bit integer for logs up to 512 GiB
 * (2^39 bytes); beyond that positions cannot be encoded and the adapter says so rather than wrapping.
 */
export function encodePosition(p: Position): bigint {
  if (p.commit < 0n || p.prepare < 0n || p.commit > MAX_LOG_POSITION || p.prepare > MAX_LOG_POSITION) {
    throw new RangeError(`EventStoreDB returned no usable position (C:${p.commit}/P:${p.prepare})`);
  }
  if (p.commit > MAX_ENCODABLE_COMMIT) {
    throw new RangeError(`EventStoreDB commit position ${p.commit} is beyond the 512 GiB that ledger positions can address`);
  }
  const offset = p.commit - p.prepare;
  if (offset < 0n || offset >= OFFSET_LIMIT) {
    throw new RangeError(`cannot encode EventStoreDB position C:${p.commit}/P:${p.prepare}: commit − prepare = ${offset} is outside [0, 2^24)`);
  }
  return (p.commit << OFFSET_BITS) - offset;
}

/**
 * The inverse of `encodePosition`. A value no server position encodes to (a SQLite rowid such as 12345, a
 * negative number, anything past the 512 GiB ceiling) is an `InvalidPositionError`: the caller's input, not
 * the store, is wrong, and sending it on would make the server refuse the read (commit < prepare).
 */
export function decodePosition(position: bigint): Position {
  if (position < 0n) throw new InvalidPositionError(position, 'negative');
  const commit = (position + OFFSET_MASK) >> OFFSET_BITS;
  if (commit > MAX_ENCODABLE_COMMIT) throw new InvalidPositionError(position, 'beyond the 512 GiB ledger positions address');
  const prepare = commit - ((commit << OFFSET_BITS) - position);
  if (prepare < 0n) throw new InvalidPositionError(position, 'it encodes no EventStoreDB position (its prepare part would be negative)');
  return { commit, prepare };
}

/** Where an exclusive read "after `position`" starts; the caller still skips the event at `position` itself. */
export function toReadPosition(position: bigint): ReadPosition {
  return position === 0n ? START : decodePosition(position);
}

/** $all order: commit position first, then prepare position. */
export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Revisions

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      if (expected < 0n) throw new RangeError(`expected revision ${expected} is negative`);
      return expected;
  }
}

export function fromEsdbExpectedRevision(expected: AppendExpectedRevision): ExpectedRevision {
  switch (expected) {
    case ANY:
      return 'any';
    case NO_STREAM:
      return 'no_stream';
    case STREAM_EXISTS:
      return 'stream_exists';
    default:
      // Older servers report "no stream" as −1 rather than as a distinct case.
      return expected < 0n ? 'no_stream' : expected;
  }
}

export function fromEsdbCurrentRevision(current: CurrentRevision | undefined): bigint | 'no_stream' {
  return typeof current === 'bigint' && current >= 0n ? current : 'no_stream';
}

/** The same check the SQLite adapter makes, against the head this adapter read itself. */
export function checkExpectedRevision(streamId: string, expected: ExpectedRevision, head: bigint | undefined): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && head === undefined) ||
    (expected === 'stream_exists' && head !== undefined) ||
    (typeof expected === 'bigint' && head === expected);
  if (!ok) throw new WrongExpectedVersionError(streamId, expected, head === undefined ? 'no_stream' : head);
}

/** What the adapter sends: always the exact head it hashed against, so any concurrent append makes it fail. */
export function appendRevisionFor(head: bigint | undefined): AppendExpectedRevision {
  return head === undefined ? NO_STREAM : head;
}

// ---------------------------------------------------------------------------------------------------------
// Errors

interface CommandErrorLike {
  readonly type?: unknown;
}

function errorType(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as CommandErrorLike).type : undefined;
}

export function isEsdbWrongExpectedVersion(err: unknown): err is EsdbWrongExpectedVersionError {
  // Also by its `type` tag: a second copy of the client package would break `instanceof`.
  return err instanceof EsdbWrongExpectedVersionError || errorType(err) === ErrorType.WRONG_EXPECTED_VERSION;
}

const UNAVAILABLE_TYPES: ReadonlySet<unknown> = new Set([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER,
  ErrorType.CANCELLED,
]);

export function isEsdbUnavailable(err: unknown): boolean {
  if (
    err instanceof UnavailableError ||
    err instanceof DeadlineExceededError ||
    err instanceof TimeoutError ||
    err instanceof NotLeaderError ||
    err instanceof CancelledError
  ) {
    return true;
  }
  if (UNAVAILABLE_TYPES.has(errorType(err))) return true;
  // Cluster discovery gives up with a plain Error.
  return err instanceof Error && /^Failed to discover after \d+ attempts/.test(err.message);
}

export interface ErrorContext {
  readonly streamId?: string;
  /** What the caller asked for: the adapter sends exact revisions, which would hide 'any' or 'stream_exists'. */
  readonly expected?: ExpectedRevision;
}

/**
 * The client's errors in the port's vocabulary. A commit timeout maps to "unavailable" although the append
 * may have been written: the caller's retry is safe because a resend of the same event ids is idempotent.
 */
export function mapEsdbError(err: unknown, context: ErrorContext = {}): unknown {
  if (
    err instanceof WrongExpectedVersionError ||
    err instanceof StoreUnavailableError ||
    err instanceof DuplicateEventIdError ||
    err instanceof InvalidPositionError ||
    err instanceof StoreAccessDeniedError ||
    err instanceof StreamDeletedError ||
    err instanceof AppendTooLargeError
  ) {
    return err;
  }
  const type = errorType(err);
  const message = err instanceof Error && err.message ? err.message : String(type ?? err);
  // By `type` tag rather than `instanceof`, for the same reason as isEsdbWrongExpectedVersion.
  if (type === ErrorType.ACCESS_DENIED) {
    return new StoreAccessDeniedError(`EventStoreDB denied the ledger's credentials access${context.streamId ? ` to ${context.streamId}` : ''}: ${message}`, { cause: err });
  }
  if (type === ErrorType.STREAM_DELETED) {
    const named = (err as { streamName?: unknown }).streamName;
    return new StreamDeletedError(typeof named === 'string' && named !== '' ? named : (context.streamId ?? '?'), { cause: err });
  }
  if (type === ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED) {
    const max = (err as { maxAppendSize?: unknown }).maxAppendSize;
    return new AppendTooLargeError(context.streamId, typeof max === 'number' ? max : undefined, { cause: err });
  }
  if (type === ErrorType.UNKNOWN) {
    // gRPC UNKNOWN: the server failed in a way it did not classify (an exception on the node, a proxy reset).
    return new StoreUnavailableError(`EventStoreDB failed: ${message}`, { cause: err });
  }
  if (isEsdbWrongExpectedVersion(err)) {
    const streamId = context.streamId ?? err.streamName;
    const expected = context.expected ?? fromEsdbExpectedRevision(err.expectedVersion);
    return new WrongExpectedVersionError(streamId, expected, fromEsdbCurrentRevision(err.actualVersion));
  }
  if (isEsdbUnavailable(err)) {
    return new StoreUnavailableError(`EventStoreDB unavailable: ${err instanceof Error && err.message ? err.message : 'unreachable'}`, { cause: err });
  }
  return err;
}

// ---------------------------------------------------------------------------------------------------------
// Envelopes

/**
 * Our metadata as stored in ESDB. `$correlationId` is the command id so that the `$by_correlation_id`
 * system projection keeps a `$bc-<commandId>` stream (how `findByCommandId` finds a command's events);
 * `$causationId` follows ESDB's convention for the same chain.
 */
export type StoredMetadata = EventMetadata & {
  readonly prevHash: string;
  readonly hash: string;
  readonly $correlationId: string;
  readonly $causationId: string;
};

export function encodeMetadata(metadata: EventMetadata, prevHash: string, hash: string): StoredMetadata {
  return { ...metadata, prevHash, hash, $correlationId: metadata.commandId, $causationId: metadata.causationId };
}

/** The members `encodeMetadata` adds, which are not part of the envelope's metadata. */
const ADDED_MEMBERS: ReadonlySet<string> = new Set(['prevHash', 'hash']);

export function decodeMetadata(stored: unknown, eventId: string): { metadata: EventMetadata; prevHash: string; hash: string } {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored) || stored instanceof Uint8Array) {
    throw new Error(`event ${eventId} has no JSON metadata: not written by the ledger`);
  }
  const { prevHash, hash } = stored as { prevHash?: unknown; hash?: unknown };
  if (typeof prevHash !== 'string' || typeof hash !== 'string') {
    throw new Error(`event ${eventId} carries no hash chain in its metadata: not written by the ledger`);
  }
  const metadata = Object.fromEntries(
    Object.entries(stored).filter(([k]) => !ADDED_MEMBERS.has(k) && !k.startsWith('$')),
  ) as unknown as EventMetadata;
  return { metadata, prevHash, hash };
}

/** The shape of the client's recorded events that this adapter reads (structural, so tests can build them). */
export interface EsdbRecordedEventLike {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: unknown;
  readonly metadata?: unknown;
  readonly position?: Position;
}

export interface EsdbResolvedEventLike {
  /** The event, or the event a link points to when links are resolved. */
  readonly event?: EsdbRecordedEventLike;
  readonly link?: EsdbRecordedEventLike;
}

/** ESDB's own events (`$`-prefixed streams, link events `$>`, `$metadata`, statistics) are never ledger events. */
export function isSystemEvent(e: { readonly streamId: string; readonly type: string }): boolean {
  return e.streamId.startsWith('$') || e.type.startsWith('$');
}

export function decodeRecorded(resolved: EsdbResolvedEventLike): RecordedEvent {
  const e = resolved.event;
  if (!e) throw new Error(`link ${resolved.link?.id ?? '?'} points to an event that no longer exists`);
  if (isSystemEvent(e)) throw new Error(`event ${e.id} in ${e.streamId} is an EventStoreDB system event`);
  if (!e.isJson) throw new Error(`event ${e.id} in ${e.streamId} is not JSON: not written by the ledger`);
  if (!e.position) {
    throw new Error(`event ${e.id} in ${e.streamId} came without a log position (EventStoreDB older than 22.6?)`);
  }
  const { metadata, prevHash, hash } = decodeMetadata(e.metadata, e.id);
  return {
    eventId: e.id,
    type: e.type,
    streamId: e.streamId,
    revision: e.revision,
    position: encodePosition(e.position),
    data: e.data,
    metadata,
    prevHash,
    hash,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Appends

/** The form ESDB returns event ids in; any other spelling would not read back equal, and ids are hashed. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function assertEventIds(events: readonly { readonly eventId: string }[]): void {
  const seen = new Set<string>();
  for (const { eventId } of events) {
    if (!CANONICAL_UUID.test(eventId)) {
      throw new TypeError(`event id ${JSON.stringify(eventId)} is not a lower-case UUID, which EventStoreDB requires`);
    }
    if (seen.has(eventId)) throw new DuplicateEventIdError(eventId);
    seen.add(eventId);
  }
}

export interface ChainedEvent {
  readonly event: NewEvent;
  readonly revision: bigint;
  readonly prevHash: string;
  readonly hash: string;
}

/** Revisions and hashes for events appended after `head` (undefined: a new stream), as the SQLite adapter computes them. */
export function chainEvents(
  streamId: string,
  events: readonly NewEvent[],
  head: { readonly revision: bigint; readonly hash: string } | undefined,
): ChainedEvent[] {
  let revision = head ? head.revision : -1n;
  let prevHash = head ? head.hash : GENESIS_HASH;
  return events.map((event) => {
    revision += 1n;
    const hash = eventHash(prevHash, { ...event, streamId, revision });
    const chained = { event, revision, prevHash, hash };
    prevHash = hash;
    return chained;
  });
}

/**
 * Whether an append repeats one already stored. `found` maps event ids to where they are stored, from
 * whatever the adapter could see. The same ids at consecutive revisions of the same stream are a repeat
 * and answer what the first append answered; an id stored anywhere else is a different event.
 */
export function resolveRepeat(
  streamId: string,
  events: readonly { readonly eventId: string }[],
  found: ReadonlyMap<string, RecordedEvent>,
): AppendResult | undefined {
  const hits = events.map((e) => found.get(e.eventId));
  const firstHit = hits.findIndex((h) => h !== undefined);
  if (firstHit < 0) return undefined;
  const first = hits[0];
  const same =
    first !== undefined &&
    hits.every((h, i) => h !== undefined && h.streamId === streamId && h.revision === first.revision + BigInt(i));
  if (!same) throw new DuplicateEventIdError(events[firstHit]!.eventId);
  const recorded = hits as RecordedEvent[];
  const last = recorded[recorded.length - 1]!;
  return { nextRevision: last.revision, position: last.position, events: recorded };
}

// ---------------------------------------------------------------------------------------------------------
// Subscriptions

/** Called by a filtered read as the server reports how far it has searched (see `serverFilter`). */
export type CheckpointReached = (subscription: unknown, position: Position) => void | Promise<void>;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The server-side filter of a read or subscription on `$all`: ESDB filters on one property, so this narrows
 * by stream prefix (what the ledger subscribes by) or else by exact event type, and otherwise drops ESDB's own
 * events; the adapter still applies `matchesFilter`, so this only has to let through a superset. Every form
 * excludes system events unless a prefix could name them.
 */
export function serverFilter(filter: ReadFilter | undefined, checkpointReached?: CheckpointReached): Filter {
  const usable = (xs: readonly string[] | undefined): xs is readonly string[] =>
    xs !== undefined && xs.length > 0 && xs.every((x) => x.length > 0 && !x.startsWith('$'));
  const progress = checkpointReached ? { checkpointReached } : {};
  if (usable(filter?.streamPrefixes)) return streamNameFilter({ prefixes: [...filter.streamPrefixes], ...progress });
  if (usable(filter?.eventTypes)) return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$`, ...progress });
  return excludeSystemEvents(progress);
}

/**
 * `decodeRecorded` for reads of the whole log: an event the ledger did not write (ESDB's own, a link whose
 * target is gone, foreign JSON without the hash chain) is skipped rather than failing the whole read. Skipping
 * cannot hide tampering in a ledger stream: the revisions of that stream then have a gap, which `verify` names.
 */
export function tryDecodeRecorded(resolved: EsdbResolvedEventLike): RecordedEvent | undefined {
  const e = resolved.event;
  if (!e || isSystemEvent(e) || !e.isJson || !e.position) return undefined;
  try {
    return decodeRecorded(resolved);
  } catch {
    return undefined;
  }
}

/**
 * How ESDB records that a stream lost events: a `$metadata` event of `$$<stream>` that truncates it (`$tb`,
 * which a soft delete sets) or gives it a retention (`$maxAge`, `$maxCount`), or a tombstone (`$streamDeleted`).
 * Both survive a scavenge, which removes the events themselves.
 */
export function removalOf(e: EsdbRecordedEventLike): StreamRemoval | undefined {
  const where = e.position ? `C:${e.position.commit}/P:${e.position.prepare}` : '?';
  if (e.type === '$streamDeleted' && !e.streamId.startsWith('$')) return { streamId: e.streamId, kind: 'tombstoned', detail: `tombstone at ${where}` };
  if (e.type !== '$metadata' || !e.streamId.startsWith('$$') || e.streamId.startsWith('$$$')) return undefined;
  const streamId = e.streamId.slice(2);
  let meta: unknown = e.data;
  if (meta instanceof Uint8Array) {
    try {
      meta = JSON.parse(Buffer.from(meta).toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }
  if (typeof meta !== 'object' || meta === null) return undefined;
  const m = meta as Record<string, unknown>;
  const tb = m.$tb;
  if (tb !== undefined && tb !== null) {
    // A soft delete truncates before "the end of all revisions" (long.MaxValue).
    const deleted = String(tb) === '9223372036854775807';
    return { streamId, kind: deleted ? 'deleted' : 'truncated', detail: `$tb=${String(tb)} at ${where}` };
  }
  if (m.$maxAge !== undefined || m.$maxCount !== undefined) {
    return { streamId, kind: 'retention', detail: `${m.$maxAge !== undefined ? `$maxAge=${String(m.$maxAge)}` : `$maxCount=${String(m.$maxCount)}`} at ${where}` };
  }
  return undefined;
}
