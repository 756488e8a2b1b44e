import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { RecordedEvent } from '#events/envelope.js';
import type { EventStore, Subscription } from '#libs/event-store/port.js';
import { SUBSCRIPTION_PAGE } from '#libs/event-store/subscription.js';
import type { Projection } from './projection.js';

export interface RunnerOptions {
  /**
   * Most events applied in one transaction (by default 1000 while following, 50,000 in `catchUp`). A store that
   * hands its subscription out in pages (SQLite, `SUBSCRIPTION_PAGE` events) caps a following batch at a page.
   */
  readonly batchSize?: number;
  readonly onError?: (error: unknown) => void;
  readonly onBatch?: (position: bigint, events: number) => void;
  /** Instrumentation (metrics); its hooks must not throw. */
  readonly observer?: ProjectionObserver;
  /**
   * After a store error while following (a leader election, a restart, UNAVAILABLE), the runner waits and
   * subscribes again from its checkpoints: `firstMs`, doubling up to `maxMs`, with jitter (defaults 200 ms, 30 s).
   */
  readonly retry?: { readonly firstMs?: number; readonly maxMs?: number };
}

/** A projection threw while applying a batch: the runner stops (restarting would fail the same way). */
class ProjectionFailure extends Error {
  constructor(readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

export interface ProjectionObserver {
  /** A batch was applied and the checkpoints moved, in one transaction. */
  batchApplied?(batch: { readonly position: bigint; readonly events: number; readonly seconds: number; readonly lastRecordedAt: string }): void;
  /** `error`, `reconnecting` or `restarts` changed (a failure, a reconnection starting, a recovery). */
  stateChanged?(): void;
}

const IDLE = Symbol('idle');
const FOLLOW_BATCH = 1000;
/**
 * Events per commit while catching up. Every commit writes each page its batch dirtied, and the deals still
 * moving are spread over thousands of pages: at 1M events, commits took 25% of the CPU at 1000 events, 9% at
 * 5000, and 50,000 took ~10% less CPU than 10,000. `catchUp` applies events as it reads them, so a larger
 * batch costs no JS memory, only dirty pages in SQLite's cache (below). Following keeps smaller batches: a
 * batch blocks the event loop while it is applied.
 */
const CATCH_UP_BATCH = 50_000;
/**
 * Page cache of the read-model connection while it catches up (the default here is ~16 MiB). The deals table
 * alone is ~70 MiB at 1M events and the registrations still moving span many MiB of it: with a small cache,
 * dirty pages spilled and were read back within a batch (a 1M-event rebuild took ~25% longer at 2 MiB; 256 MiB
 * gained nothing over 64). Restored afterwards, so the serving process does not keep it.
 */
const CATCH_UP_CACHE_KIB = 64 * 1024;

/**
 * Opens (creating) the read-model database: WAL with `synchronous = NORMAL`. Every commit is still atomic with
 * the checkpoints it moves (WAL is consistent at NORMAL), but not fsynced one by one: a power loss can take the
 * read models back to an earlier checkpoint, never to a state that does not match one, and the runner re-applies
 * the log from there (nothing here is the only copy of anything; the log is FULL). Following the log, a FULL
 * commit per batch blocked the event loop for an fsync that bought nothing.
 */
export function openReadModels(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // Checkpoint the WAL every 10,000 pages (40 MiB) rather than SQLite's 1,000: a rebuild's batch dirties more
  // than 1,000 pages once the tables are large, so every commit also copied its pages into the database file;
  // profiled on a 1M-event rebuild, commits took 29% of the time at 1,000 pages and 16% at 10,000.
  db.pragma('wal_autocheckpoint = 10000');
  db.exec(`CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name TEXT PRIMARY KEY, version INTEGER NOT NULL, position INTEGER NOT NULL)`);
  // Which log the read models were built from: the last event applied, by position and hash (see alignWithLog).
  db.exec(`CREATE TABLE IF NOT EXISTS projection_log (
    id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL, hash TEXT NOT NULL)`);
  return db;
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * Follows the log and keeps every projection's read model and checkpoint in step: each batch of events is
 * applied and the checkpoints moved in ONE SQLite transaction, so a crash at any point leaves every read
 * model exactly at its checkpoint (nothing lost, nothing applied twice).
 */
export class ProjectionRunner {
  protected readonly checkpoints = new Map<string, bigint>();
  private readonly waiters = new Set<{ position: bigint; resolve: (ok: boolean) => void }>();
  private subscription?: Subscription;
  private loop?: Promise<void>;
  protected stopped = false;
  protected failure?: unknown;
  protected retrying = false;
  private wakeRetry?: () => void;
  /** Subscriptions started again after a store error, since this runner was created. */
  restarts = 0;
  private readonly upsert;
  private readonly fingerprint;
  /** While read models found out of step with the log at start are rebuilt: the head they must reach first. */
  private rebuild: { readonly to: bigint; readonly names: readonly string[]; readonly log: (message: string) => void; lastLog: number } | undefined;
  private readonly handles: readonly ReadonlySet<string>[];
  /** Per event type, the indexes of the projections that handle it (one lookup per event while catching up). */
  private readonly byType = new Map<string, number[]>();

  constructor(
    private readonly store: EventStore,
    readonly db: Database.Database,
    readonly projections: readonly Projection[],
    protected readonly options: RunnerOptions = {},
  ) {
    const names = new Set<string>();
    for (const p of projections) {
      if (names.has(p.name)) throw new Error(`duplicate projection ${p.name}`);
      names.add(p.name);
    }
    this.handles = projections.map((p) => new Set(p.canHandle));
    projections.forEach((p, i) => {
      for (const type of new Set(p.canHandle)) {
        const targets = this.byType.get(type);
        if (targets === undefined) this.byType.set(type, [i]);
        else targets.push(i);
      }
    });
    this.upsert = db.prepare(`INSERT INTO projection_checkpoints (name, version, position) VALUES (?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET version = excluded.version, position = excluded.position`);
    this.fingerprint = db.prepare('INSERT INTO projection_log (id, position, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET position = excluded.position, hash = excluded.hash');
    this.prepare();
  }

  /** Creates tables, and resets any read model whose version changed (it then rebuilds from zero). */
  private prepare(): void {
    const get = this.db.prepare<[string], { version: number; position: number | bigint }>('SELECT version, position FROM projection_checkpoints WHERE name = ?');
    this.db.transaction(() => {
      for (const p of this.projections) {
        const row = get.get(p.name);
        if (!row || row.version !== p.version) {
          p.reset(this.db);
          p.migrate(this.db);
          this.upsert.run(p.name, p.version, 0);
          this.checkpoints.set(p.name, 0n);
        } else {
          p.migrate(this.db);
          this.checkpoints.set(p.name, BigInt(row.position));
        }
      }
    })();
  }

  /** The head the read models must reach before they may be served, while a start-up rebuild runs. */
  get rebuildingTo(): bigint | undefined {
    return this.rebuild?.to;
  }

  /**
   * Before following (at start): read models ahead of the log (an older log restored beside them, an emptied
   * one) or built from another log (the last event they applied is not in this log) are reset, so they are
   * rebuilt from this log; until they reach its head `rebuildingTo` says so (readiness and queries wait).
   * Returns the names of the read models reset.
   */
  async alignWithLog(log: (message: string) => void): Promise<string[]> {
    if (this.loop) throw new Error('align the read models before following the log');
    const head = await this.store.headPosition();
    const fp = this.db.prepare<[], { position: number | bigint; hash: string }>('SELECT position, hash FROM projection_log WHERE id = 1').safeIntegers(true).get();
    let reason: string | undefined;
    let names: string[] = [];
    if (fp !== undefined && BigInt(fp.position) <= head) {
      const at = BigInt(fp.position);
      let found: RecordedEvent | undefined;
      for await (const e of this.store.readAll({ fromPosition: at - 1n, toPosition: at, limit: 1 })) found = e;
      if (found === undefined || found.hash !== fp.hash) {
        reason = `the read models were built from another log (the event they last applied, at position ${at}, is ${found === undefined ? 'not in this log' : 'another event here'})`;
        names = this.projections.map((p) => p.name);
      }
    }
    if (reason === undefined) {
      const ahead = this.projections.filter((p) => this.checkpoints.get(p.name)! > head);
      if (ahead.length > 0) {
        const furthest = ahead.reduce((m, p) => (this.checkpoints.get(p.name)! > m ? this.checkpoints.get(p.name)! : m), 0n);
        reason = `the read models are ahead of the log (built up to position ${furthest}, the log ends at ${head})`;
        names = ahead.map((p) => p.name);
      }
    }
    if (reason === undefined) return [];
    this.reset(names);
    if (names.length === this.projections.length) this.db.prepare('DELETE FROM projection_log').run();
    log(`${reason}: rebuilding ${names.join(', ')} from the log (${head} positions) before serving them`);
    if (head > 0n) this.rebuild = { to: head, names, log, lastLog: performance.now() };
    else log('read models rebuilt: the log is empty');
    return names;
  }

  /** Empties the named read models (all by default) and sets their checkpoints to zero. Stop the runner first. */
  reset(names?: readonly string[]): void {
    if (this.loop) throw new Error('stop the projection runner before resetting read models');
    this.db.transaction(() => {
      for (const p of this.projections) {
        if (names && !names.includes(p.name)) continue;
        p.reset(this.db);
        p.migrate(this.db);
        this.upsert.run(p.name, p.version, 0);
        this.checkpoints.set(p.name, 0n);
      }
    })();
  }

  /** The position a read model has reached (all events up to it applied); the lowest one without a name. */
  position(name?: string): bigint {
    if (name !== undefined) {
      const p = this.checkpoints.get(name);
      if (p === undefined) throw new Error(`unknown projection ${name}`);
      return p;
    }
    let min: bigint | undefined;
    for (const p of this.checkpoints.values()) if (min === undefined || p < min) min = p;
    return min ?? 0n;
  }

  /** Why the runner is not following the log: a projection's error (it stopped), or the store's (it is reconnecting). */
  get error(): unknown {
    return this.failure;
  }

  /** True while the runner waits to subscribe again after a store error (`error` says which). */
  get reconnecting(): boolean {
    return this.retrying;
  }

  /**
   * The position a query without `minPosition` waits for, briefly, before it reads (undefined: none). On this
   * thread the commit itself wakes the runner, which applies its events in the next turns of the loop, as a rule
   * before a client's next request is read; the worker thread's runner (worker-runner.ts) answers the last append
   * acknowledged here, so that a client that wrote and then reads finds its write there too.
   */
  freshnessTarget(): bigint | undefined {
    return undefined;
  }

  /** Resolves true once every read model has reached `position`, false after `timeoutMs`. */
  waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    if (this.position() >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = {
        position,
        resolve: (ok: boolean) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => w.resolve(false), timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Starts following the log from the checkpoints, in the background. */
  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run().catch((error: unknown) => {
      this.failure = error;
      this.options.onError?.(error);
      this.options.observer?.stateChanged?.();
    });
  }

  /**
   * Follows the log; a store error does not stop it. The checkpoints are where the last committed batch left
   * them (a batch commits with its checkpoints), so subscribing again from them neither skips nor repeats an
   * event. Meanwhile `error` holds the store's error (readiness reports it); it clears once the store answers.
   */
  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      let subscription: Subscription | undefined;
      try {
        subscription = this.store.subscribe(this.position());
        this.subscription = subscription;
        await this.follow(subscription, () => {
          attempt = 0;
        });
        if (this.stopped) return;
        // A subscription only ends when asked to: an end nobody asked for is the store going away.
        throw new Error('the store ended the subscription');
      } catch (error) {
        await subscription?.close().catch(() => undefined);
        if (error instanceof ProjectionFailure) {
          this.failure = error.error;
          this.options.onError?.(error.error);
          this.options.observer?.stateChanged?.();
          return;
        }
        if (this.stopped) return;
        this.failure = error;
        this.options.onError?.(error);
      }
      // Back off, then make sure the store answers before subscribing again.
      this.retrying = true;
      this.options.observer?.stateChanged?.();
      for (;;) {
        await this.pause(attempt++);
        if (this.stopped) return;
        try {
          await this.store.headPosition();
          break;
        } catch (error) {
          this.failure = error;
          this.options.onError?.(error);
          this.options.observer?.stateChanged?.();
        }
      }
      this.retrying = false;
      this.failure = undefined;
      this.restarts += 1;
      this.options.observer?.stateChanged?.();
    }
  }

  /** The wait before the `attempt`-th retry (from 0): `retry.firstMs` doubling up to `retry.maxMs`, with jitter. */
  protected backoffMs(attempt: number): number {
    const first = this.options.retry?.firstMs ?? 200;
    const max = this.options.retry?.maxMs ?? 30_000;
    return Math.min(max, first * 2 ** Math.min(attempt, 20)) * (0.5 + Math.random() / 2);
  }

  /** Full jitter on an exponential backoff; `stop()` cuts it short. */
  private pause(attempt: number): Promise<void> {
    const ms = this.backoffMs(attempt);
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref?.();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeRetry = done;
    });
  }

