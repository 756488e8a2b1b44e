import type { DomainEventShape, EventMetadata, Recorded, RecordedEvent } from '#events/envelope.js';

/** EventStoreDB's expected-revision vocabulary, shared by both adapters. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface NewEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

/** One stream's part of an `appendAll`. */
export interface StreamWrite {
  readonly streamId: string;
  readonly events: readonly NewEvent[];
  readonly expected: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event appended (the stream's new head). */
  readonly nextRevision: bigint;
  /** Log position of the last event appended. */
  readonly position: bigint;
  readonly events: readonly RecordedEvent[];
}

export interface ReadFilter {
  readonly eventTypes?: readonly string[];
  /** Stream-id prefixes, e.g. `partner-` or a whole category `deal`. */
  readonly streamPrefixes?: readonly string[];
}

export interface ReadAllOptions {
  /** Exclusive: delivery starts after this position. 0n (the default) is the start of the log. */
  readonly fromPosition?: bigint;
  /** Inclusive upper bound. */
  readonly toPosition?: bigint;
  readonly filter?: ReadFilter;
  readonly limit?: number;
  /**
   * A hint: the filter keeps most of the log (a rebuild asks for every type a projection handles), so read in
   * position order and filter while reading. Without it, SQLite looks the types up in its type index, which is
   * what a rare type needs but costs a sort of every match per page when most events match. Same events either way.
   */
  readonly scan?: boolean;
}

export interface FindByCommandOptions {
  /** Look only in these streams. */
  readonly streams?: readonly string[];
}

/** A stream the store removed events from (see `EventStore.removals`). */
export interface StreamRemoval {
  readonly streamId: string;
  readonly kind: 'deleted' | 'tombstoned' | 'truncated' | 'retention';
  /** Where the store recorded it (its own, non-ledger position encoding). */
  readonly detail: string;
}

export interface ReadStreamOptions {
  /** Inclusive starting revision; forwards defaults to 0, backwards to the head. */
  readonly fromRevision?: bigint;
  readonly direction?: 'forwards' | 'backwards';
  readonly limit?: number;
}

/** A live, catch-up-then-follow stream of events in log order. `close()` ends the iteration. */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
  /**
   * Optional: the same events, in the pages the store read them in (filtered; none empty). A consumer takes either
   * these or the events one by one, never both. A consumer applying events in batches (the projection runner)
   * spares itself two async generators and a race per event: at 64 connections that machinery cost the runner
   * about as much as applying the events.
   */
  pages?(): AsyncIterable<readonly RecordedEvent[]>;
}

/** A tree head: the root of the tree over the first `size` events in position order. */
export interface TreeHead {
  readonly size: number;
  /** Position of the last event the head covers (0n for the empty tree). */
  readonly position: bigint;
  /** Hex SHA-256. */
  readonly rootHash: string;
}

export interface InclusionProof {
  readonly leafIndex: number;
  readonly position: bigint;
  readonly size: number;
  readonly leafHash: string;
  readonly auditPath: readonly string[];
}

export interface ConsistencyProof {
  readonly fromSize: number;
  readonly toSize: number;
  readonly proof: readonly string[];
}

/** Reads of the log's Merkle tree; every size is at most the current tree size (a RangeError otherwise). */
export interface MerkleLog {
  /** The head at `size` events (the whole log by default). */
  treeHead(size?: number): Promise<TreeHead>;
  /** The number of events up to `position` (inclusive): the tree size whose last leaf is at or before it. */
  sizeAt(position: bigint): Promise<number>;
  /** That the event at `position` is leaf `leafIndex` of the tree of `size` leaves. */
  inclusionProof(position: bigint, size: number): Promise<InclusionProof>;
  consistencyProof(fromSize: number, toSize: number): Promise<ConsistencyProof>;
}

