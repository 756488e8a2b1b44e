import type { EventMetadata, RecordedEvent } from '#events/envelope.js';

/** EventStoreDB's expected-revision vocabulary, shared by both adapters. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface NewEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
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

export interface ReadStreamOptions {
  /** Inclusive starting revision; forwards defaults to 0, backwards to the head. */
  readonly fromRevision?: bigint;
  readonly direction?: 'forwards' | 'backwards';
  readonly limit?: number;
}

/** A live, catch-up-then-follow stream of events in log order. `close()` ends the iteration. */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
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
  /** A stream's events; an empty array for a stream that does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** The log in position order, paged internally so memory does not grow with the log. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  subscribe(fromPosition?: bigint, filter?: ReadFilter): Subscription;
  /** Position of the last event in the log (0n when empty). */
  headPosition(): Promise<bigint>;
  /** The events a command appended, found from the log (idempotency across crashes). */
  findByCommandId(commandId: string): Promise<RecordedEvent[]>;
  /**
   * Writes an event exactly as it was recorded elsewhere (ids, record time, hashes), for `ledger import`.
   * Refused unless it continues its stream (revision and hash chain).
   */
  importRecorded(event: RecordedEvent): Promise<bigint>;
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
  override readonly name = 'StoreUnavailableError';
}

export function matchesFilter(e: { type: string; streamId: string }, filter?: ReadFilter): boolean {
  if (!filter) return true;
  if (filter.eventTypes && filter.eventTypes.length > 0 && !filter.eventTypes.includes(e.type)) return false;
  if (filter.streamPrefixes && filter.streamPrefixes.length > 0 && !filter.streamPrefixes.some((p) => e.streamId.startsWith(p))) {
    return false;
  }
  return true;
}
