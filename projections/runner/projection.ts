import type Database from 'better-sqlite3';
import type { RecordedEvent } from '#events/envelope.js';

/**
 * A read model: its tables, the event types it reads, and `evolve` applying one event with parameterised
 * SQL. The runner calls `evolve` inside the transaction that also moves the checkpoint, so an event is
 * applied exactly once across crashes. The same code runs against an in-memory database for as-of replay.
 */
export interface Projection {
  readonly name: string;
  /** Bump when the tables or `evolve` change: the runner then rebuilds this read model from zero. */
  readonly version: number;
  readonly canHandle: readonly string[];
  /**
   * The secondary indexes `evolve` itself reads through (a lookup by something other than a primary key). A
   * rebuild from zero defers every other non-UNIQUE index to its end; without these, each such lookup would
   * scan the whole table.
   */
  readonly evolveIndexes?: readonly string[];
  /** Creates the tables (idempotent). */
  migrate(db: Database.Database): void;
  /** Drops the tables, for a rebuild. */
  reset(db: Database.Database): void;
  evolve(db: Database.Database, event: RecordedEvent): void;
}