  /**
   * Applies everything up to the current head, then returns (for `ledger rebuild`, `simulate` and tests).
   * Only where nothing else uses the connection meanwhile, and not while following (`start`): it holds a
   * transaction open while it reads the log, and retunes the connection until it returns.
   *
   * Events are applied as they are read and committed every `batchSize` with the checkpoints, rather than
   * collected first: a batch of 10,000 held in memory survived into V8's old generation, and garbage collection
   * took 11% of a 1M-event rebuild (1% now).
   *
   * A read model rebuilt from zero gets its secondary indexes only once caught up: maintaining them through
   * every insert and update of a 1M-event rebuild took 27% of it (the deals indexes most), building them at the
   * end takes ~1 s. Nothing `evolve` does depends on them (it finds rows by primary key, and only UNIQUE
   * indexes, which are never deferred, could change what a statement does) except for speed: the indexes a
   * projection's `evolve` looks rows up through (`evolveIndexes`) stay, or each lookup scans its table (the
   * attribution and tier-standings reversals did: over a third of a 1M-event rebuild). Each commit leaves the read
   * model exactly at its checkpoint, as before. A crash in between leaves the indexes missing until the next
   * start, where `migrate` (run for every projection before anything else) creates them again.
   */
  async catchUp(onProgress?: (position: bigint, head: bigint) => void): Promise<void> {
    const head = await this.store.headPosition();
    const fromZero = this.projections.filter((p) => this.checkpoints.get(p.name) === 0n);
    const deferred = head > 0n ? this.dropDeferrableIndexes(fromZero) : [];
    const cacheSize = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma(`cache_size = -${CATCH_UP_CACHE_KIB}`);
    const size = this.options.batchSize ?? CATCH_UP_BATCH;
    // Fixed for the whole run: an event is applied where it is past the checkpoint the projection started from.
    const from = this.projections.map((p) => this.checkpoints.get(p.name)!);
    let caughtUp = false;
    try {
      let started = 0;
      let events = 0;
      let last: RecordedEvent | undefined;
      // Only the types some projection handles: the log's bookkeeping events (claims, reservations; over a
      // quarter of a typical log) are left out by the store instead of being read and parsed for nothing.
      const filter = { eventTypes: [...this.byType.keys()] };
      for await (const e of this.store.readAll({ fromPosition: this.position(), toPosition: head, filter, scan: true })) {
        if (events === 0) {
          started = performance.now();
          this.db.exec('BEGIN');
        }
        const targets = this.byType.get(e.type);
        if (targets !== undefined) for (const i of targets) if (e.position > from[i]!) this.projections[i]!.evolve(this.db, e);
        last = e;
        if (++events >= size) {
          this.commitBatch(last, events, started);
          events = 0;
          onProgress?.(e.position, head);
        }
      }
      if (events > 0) this.commitBatch(last!, events, started);
      caughtUp = true;
    } catch (error) {
      // The open batch goes, with nothing of it committed: the read models stay at their checkpoints.
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    } finally {
      this.db.pragma(`cache_size = ${cacheSize}`);
      // Also after a failure: the read models must not be left without the indexes their queries need.
      this.db.transaction(() => {
        for (const p of deferred) p.migrate(this.db);
        // Positions up to the head are covered even where the tail held no events for a projection.
        for (const p of this.projections) this.upsert.run(p.name, p.version, caughtUp ? head : this.checkpoints.get(p.name)!);
      })();
    }
    for (const p of this.projections) this.checkpoints.set(p.name, head);
    this.wake();
    onProgress?.(head, head);
  }