export interface EventStore {
  readonly kind: 'sqlite' | 'esdb';
  append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  /**
   * Optional: appends to several streams in ONE commit, all or none, each write at its own expected revision; a
   * refusal of any one (`WrongExpectedVersionError`) writes nothing. A write that is a resend of events already
   * stored is answered as stored, as `append` answers it. The SQLite store has it; EventStoreDB's
   * client appends to one stream at a time, so a caller without it appends one write after the other and must
   * be correct across a crash in between (the command pipeline is: claim-then-decide).
   */
  appendAll?(writes: readonly StreamWrite[]): Promise<AppendResult[]>;
  /**
   * A stream's events; an empty array for a stream that does not exist. `E` names the union the stream holds
   * (the caller's knowledge of its own stream category): the adapter does not check it.
   */
  readStream<E extends DomainEventShape = DomainEventShape>(streamId: string, options?: ReadStreamOptions): Promise<Recorded<E>[]>;
  /** The log in position order, paged internally so memory does not grow with the log. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /**
   * The events at these positions (ascending, as the caller gives them), each read by its position: what a caller
   * that knows where its events are (an index kept by a read model) reads instead of scanning the log. Positions
   * are ones this store issued (a position it never issued may be refused, as `readAll` refuses it); one holding
   * no event of the ledger is skipped. Optional: without it, callers scan (`readAll`). SQLite: a point lookup a
   * position; EventStoreDB: a one-event read of `$all` a position, several in flight.
   */
  readAt?(positions: readonly bigint[]): AsyncIterable<RecordedEvent>;
  subscribe(fromPosition?: bigint, filter?: ReadFilter): Subscription;
  /** Position of the last event in the log (0n when empty). */
  headPosition(): Promise<bigint>;
  /**
   * The events a command appended, found from the log (idempotency across crashes), in log order.
   * With `streams`, only those streams are searched (and only their events answered): what a command that
   * names its streams needs, and the only form that is exact on EventStoreDB without a system projection.
   * Without it, EventStoreDB answers from `$by_correlation_id` and throws `QueryUnavailableError` when that
   * projection is not running or has not reached the log's head, rather than answering "nothing".
   */
  findByCommandId(commandId: string, options?: FindByCommandOptions): Promise<RecordedEvent[]>;
  /**
   * Writes an event exactly as it was recorded elsewhere (ids, record time, hashes), for `ledger import`.
   * Refused unless it continues its stream (revision and hash chain).
   */
  importRecorded(event: RecordedEvent): Promise<bigint>;
  /**
   * Streams whose events the store itself has removed or will remove (deleted, truncated, given a max age or
   * count). An append-only store (SQLite) has none and need not implement it; `verify` fails when there are
   * any, since a stream that vanished entirely leaves no gap in the hash chains.
   */
  removals?(): Promise<StreamRemoval[]>;
  /** Cheap reachability check for readiness probes. */
  ping(): Promise<void>;
  /**
   * v2 (DOMAIN.md, "Tamper evidence"): the log's RFC 9162 Merkle tree, when the adapter maintains one. Without
   * it, `merkleOf` (merkle-log.ts) answers the same by scanning the log, in O(n).
   */
  readonly merkle?: MerkleLog;
  close(): Promise<void>;
}

export class WrongExpectedVersionError extends Error {
  override readonly name = 'WrongExpectedVersionError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** The stream's actual head revision, or 'no_stream'. */
    readonly actual: bigint | 'no_stream',
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/** An event id that already names another event (not an idempotent repeat of the same append). */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  constructor(readonly eventId: string) {
    super(`event id ${eventId} is already used by another event`);
  }
}

export class StoreUnavailableError extends Error {
  override readonly name: string = 'StoreUnavailableError';
}

/** A position this store never issued (e.g. a SQLite-era `Last-Event-ID` presented to EventStoreDB): the caller's input is wrong. */
export class InvalidPositionError extends RangeError {
  override readonly name = 'InvalidPositionError';
  constructor(
    readonly position: bigint,
    reason: string,
  ) {
    super(`position ${position} was not issued by this event store: ${reason}`);
  }
}

/** The store refused the ledger's own credentials (a deployment error: the ledger user lacks an ACL). */
export class StoreAccessDeniedError extends Error {
  override readonly name = 'StoreAccessDeniedError';
}

/** The stream was deleted in the store (by an operator: the ledger never deletes). */
export class StreamDeletedError extends Error {
  override readonly name = 'StreamDeletedError';
  constructor(
    readonly streamId: string,
    options?: ErrorOptions,
  ) {
    super(`stream ${streamId} has been deleted from the event store`, options);
  }
}

/** One append is larger than the store accepts (EventStoreDB: `--max-append-size`, 1 MiB by default). */
export class AppendTooLargeError extends Error {
  override readonly name = 'AppendTooLargeError';
  constructor(
    readonly streamId: string | undefined,
    readonly maxBytes: number | undefined,
    options?: ErrorOptions,
  ) {
    super(`append${streamId ? ` to ${streamId}` : ''} is larger than the event store accepts${maxBytes ? ` (${maxBytes} bytes)` : ''}`, options);
  }
}

/** A query the store cannot answer reliably right now (e.g. a system projection it relies on is not running). */
export class QueryUnavailableError extends StoreUnavailableError {
  override readonly name = 'QueryUnavailableError';
}

export function matchesFilter(e: { type: string; streamId: string }, filter?: ReadFilter): boolean {
  if (!filter) return true;
  if (filter.eventTypes && filter.eventTypes.length > 0 && !filter.eventTypes.includes(e.type)) return false;
  if (filter.streamPrefixes && filter.streamPrefixes.length > 0 && !filter.streamPrefixes.some((p) => e.streamId.startsWith(p))) {
    return false;
  }
  return true;
}
