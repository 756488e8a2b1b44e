import Database from 'better-sqlite3';
import type { RecordedEvent } from '#events/envelope.js';
import type { EventStore } from '#libs/event-store/port.js';
import type { Projection } from '../runner/projection.js';

export interface ReplayOptions {
  /** Events applied per transaction; also how many are held in memory at once. */
  readonly batchSize?: number;
}

export interface Replayed<T> {
  /** The last log position applied (0n when nothing had been recorded by `asOf`). */
  readonly position: bigint;
  /** Events read from the log (applied or not handled by these projections). */
  readonly events: number;
  readonly value: T;
}

/**
 * Rebuilds read models as they stood at record time `asOf`, on a private `:memory:` database with the
 * projections' own `migrate` and `evolve`, then hands that database to `use` (and closes it).
 *
 * "Recorded up to asOf" is the longest prefix of the log whose events all have `recordedAt <= asOf`: the
 * replay stops at the first event stamped later. Positions are commit-ordered and an event is stamped
 * before its append commits, so that event, and everything after it, committed after `asOf`: no live
 * read model could have shown any of it at `asOf`. Filtering by `recordedAt` instead (skipping a late
 * stamp, taking an earlier stamp behind it) would build a state the live model never had, because a
 * live read model is always a prefix of the log. The answer names that prefix's last position, like the
 * `Ledger-Position` of the live answer.
 *
 * The log is streamed through `readAll` (which pages) in batches of `batchSize`; memory holds one batch
 * and the read model, never the log. Between batches the event loop gets a turn, so a long replay does
 * not stall other requests.
 */
export async function replayAsOf<T>(
  store: EventStore,
  projections: readonly Projection[],
  asOf: Date,
  use: (db: Database.Database, position: bigint) => T,
  options: ReplayOptions = {},
): Promise<Replayed<T>> {
  const limit = asOf.getTime();
  const size = options.batchSize ?? 500;
  const db = new Database(':memory:');
  try {
    for (const p of projections) p.migrate(db);
    const apply = db.transaction((batch: readonly RecordedEvent[]) => {
      for (const e of batch) for (const p of projections) if (p.canHandle.includes(e.type)) p.evolve(db, e);
    });
    // Bounded by the head when the replay starts: the replay never chases a log that keeps growing.
    const head = await store.headPosition();
    let position = 0n;
    let events = 0;
    let batch: RecordedEvent[] = [];
    for await (const e of store.readAll({ fromPosition: 0n, toPosition: head })) {
      if (Date.parse(e.metadata.recordedAt) > limit) break;
      batch.push(e);
      position = e.position;
      events += 1;
      if (batch.length >= size) {
        apply(batch);
        batch = [];
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (batch.length) apply(batch);
    return { position, events, value: use(db, position) };
  } finally {
    db.close();
  }
}
