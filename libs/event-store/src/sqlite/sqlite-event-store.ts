import Database from 'better-sqlite3';
import type { EventMetadata, RecordedEvent } from '../../../../events/envelope.js';
import { eventHash, GENESIS_HASH } from '../hashing.js';
import { Notifier } from '../notifier.js';
import {
  DuplicateEventIdError,
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
import { pollingSubscription } from '../subscription.js';

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

interface Row {
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
}

/**
 * The embedded default store. One file, WAL with synchronous=FULL (an acknowledged append survives power
 * loss), append-only by trigger, positions from an AUTOINCREMENT rowid: SQLite serialises writers, so
 * positions are monotonic and commit-ordered.
 */
export class SqliteEventStore implements EventStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly notifier = new Notifier();
  private closed = false;
  private readonly stmts;

  constructor(readonly file: string, private readonly options: SqliteEventStoreOptions = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // better-sqlite3 leaves WAL at NORMAL, which can drop the last commits on power loss: set FULL explicitly.
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.exec(SCHEMA);
    const q = <T>(sql: string) => this.db.prepare<unknown[], T>(sql).safeIntegers(true);
    this.stmts = {
      head: q<{ revision: bigint; hash: string }>('SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1'),
      byEventId: q<{ stream_id: string; revision: bigint; position: bigint }>('SELECT stream_id, revision, position FROM events WHERE event_id = ?'),
      insert: q(`INSERT INTO events (event_id, stream_id, revision, type, data, metadata, command_id, prev_hash, hash)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertAt: q(`INSERT INTO events (position, event_id, stream_id, revision, type, data, metadata, command_id, prev_hash, hash)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      byPosition: q<Row>(`SELECT ${COLUMNS} FROM events WHERE position = ?`),
      streamForward: q<Row>(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`),
      streamBackward: q<Row>(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`),
      headPosition: q<{ p: bigint | null }>('SELECT MAX(position) AS p FROM events'),
      byCommand: q<Row>(`SELECT ${COLUMNS} FROM events WHERE command_id = ? ORDER BY position`),
    };
  }

  static open(file: string, options?: SqliteEventStoreOptions): SqliteEventStore {
    return new SqliteEventStore(file, options);
  }

  /** The underlying connection, for tests and operations (backup); never for writing events. */
  get database(): Database.Database {
    return this.db;
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const result = this.db.transaction(() => this.appendInTransaction(streamId, events, expected)).immediate();
    if (result.fresh) this.notifier.notify();
    return result.result;
  }

  private appendInTransaction(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): { result: AppendResult; fresh: boolean } {
    const repeat = this.idempotentRepeat(streamId, events);
    if (repeat) return { result: repeat, fresh: false };
    const head = this.stmts.head.get(streamId);
    checkExpected(streamId, expected, head?.revision);
    let revision = head ? head.revision : -1n;
    let prevHash = head ? head.hash : GENESIS_HASH;
    const recorded: RecordedEvent[] = [];
    for (const e of events) {
      revision += 1n;
      const hash = eventHash(prevHash, { ...e, streamId, revision });
      const info = this.stmts.insert.run(e.eventId, streamId, revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), e.metadata.commandId ?? null, prevHash, hash);
      recorded.push({ eventId: e.eventId, type: e.type, streamId, revision, position: BigInt(info.lastInsertRowid), data: e.data, metadata: e.metadata, prevHash, hash });
      prevHash = hash;
    }
    const last = recorded[recorded.length - 1]!;
    return { result: { nextRevision: last.revision, position: last.position, events: recorded }, fresh: true };
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

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = options.limit ?? -1;
    const rows =
      options.direction === 'backwards'
        ? this.stmts.streamBackward.all(streamId, options.fromRevision ?? BigInt(Number.MAX_SAFE_INTEGER), limit)
        : this.stmts.streamForward.all(streamId, options.fromRevision ?? 0n, limit);
    return rows.map(toRecorded);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertOpen();
    let from = options.fromPosition ?? 0n;
    let remaining = options.limit ?? Infinity;
    const where = ['position > ?'];
    const params: unknown[] = [];
    if (options.toPosition !== undefined) {
      where.push('position <= ?');
      params.push(options.toPosition);
    }
    appendFilterSql(options.filter, where, params);
    const stmt = this.db.prepare<unknown[], Row>(`SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY position LIMIT ?`).safeIntegers(true);
    while (remaining > 0 && !this.closed) {
      const rows = stmt.all(from, ...params, Math.min(PAGE, remaining));
      for (const r of rows) yield toRecorded(r);
      if (rows.length < PAGE) return;
      from = rows[rows.length - 1]!.position;
      remaining -= rows.length;
    }
  }

  subscribe(fromPosition = 0n, filter?: ReadFilter): Subscription {
    this.assertOpen();
    return pollingSubscription((o) => this.readAll(o), this.notifier, fromPosition, filter, this.options.pollMs ?? 500);
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    return this.stmts.headPosition.get()?.p ?? 0n;
  }

  async findByCommandId(commandId: string): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.stmts.byCommand.all(commandId).map(toRecorded);
  }

  async importRecorded(e: RecordedEvent): Promise<bigint> {
    this.assertOpen();
    const position = this.db
      .transaction(() => {
        const head = this.stmts.head.get(e.streamId);
        const expectedRevision = head ? head.revision + 1n : 0n;
        if (e.revision !== expectedRevision) throw new WrongExpectedVersionError(e.streamId, e.revision - 1n, head ? head.revision : 'no_stream');
        if (e.prevHash !== (head ? head.hash : GENESIS_HASH)) throw new Error(`import: event ${e.eventId} does not continue the hash chain of ${e.streamId}`);
        if (eventHash(e.prevHash, e) !== e.hash) throw new Error(`import: event ${e.eventId} does not match its hash`);
        const top = this.stmts.headPosition.get()?.p ?? 0n;
        const args = [e.eventId, e.streamId, e.revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), e.metadata.commandId ?? null, e.prevHash, e.hash];
        // Keep the original position when it still fits, so a SQLite-to-SQLite copy has the same positions.
        const info = e.position > top ? this.stmts.insertAt.run(e.position, ...args) : this.stmts.insert.run(...args);
        return BigInt(info.lastInsertRowid);
      })
      .immediate();
    this.notifier.notify();
    return position;
  }

  async ping(): Promise<void> {
    this.assertOpen();
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
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

function appendFilterSql(filter: ReadFilter | undefined, where: string[], params: unknown[]): void {
  if (filter?.eventTypes?.length) {
    where.push(`type IN (${filter.eventTypes.map(() => '?').join(',')})`);
    params.push(...filter.eventTypes);
  }
  if (filter?.streamPrefixes?.length) {
    where.push(`(${filter.streamPrefixes.map(() => 'substr(stream_id, 1, ?) = ?').join(' OR ')})`);
    for (const p of filter.streamPrefixes) params.push(p.length, p);
  }
}
