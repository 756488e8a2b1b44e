import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { DomainEventShape, EventMetadata, Recorded, RecordedEvent } from '#events/envelope.js';
import { eventHash, GENESIS_HASH } from '../hashing.js';
import { StoredMerkleLog } from '../merkle-log.js';
import { Notifier } from '../notifier.js';
import {
  DuplicateEventIdError,
  WrongExpectedVersionError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type FindByCommandOptions,
  type NewEvent,
  type ReadAllOptions,
  type ReadFilter,
  type ReadStreamOptions,
  type MerkleLog,
  type StreamWrite,
  type Subscription,
} from '../port.js';
import { MERKLE_SCHEMA, migrateLeafTable, readLastLeaf, SqliteMerkleTree, treeLayout, type LeafSource } from './merkle-tables.js';
import { pollingSubscription } from '../subscription.js';
import { RecentMap } from '#libs/kernel/recent-map.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id    TEXT    NOT NULL UNIQUE,
  stream_id   TEXT    NOT NULL,
  revision    INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL,
  command_id  TEXT,
  prev_hash   TEXT    NOT NULL,
  hash        TEXT    NOT NULL,
  UNIQUE (stream_id, revision)
);
CREATE INDEX IF NOT EXISTS events_by_command ON events (command_id) WHERE command_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;
`;

/** A row of the events table as SQLite answers it (safe integers on): also what the read-only file check reads. */
export interface Row {
  position: bigint;
  event_id: string;
  stream_id: string;
  revision: bigint;
  type: string;
  data: string;
  metadata: string;
  prev_hash: string;
  hash: string;
}

const COLUMNS = 'position, event_id, stream_id, revision, type, data, metadata, prev_hash, hash';
const PAGE = 1000;

function toRecorded(r: Row): RecordedEvent {
  return {
    eventId: r.event_id,
    type: r.type,
    streamId: r.stream_id,
    revision: r.revision,
    position: r.position,
    data: JSON.parse(r.data) as unknown,
    metadata: JSON.parse(r.metadata) as EventMetadata,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export interface SqliteEventStoreOptions {
  /** How long a writer waits for another process's lock before failing. */
  readonly busyTimeoutMs?: number;
  /** Poll interval for subscriptions, to see commits made by other processes. */
  readonly pollMs?: number;
  /**
   * Most events one group commit writes; appends queued beyond it go into the next transaction, so one
   * burst cannot hold every caller behind a single huge commit. An append larger than this still commits whole.
   */
  readonly maxBatchEvents?: number;
  /** Called after each group commit (instrumentation); must not throw. */
  readonly onCommit?: (commit: GroupCommit) => void;
  /**
   * Where the one-time migration of a log written before the Merkle tree says what it does (stderr by
   * default): it adds the tree for every event already stored, before the store is used.
   */
  readonly log?: (message: string) => void;
  /**
   * Benchmarks only: do not maintain the Merkle tree on append (to measure what it costs). A store written so
   * has no tree for those events until it is opened again without this flag, which computes it.
   */
  readonly withoutTree?: boolean;
}

/** What opening the store did to the tree of a log written before it (absent when there was nothing to do). */
export interface TreeMigration {
  readonly leavesAdded: number;
  readonly seconds: number;
}

/** One transaction of the group commit, as instrumentation sees it. */
export interface GroupCommit {
  /** Appends that shared the transaction (succeeded or refused). */
  readonly appends: number;
  /** Of them, the ones refused (wrong expected revision, duplicate event id, any other error). */
  readonly failed: number;
  /** Events written. */
  readonly events: number;
  /** From BEGIN IMMEDIATE to the return of the FULL-synced COMMIT. */
  readonly seconds: number;
}

/** Totals since the store was opened: `appends / commits` is the average group size. */
export interface GroupCommitStats {
  readonly commits: number;
  readonly appends: number;
  readonly failed: number;
  readonly events: number;
  readonly largestCommit: number;
}

/** One `append` (one write) or `appendAll` (several, all or none), waiting for the next group commit. */
interface PendingAppend {
  readonly writes: readonly StreamWrite[];
  /** Events of all its writes. */
  readonly size: number;
  readonly resolve: (r: AppendResult[]) => void;
  readonly reject: (e: unknown) => void;
}

/** Per write: its result, and whether it was written now (false: a resend, answered as stored). */
type Written = { readonly result: AppendResult; readonly fresh: boolean };
type Outcome = { ok: true; writes: Written[] } | { ok: false; error: unknown };

interface StreamHead {
  readonly revision: bigint;
  readonly hash: string;
}

/** Stream heads the writer remembers (revision and hash of the last event), so an append need not look them up. */
const HEAD_CACHE_STREAMS = 10_000;

const DEFAULT_MAX_BATCH_EVENTS = 5000;

/**
 * The embedded default store. One file, WAL with synchronous=FULL (an acknowledged append survives power
 * loss), append-only by trigger, positions from an AUTOINCREMENT rowid: SQLite serialises writers, so
 * positions are monotonic and commit-ordered.
 *
 * Group commit: a FULL-synced commit costs an fsync (milliseconds), the inserts only microseconds, so
 * appends are not committed one by one. `append` queues its request; the queue is written at the next turn
 * of the event loop (`setImmediate`: after the I/O callbacks that arrived meanwhile, e.g. while the previous
 * commit blocked the loop) in ONE `BEGIN IMMEDIATE … COMMIT`. Inside it every append runs in a SAVEPOINT of
 * its own, in call order, and is checked against its own expected revision, seeing the appends before it: a
 * refused or failing append is rolled back alone and the others commit. Every promise settles only after the
 * COMMIT returned (or failed, which fails the whole group: nothing of it was written). Durability is that
 * of a single append: nothing is acknowledged before the fsync that covers it.
 */
export class SqliteEventStore implements EventStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly notifier = new Notifier();
  private readonly appendListeners = new Set<(position: bigint) => void>();
  private closed = false;
  private readonly stmts;
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private readonly maxBatchEvents: number;
  private readonly appendOne: (p: PendingAppend) => Written[];
  private readonly commitGroup: { immediate: (group: readonly PendingAppend[]) => Outcome[] };
  private stats = { commits: 0, appends: 0, failed: 0, events: 0, largestCommit: 0 };
  /**
   * Heads as of this connection's last commit. Valid only while no other connection has committed since:
   * `PRAGMA data_version` (which changes exactly then) is checked at the start of every group, under the
   * write lock, and the cache is dropped when it moved. Heads written by the group being committed live in
   * `groupHeads` until its COMMIT returns, so a rolled-back group leaves nothing behind.
   */
  private readonly heads = new RecentMap<string, StreamHead>(HEAD_CACHE_STREAMS);
  private readonly groupHeads = new Map<string, StreamHead>();
  private dataVersion: bigint | undefined;
  // Filters make the SQL vary: a caller inventing new ones must not grow this without end.
  private readonly readStatements = new RecentMap<string, Database.Statement<unknown[], Row>>(100);
  private readonly tree: SqliteMerkleTree;
  /** A read transaction this connection holds until the current turn's microtasks are done (see `read`). */
  private snapshot = false;
  readonly merkle: MerkleLog;
  /** Set when this open computed the tree for events written before it (a log from before v2, or a bench run without the tree). */
  readonly treeMigration: TreeMigration | undefined;
  /** Set when this open converted a tree stored with its leaves (before v2.1) to the current layout. */
  readonly treeConversion: TreeMigration | undefined;

  constructor(readonly file: string, private readonly options: SqliteEventStoreOptions = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // better-sqlite3 leaves WAL at NORMAL, which can drop the last commits on power loss: set FULL explicitly.
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.exec(SCHEMA);
    try {
      this.treeConversion = this.convertLeafTable();
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.db.exec(MERKLE_SCHEMA);
    const q = <T>(sql: string) => this.db.prepare<unknown[], T>(sql).safeIntegers(true);
    this.stmts = {
      head: q<{ revision: bigint; hash: string }>('SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1'),
      dataVersion: this.db.prepare<[], bigint>('PRAGMA data_version').pluck().safeIntegers(true),
      byEventId: q<{ stream_id: string; revision: bigint; position: bigint }>('SELECT stream_id, revision, position FROM events WHERE event_id = ?'),
      insert: q(`INSERT INTO events (event_id, stream_id, revision, type, data, metadata, command_id, prev_hash, hash)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertAt: q(`INSERT INTO events (position, event_id, stream_id, revision, type, data, metadata, command_id, prev_hash, hash)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      byPosition: q<Row>(`SELECT ${COLUMNS} FROM events WHERE position = ?`),
      // Unlimited reads have statements without LIMIT: a LIMIT bound as a parameter costs ~10 µs more per
      // execution (measured), a third of reading a short stream, and every command reads a few streams.
      streamForward: q<Row>(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC`),
      streamForwardLimited: q<Row>(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`),
      streamBackward: q<Row>(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC`),
      streamBackwardLimited: q<Row>(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`),
      headPosition: q<{ p: bigint | null }>('SELECT MAX(position) AS p FROM events'),
      byCommand: q<Row>(`SELECT ${COLUMNS} FROM events WHERE command_id = ? ORDER BY position`),
      beginRead: this.db.prepare('BEGIN'),
      endRead: this.db.prepare('COMMIT'),
    };
    this.tree = new SqliteMerkleTree(this.db);
    this.treeMigration = this.migrateTree();
    // A tree written before the last leaf was recorded (this round's first layout): record it once, from its event.
    if (!this.options.withoutTree && readLastLeaf(this.db) === undefined && this.tree.stored().size > 0) {
      this.db.transaction(() => this.tree.recordLastLeaf()).immediate();
    }
    const tree = this.tree;
    this.merkle = new StoredMerkleLog({
      read: tree.read,
      size: () => tree.stored().size,
      positionOf: (leaf) => tree.positionOf(leaf),
      leafOf: (position) => tree.leafOf(position),
      sizeAt: (position) => tree.sizeAt(position).size,
    });
    this.maxBatchEvents = Math.max(1, options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS);
    // Called inside the group's transaction, better-sqlite3 turns `inSavepoint` into a SAVEPOINT: a throw
    // rolls back this write's rows only.
    const inSavepoint = this.db.transaction((w: StreamWrite) => this.appendInTransaction(w.streamId, w.events, w.expected));
    // One write, or the answer to a resend of it. A one-event append needs no savepoint of its own (they cost a
    // third of a raw insert, profiled): its checks write nothing, and its single INSERT is atomic by itself (a
    // failing statement is rolled back alone, the group's transaction goes on). Several events need one, so
    // that a failure half-way takes back the ones written before it.
    const writeOne = (w: StreamWrite): Written => {
      try {
        return { result: w.events.length === 1 ? this.appendInTransaction(w.streamId, w.events, w.expected) : inSavepoint(w), fresh: true };
      } catch (error) {
        // Only a write that failed can be a resend of events already stored (EventStoreDB semantics: answered
        // as the first time, whatever revision it expected). Looking for them only then spares every other
        // append an index probe per event. Its savepoint is rolled back: nothing of this attempt remains.
        if (!(error instanceof WrongExpectedVersionError) && !isEventIdTaken(error)) throw error;
        const repeat = this.idempotentRepeat(w.streamId, w.events);
        if (repeat) return { result: repeat, fresh: false };
        throw error;
      }
    };
    // `appendAll`: the writes in one savepoint, each as `writeOne` makes it. A write that is a resend is
    // answered as stored, as `append` would answer it (a command's claim appended before a crash, whose retry
    // commits it again with the command's events); any other failure takes back every write.
    const allOrNone = this.db.transaction((p: PendingAppend) => p.writes.map(writeOne));
    this.appendOne = (p) => {
      const written = p.writes.length === 1 ? [writeOne(p.writes[0]!)] : allOrNone(p);
      p.writes.forEach((w, i) => {
        const { result, fresh } = written[i]!;
        if (!fresh) return;
        const last = result.events[result.events.length - 1]!;
        this.groupHeads.set(w.streamId, { revision: last.revision, hash: last.hash });
      });
      return written;
    };
    this.commitGroup = this.db.transaction((group: readonly PendingAppend[]) => {
      const version = this.stmts.dataVersion.get()!;
      if (version !== this.dataVersion) {
        // Another connection (process) committed since our last commit: any head may have moved.
        this.heads.clear();
        this.tree.invalidate();
        this.dataVersion = version;
      }
      const outcomes: Outcome[] = [];
      const written: LeafSource[] = [];
      for (const p of group) {
        try {
          const writes = this.appendOne(p);
          outcomes.push({ ok: true, writes });
          for (const w of writes) if (w.fresh) for (const e of w.result.events) written.push(e);
        } catch (error) {
          // SQLite rolls the whole transaction back by itself on some errors (I/O, full disk): then the
          // appends before this one are gone too, and the group must fail as one.
          if (!this.db.inTransaction) throw error;
          outcomes.push({ ok: false, error });
        }
      }
      // The leaves of this group's events commit with them, or not at all. The tree takes them as written
      // (no reading back) when they follow its last leaf.
      if (!options.withoutTree) this.tree.extendWith(written);
      return outcomes;
    });
  }

  /**
   * A file whose tree stores its leaves (`merkle_leaves`, written before v2.1): converted once, under the write
   * lock, to leaves derived from the events (`merkle_runs`); every stored leaf is checked against its event
   * first, and a mismatch refuses the open with the file left as it was. Heads and proofs stay the same.
   */
  private convertLeafTable(): TreeMigration | undefined {
    if (treeLayout(this.db) !== 'leaf-table') return undefined;
    const started = performance.now();
    const say = this.options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
    say(`${this.file}: converting the Merkle tree written by v2.0 (stored leaves) to leaves read from the events, each checked first; one time`);
    // Another process opening the file meanwhile waits for the conversion (about 12 s a million events), not
    // just the usual busy timeout; it then finds the file converted.
    const busy = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 600000');
    let converted: number | undefined;
    try {
      converted = this.db
        .transaction(() => (treeLayout(this.db) === 'leaf-table' ? migrateLeafTable(this.db, (n) => say(`${this.file}: Merkle tree: ${n} leaves checked`)) : undefined))
        .immediate();
    } finally {
      this.db.pragma(`busy_timeout = ${busy}`);
    }
    if (converted === undefined) return undefined;
    const seconds = (performance.now() - started) / 1000;
    say(`${this.file}: Merkle tree converted to leaves read from the events (${converted} leaves checked, the table of stored leaves dropped) in ${seconds.toFixed(1)} s; one time`);
    return { leavesAdded: converted, seconds };
  }

  /**
   * Computes the tree for events stored without it: a log written before v2 (the migration), or events a
   * bench wrote `withoutTree`. Under the write lock, so two processes opening one old file do it once.
   */
  private migrateTree(): TreeMigration | undefined {
    if (this.options.withoutTree) return undefined;
    const started = performance.now();
    const head = this.stmts.headPosition.get()?.p ?? 0n;
    if (head <= this.tree.stored().lastPosition) return undefined;
    const say = this.options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
    const missing = Number(this.db.prepare<[bigint], bigint>('SELECT COUNT(*) FROM events WHERE position > ?').pluck().safeIntegers(true).get(this.tree.stored().lastPosition) ?? 0n);
    say(`${this.file}: computing the Merkle tree for ${missing} events stored without it (a log written before tamper-evidence v2); one time`);
    let last = 0;
    const added = this.db
      .transaction(() => {
        this.tree.invalidate();
        return this.tree.extend((n) => {
          if (n - last >= 100_000) {
            last = n;
            say(`${this.file}: Merkle tree: ${n} of ${missing} events`);
          }
        });
      })
      .immediate();
    this.tree.invalidate();
    const seconds = (performance.now() - started) / 1000;
    say(`${this.file}: Merkle tree computed for ${added} events in ${seconds.toFixed(1)} s`);
    return { leavesAdded: added, seconds };
  }

  static open(file: string, options?: SqliteEventStoreOptions): SqliteEventStore {
    return new SqliteEventStore(file, options);
  }

  /** The underlying connection, for tests and operations (backup); never for writing events. */
  get database(): Database.Database {
    // Whoever takes the connection may begin a transaction of its own: not inside this turn's read snapshot.
    this.endSnapshot();
    return this.db;
  }

  /**
   * Runs a read in the read transaction of the current turn of the event loop. Outside a transaction every
   * statement takes and releases WAL's read lock itself, which costs more than the lookup (8 of 10 us for a
   * stream read, measured), and a command reads several streams in one turn (its handler's reads run in one
   * `Promise.all`; commands resumed by one group commit read in the same turn): the first read of a turn begins
   * a transaction that the rest share, ended by `process.nextTick`, which runs once the turn's microtasks are
   * done and before any timer, I/O or `setImmediate` callback (the group commit among them). Each read still
   * sees every commit made before the turn's first read, this process's included (a write never runs with a
   * snapshot open: writers end it first); one of another process landing during the turn is seen by the next.
   */
  private read<T>(run: () => T): T {
    if (!this.snapshot && !this.db.inTransaction) {
      this.stmts.beginRead.run();
      this.snapshot = true;
      process.nextTick(this.endSnapshot);
    }
    return run();
  }

  private readonly endSnapshot = (): void => {
    if (!this.snapshot) return;
    this.snapshot = false;
    if (this.db.inTransaction) this.stmts.endRead.run();
  };

  append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.assertOpen();
      if (events.length === 0) throw new RangeError('append needs at least one event');
      this.queue.push({ writes: [{ streamId, events, expected }], size: events.length, resolve: (r) => resolve(r[0]!), reject });
      this.scheduleFlush();
    });
  }

  /**
   * Appends to several streams in one commit, all or none: one savepoint in the group's transaction, each write
   * checked against its own expected revision (a refusal of one refuses all, with the error of the first refused).
   * A write whose events are stored already (the same event ids, as that write) is answered as stored, as
   * `append` answers a resend, and the others are written: a resend of the whole answers as the first time.
   */
  appendAll(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.assertOpen();
      if (writes.length === 0) throw new RangeError('appendAll needs at least one write');
      const streams = new Set<string>();
      let size = 0;
      for (const w of writes) {
        if (w.events.length === 0) throw new RangeError(`append to ${w.streamId} needs at least one event`);
        if (streams.has(w.streamId)) throw new RangeError(`appendAll writes ${w.streamId} twice: give it one write`);
        streams.add(w.streamId);
        size += w.events.length;
      }
      this.queue.push({ writes, size, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Group-commit totals since the store was opened (tests, metrics). */
  get groupCommits(): GroupCommitStats {
    return { ...this.stats };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Commits the queue's head (up to `maxBatchEvents`) in one transaction and settles its promises. */
  private flush(): void {
    if (this.queue.length === 0 || this.closed) return;
    let take = 0;
    let events = 0;
    while (take < this.queue.length && (take === 0 || events + this.queue[take]!.size <= this.maxBatchEvents)) {
      events += this.queue[take]!.size;
      take += 1;
    }
    const group = this.queue.slice(0, take);
    this.queue = this.queue.slice(take);
    if (this.queue.length > 0) this.scheduleFlush();
    this.commit(group);
  }

  private commit(group: readonly PendingAppend[]): void {
    this.endSnapshot();
    const started = performance.now();
    let outcomes: Outcome[];
    this.groupHeads.clear();
    try {
      outcomes = this.commitGroup.immediate(group);
    } catch (error) {
      this.heads.clear();
      this.tree.invalidate();
      // BEGIN or COMMIT failed, or SQLite aborted the transaction: nothing of the group was written.
      this.stats.commits += 1;
      this.stats.appends += group.length;
      this.stats.failed += group.length;
      for (const p of group) p.reject(error);
      this.observe(group.length, group.length, 0, started);
      return;
    }
    this.rememberHeads(this.groupHeads);
    let written = 0;
    let failed = 0;
    let fresh = false;
    let top = 0n;
    for (const o of outcomes) {
      if (!o.ok) failed += 1;
      else
        for (const w of o.writes)
          if (w.fresh) {
            fresh = true;
            written += w.result.events.length;
            if (w.result.position > top) top = w.result.position;
          }
    }
    this.stats.commits += 1;
    this.stats.appends += group.length;
    this.stats.failed += failed;
    this.stats.events += written;
    this.stats.largestCommit = Math.max(this.stats.largestCommit, group.length);
    if (fresh) this.announce(top);
    group.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.writes.map((w) => w.result));
      else p.reject(o.error);
    });
    this.observe(group.length, failed, written, started);
  }

  private rememberHeads(heads: ReadonlyMap<string, StreamHead>): void {
    for (const [streamId, head] of heads) this.heads.set(streamId, head);
  }

  /** The stream's last revision and hash, as this group's transaction sees them. */
  private headOf(streamId: string): StreamHead | undefined {
    return this.groupHeads.get(streamId) ?? this.heads.get(streamId) ?? this.stmts.head.get(streamId);
  }

  private observe(appends: number, failed: number, events: number, started: number): void {
    try {
      this.options.onCommit?.({ appends, failed, events, seconds: (performance.now() - started) / 1000 });
    } catch {
      // Instrumentation must not take the writer down: this runs outside any caller's promise.
    }
  }

  private appendInTransaction(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): AppendResult {
    const head = this.headOf(streamId);
    checkExpected(streamId, expected, head?.revision);
    let revision = head ? head.revision : -1n;
    let prevHash = head ? head.hash : GENESIS_HASH;
    const recorded: RecordedEvent[] = [];
    for (const e of events) {
      revision += 1n;
      const hash = eventHash(prevHash, { eventId: e.eventId, type: e.type, streamId, revision, data: e.data, metadata: e.metadata });
      const info = this.stmts.insert.run(e.eventId, streamId, revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), e.metadata.commandId ?? null, prevHash, hash);
      recorded.push({ eventId: e.eventId, type: e.type, streamId, revision, position: BigInt(info.lastInsertRowid), data: e.data, metadata: e.metadata, prevHash, hash });
      prevHash = hash;
    }
    const last = recorded[recorded.length - 1]!;
    return { nextRevision: last.revision, position: last.position, events: recorded };
  }

  /** EventStoreDB semantics: resending an append whose event ids are already stored is a no-op that answers the same. */
  private idempotentRepeat(streamId: string, events: readonly NewEvent[]): AppendResult | undefined {
    const found = events.map((e) => this.stmts.byEventId.get(e.eventId));
    if (found.every((f) => f === undefined)) return undefined;
    const first = found[0];
    const same =
      first !== undefined &&
      found.every((f, i) => f !== undefined && f.stream_id === streamId && f.revision === first.revision + BigInt(i));
    if (!same) throw new DuplicateEventIdError(events[found.findIndex((f) => f !== undefined)]!.eventId);
    const recorded = found.map((f) => toRecorded(this.stmts.byPosition.get(f!.position)!));
    const last = recorded[recorded.length - 1]!;
    return { nextRevision: last.revision, position: last.position, events: recorded };
  }

  readStream<E extends DomainEventShape = DomainEventShape>(streamId: string, options: ReadStreamOptions = {}): Promise<Recorded<E>[]> {
    // The one place a stream's events are typed: the caller names the union its stream holds.
    return this.readStreamEvents(streamId, options) as Promise<Recorded<E>[]>;
  }

  private async readStreamEvents(streamId: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = options.limit;
    let rows: Row[];
    if (options.direction === 'backwards') {
      const from = options.fromRevision ?? BigInt(Number.MAX_SAFE_INTEGER);
      rows = this.read(() => (limit === undefined ? this.stmts.streamBackward.all(streamId, from) : this.stmts.streamBackwardLimited.all(streamId, from, limit)));
    } else {
      const from = options.fromRevision ?? 0n;
      rows = this.read(() => (limit === undefined ? this.stmts.streamForward.all(streamId, from) : this.stmts.streamForwardLimited.all(streamId, from, limit)));
    }
    return rows.map(toRecorded);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertOpen();
    let from = options.fromPosition ?? 0n;
    let remaining = options.limit === undefined ? Infinity : Math.floor(options.limit);
    const { sql, params } = this.readAllSql(options);
    while (remaining > 0 && !this.closed) {
      // The page size written into the statement (see streamForward on bound LIMITs): callers use a few sizes.
      const rows = this.read(() => this.statement(`${sql} ${Math.min(PAGE, remaining)}`).all(from, ...params));
      for (const r of rows) yield toRecorded(r);
      if (rows.length < PAGE) return;
      from = rows[rows.length - 1]!.position;
      remaining -= rows.length;
    }
  }

  /** One page of `readAll`, read at once (the subscription's pages). */
  private readPage(options: ReadAllOptions & { readonly limit: number }): RecordedEvent[] {
    this.assertOpen();
    const { sql, params } = this.readAllSql(options);
    return this.read(() => this.statement(`${sql} ${Math.floor(options.limit)}`).all(options.fromPosition ?? 0n, ...params)).map(toRecorded);
  }

  private readAllSql(options: ReadAllOptions): { sql: string; params: unknown[] } {
    const where = ['position > ?'];
    const params: unknown[] = [];
    if (options.toPosition !== undefined) {
      where.push('position <= ?');
      params.push(options.toPosition);
    }
    appendFilterSql(options.filter, where, params, options.scan === true);
    return { sql: `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY position LIMIT`, params };
  }

  /** Point lookups through the primary key (`byPosition`, prepared once). */
  async *readAt(positions: readonly bigint[]): AsyncGenerator<RecordedEvent> {
    this.assertOpen();
    for (const position of positions) {
      // Closed meanwhile: an error, never a statement computed from part of its events.
      this.assertOpen();
      const row = this.stmts.byPosition.get(position);
      if (row !== undefined) yield toRecorded(row);
    }
  }

  /** A statement prepared once per connection: subscriptions read the log's tail after every commit. */
  private statement(sql: string): Database.Statement<unknown[], Row> {
    let stmt = this.readStatements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], Row>(sql).safeIntegers(true);
      this.readStatements.set(sql, stmt);
    }
    return stmt;
  }

  subscribe(fromPosition = 0n, filter?: ReadFilter): Subscription {
    this.assertOpen();
    return pollingSubscription((o) => this.readAll(o), this.notifier, fromPosition, filter, this.options.pollMs ?? 500, (o) => this.readPage(o));
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    return this.read(() => this.stmts.headPosition.get()?.p ?? 0n);
  }

  async findByCommandId(commandId: string, options: FindByCommandOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const all = this.read(() => this.stmts.byCommand.all(commandId)).map(toRecorded);
    if (!options.streams) return all;
    const streams = new Set(options.streams);
    return all.filter((e) => streams.has(e.streamId));
  }

  async importRecorded(e: RecordedEvent): Promise<bigint> {
    this.assertOpen();
    try {
      return this.importOne(e);
    } finally {
      // Reloaded from the file by the next writer: cheaper than reasoning about a rolled-back extension.
      this.tree.invalidate();
    }
  }

  private importOne(e: RecordedEvent): bigint {
    this.endSnapshot();
    const position = this.db
      .transaction(() => {
        const head = this.stmts.head.get(e.streamId);
        if (head && e.revision <= head.revision) {
          // Already there (an import run again after a failure that hid this write): the very same event is
          // success, anything else at that revision is a conflict.
          const same = this.stmts.byEventId.get(e.eventId);
          const stored = same && same.stream_id === e.streamId && same.revision === e.revision ? toRecorded(this.stmts.byPosition.get(same.position)!) : undefined;
          if (stored && stored.hash === e.hash && stored.prevHash === e.prevHash) return stored.position;
          throw new WrongExpectedVersionError(e.streamId, e.revision - 1n, head.revision);
        }
        const expectedRevision = head ? head.revision + 1n : 0n;
        if (e.revision !== expectedRevision) throw new WrongExpectedVersionError(e.streamId, e.revision - 1n, head ? head.revision : 'no_stream');
        if (e.prevHash !== (head ? head.hash : GENESIS_HASH)) throw new Error(`import: event ${e.eventId} does not continue the hash chain of ${e.streamId}`);
        if (eventHash(e.prevHash, e) !== e.hash) throw new Error(`import: event ${e.eventId} does not match its hash`);
        const top = this.stmts.headPosition.get()?.p ?? 0n;
        const args = [e.eventId, e.streamId, e.revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), e.metadata.commandId ?? null, e.prevHash, e.hash];
        // Keep the original position when it still fits, so a SQLite-to-SQLite copy has the same positions.
        const info = e.position > top ? this.stmts.insertAt.run(e.position, ...args) : this.stmts.insert.run(...args);
        this.tree.invalidate();
        this.tree.extend();
        return BigInt(info.lastInsertRowid);
      })
      .immediate();
    this.heads.delete(e.streamId);
    this.announce(position);
    return position;
  }

  /**
   * Calls `listener` with the position of the last event written, after every commit that wrote events (before
   * their appends are answered), until the returned function is called: how the projection worker
   * (projections/runner/worker-runner.ts) learns of this connection's appends at once.
   */
  onAppended(listener: (position: bigint) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /**
   * Another connection to this file appended (the service's writer, seen from the projection worker): wakes this
   * connection's subscriptions now rather than at their next poll.
   */
  appendedElsewhere(): void {
    this.notifier.notify();
  }

  private announce(position: bigint): void {
    this.notifier.notify();
    for (const listener of this.appendListeners) {
      try {
        listener(position);
      } catch {
        // A listener must not fail the commit it is told about: the commit is done.
      }
    }
  }

  async ping(): Promise<void> {
    this.assertOpen();
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.endSnapshot();
    // Appends already accepted are committed (and answered) before the connection goes.
    while (this.queue.length > 0) this.flush();
    this.closed = true;
    this.notifier.notify();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

export function checkExpected(streamId: string, expected: ExpectedRevision, head: bigint | undefined): void {
  const actual = head === undefined ? 'no_stream' : head;
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && head === undefined) ||
    (expected === 'stream_exists' && head !== undefined) ||
    (typeof expected === 'bigint' && head === expected);
  if (!ok) throw new WrongExpectedVersionError(streamId, expected, actual);
}

/** The UNIQUE constraint on `event_id` refused an insert: the id is stored already (or twice in one append). */
function isEventIdTaken(error: unknown): boolean {
  // By shape, not `instanceof`: the native addon keeps the SqliteError class (and so the Error) of the first
  // module instance and realm that loaded it, which another one (Jest's per-file contexts) does not share.
  const e = error as { code?: unknown; message?: unknown } | null;
  return typeof e === 'object' && e !== null && e.code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof e.message === 'string' && e.message.includes('events.event_id');
}

function appendFilterSql(filter: ReadFilter | undefined, where: string[], params: unknown[], scan: boolean): void {
  if (filter?.eventTypes?.length) {
    // `+type` keeps SQLite from the type index: the rows are then read in position order and the types tested
    // as they come, without materialising the rows left out (measured: 25 types over 1M events, a page went
    // from a sort of ~700,000 index entries to a plain range read).
    where.push(`${scan ? '+type' : 'type'} IN (${filter.eventTypes.map(() => '?').join(',')})`);
    params.push(...filter.eventTypes);
  }
  if (filter?.streamPrefixes?.length) {
    where.push(`(${filter.streamPrefixes.map(() => 'substr(stream_id, 1, ?) = ?').join(' OR ')})`);
    for (const p of filter.streamPrefixes) params.push(p.length, p);
  }
}