  /** Moves the checkpoints to `last` and commits the transaction `catchUp` opened. */
  private commitBatch(last: RecordedEvent, events: number, started: number): void {
    const moved = this.projections.filter((p) => this.checkpoints.get(p.name)! < last.position);
    for (const p of moved) this.upsert.run(p.name, p.version, last.position);
    this.fingerprint.run(last.position, last.hash);
    this.db.exec('COMMIT');
    for (const p of moved) this.checkpoints.set(p.name, last.position);
    this.batchDone(last, events, started);
  }

  /**
   * Drops the secondary indexes of these (empty) read models, and returns the projections whose `migrate`
   * will create them again. Which indexes are a projection's is learned by migrating it on a scratch database;
   * UNIQUE ones stay (an `ON CONFLICT` may rely on them), and so do the `evolveIndexes` it looks rows up through.
   */
  private dropDeferrableIndexes(projections: readonly Projection[]): Projection[] {
    const deferred: Projection[] = [];
    for (const p of projections) {
      const scratch = new Database(':memory:');
      try {
        p.migrate(scratch);
        const indexes = scratch.prepare<[], { name: string; tbl_name: string }>("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all();
        const names = indexes
          .filter((i) => !p.evolveIndexes?.includes(i.name))
          .filter((i) => (scratch.pragma(`index_list(${quote(i.tbl_name)})`) as { name: string; unique: number }[]).some((l) => l.name === i.name && l.unique === 0))
          .map((i) => i.name);
        if (names.length === 0) continue;
        this.db.transaction(() => names.forEach((n) => this.db.exec(`DROP INDEX IF EXISTS ${quote(n)}`)))();
        deferred.push(p);
      } finally {
        scratch.close();
      }
    }
    return deferred;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeRetry?.();
    await this.subscription?.close().catch(() => undefined);
    await this.loop;
    this.loop = undefined;
    this.subscription = undefined;
    for (const w of [...this.waiters]) w.resolve(false);
  }

  private async follow(sub: Subscription, onEvents: () => void): Promise<void> {
    if (sub.pages) return this.followPages(sub.pages(), onEvents);
    const it = sub[Symbol.asyncIterator]();
    const size = this.options.batchSize ?? FOLLOW_BATCH;
    // A next() that lost the race against IDLE stays pending and is awaited first in the next round:
    // dropping it would drop the event it resolves with.
    let pending: Promise<IteratorResult<RecordedEvent>> | undefined;
    for (;;) {
      const first = await (pending ?? it.next());
      pending = undefined;
      if (first.done || this.stopped) return;
      const batch: RecordedEvent[] = [first.value];
      // Drain what is already available without waiting, so catch-up commits large batches: whatever resolves
      // before the loop's next check phase (one timer for the batch, not one per event).
      const idle = new Promise<typeof IDLE>((r) => setImmediate(() => r(IDLE)));
      let done = false;
      while (batch.length < size) {
        pending = it.next();
        const next = await Promise.race([pending, idle]);
        if (next === IDLE) break;
        pending = undefined;
        if (next.done) {
          done = true;
          break;
        }
        batch.push(next.value);
      }
      onEvents();
      try {
        this.apply(batch);
      } catch (error) {
        throw new ProjectionFailure(error);
      }
      if (done) return;
    }
  }

  /** `follow` over a store's pages: each page is applied as it comes, in batches of at most `batchSize` events. */
  private async followPages(pages: AsyncIterable<readonly RecordedEvent[]>, onEvents: () => void): Promise<void> {
    const size = this.options.batchSize ?? FOLLOW_BATCH;
    for await (const page of pages) {
      if (this.stopped) return;
      onEvents();
      for (let i = 0; i < page.length; i += size) {
        try {
          this.apply(page.length <= size ? page : page.slice(i, i + size));
        } catch (error) {
          throw new ProjectionFailure(error);
        }
      }
      // A full page: a backlog (a start far behind the head, a new read model after an upgrade). The pages come
      // back without waiting, so without this the whole backlog would run in one turn of the event loop, and
      // HTTP (health and readiness probes included) would not be answered until it is done.
      if (page.length >= SUBSCRIPTION_PAGE) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private apply(batch: readonly RecordedEvent[]): void {
    const started = performance.now();
    const last = batch[batch.length - 1]!.position;
    const moved: [string, bigint][] = [];
    this.db.transaction(() => {
      for (const [i, p] of this.projections.entries()) {
        const from = this.checkpoints.get(p.name)!;
        if (from >= last) continue;
        // A Set: `canHandle.includes` per event and projection showed in the rebuild profile.
        const handles = this.handles[i]!;
        for (const e of batch) if (e.position > from && handles.has(e.type)) p.evolve(this.db, e);
        this.upsert.run(p.name, p.version, last);
        moved.push([p.name, last]);
      }
      const lastEvent = batch[batch.length - 1]!;
      this.fingerprint.run(lastEvent.position, lastEvent.hash);
    })();
    for (const [name, pos] of moved) this.checkpoints.set(name, pos);
    this.batchDone(batch[batch.length - 1]!, batch.length, started);
  }

  private batchDone(last: RecordedEvent, events: number, started: number): void {
    this.applied({ position: last.position, events, seconds: (performance.now() - started) / 1000, lastRecordedAt: last.metadata.recordedAt });
  }

  /** A batch was committed with the checkpoints (here, or by the projection worker): tell the hooks, release waiters. */
  protected applied(batch: { readonly position: bigint; readonly events: number; readonly seconds: number; readonly lastRecordedAt: string }): void {
    this.options.onBatch?.(batch.position, batch.events);
    this.options.observer?.batchApplied?.(batch);
    this.wake();
  }

  protected wake(): void {
    const at = this.position();
    const r = this.rebuild;
    if (r !== undefined) {
      if (at >= r.to) {
        this.rebuild = undefined;
        r.log(`read models rebuilt up to position ${at}: ${r.names.join(', ')}`);
      } else if (performance.now() - r.lastLog > 5000) {
        r.lastLog = performance.now();
        r.log(`rebuilding read models: position ${at} of ${r.to}`);
      }
    }
    for (const w of [...this.waiters]) if (w.position <= at) w.resolve(true);
  }
}
