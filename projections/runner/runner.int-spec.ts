import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import type Database from 'better-sqlite3';
import type { RecordedEvent } from '#events/envelope.js';
import { StoreUnavailableError, type ReadFilter, type Subscription } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { waitUntil } from '#libs/event-store/testing/contract.js';
import { newEvent } from '#libs/event-store/testing/fixtures.js';
import { countingProjection } from '../../test/support/counting-projection.mjs';
import type { Projection } from './projection.js';
import { openReadModels, ProjectionRunner } from './runner.js';

const counting = countingProjection as Projection;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-runner-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function seed(store: SqliteEventStore, count: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, (_, j) => {
      total += i + j + 1;
      return newEvent('Counted', { n: i + j + 1 });
    });
    await store.append(`count-${i % 7}`, batch, 'any');
  }
  return total;
}

/** The counting projection with a secondary index (deferred during a rebuild) and a UNIQUE one (never deferred). */
const INDEXES_SQL = `CREATE INDEX IF NOT EXISTS counted_by_position ON counted (position);
  CREATE UNIQUE INDEX IF NOT EXISTS counted_unique ON counted (event_id, position);`;
const indexed: Projection = {
  ...counting,
  migrate(db) {
    counting.migrate(db);
    db.exec(INDEXES_SQL);
  },
};

function indexes(db: Database.Database): string[] {
  return db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
    .all()
    .map((r) => r.name);
}

function totals(db: Database.Database): { rows: number; total: number } {
  const rows = (db.prepare('SELECT COUNT(*) AS c FROM counted').get() as { c: number }).c;
  const total = (db.prepare('SELECT total FROM counted_total').get() as { total: number }).total;
  return { rows, total };
}

/** Lets the child print `lines` batch lines, then kills it with SIGKILL; resolves once it has exited. */
function killAfterBatches(child: ChildProcess, lines: number): Promise<void> {
  let batches = 0;
  return new Promise<void>((done) => {
    createInterface({ input: child.stdout! }).on('line', () => {
      if (++batches === lines) child.kill('SIGKILL');
    });
    child.on('exit', () => done());
  });
}

/** The read model is exactly at its checkpoint (every event up to it once, none after it), part way through `of`. */
function expectAtCheckpoint(db: Database.Database, runner: ProjectionRunner, of: number): { at: bigint; before: { rows: number; total: number } } {
  const at = runner.position('counting');
  const before = totals(db);
  const upTo = db.prepare('SELECT COUNT(*) AS c FROM counted WHERE position <= ?').get(at) as { c: number };
  expect(upTo.c).toBe(before.rows);
  expect(before.rows).toBeGreaterThan(0);
  expect(before.rows).toBeLessThan(of);
  return { at, before };
}

describe('projection runner', () => {
  it('catches up, follows live appends, and answers waitFor once a position is reached', async () => {
    const store = SqliteEventStore.open(join(dir, 'live.sqlite'), { pollMs: 10 });
    const db = openReadModels(join(dir, 'live-read.sqlite'));
    const expected = await seed(store, 250);
    const runner = new ProjectionRunner(store, db, [counting]);
    runner.start();
    expect(await runner.waitFor(await store.headPosition(), 5000)).toBe(true);
    expect(totals(db)).toEqual({ rows: 250, total: expected });
    const r = await store.append('count-live', [newEvent('Counted', { n: 1000 }), newEvent('Other')], 'any');
    expect(await runner.waitFor(r.position, 5000)).toBe(true);
    expect(totals(db)).toEqual({ rows: 251, total: expected + 1000 });
    expect(runner.position('counting')).toBe(r.position);
    expect(await runner.waitFor(r.position + 10n, 50)).toBe(false);
    await runner.stop();
    await store.close();
  });

  it('follows a backlog a page at a time without holding the event loop: a timer set at start runs before the backlog is applied', async () => {
    const store = SqliteEventStore.open(join(dir, 'backlog.sqlite'), { pollMs: 10 });
    const db = openReadModels(join(dir, 'backlog-read.sqlite'));
    const expected = await seed(store, 5000);
    const head = await store.headPosition();
    const runner = new ProjectionRunner(store, db, [counting]);
    runner.start();
    // Without a turn of the event loop between pages, the whole backlog would be applied before any timer ran.
    const seenByTimer = await new Promise<bigint>((resolve) => setTimeout(() => resolve(runner.position('counting')), 0));
    expect(seenByTimer).toBeLessThan(head);
    expect(await runner.waitFor(head, 10_000)).toBe(true);
    expect(totals(db)).toEqual({ rows: 5000, total: expected });
    await runner.stop();
    await store.close();
  });

  it('catching up reads only the types a projection handles, and still ends at the head', async () => {
    const store = SqliteEventStore.open(join(dir, 'types.sqlite'));
    const db = openReadModels(join(dir, 'types-read.sqlite'));
    const expected = await seed(store, 120);
    // The tail holds only events no projection handles.
    await store.append('bookkeeping-1', [newEvent('Claimed'), newEvent('Reserved')], 'no_stream');
    const head = await store.headPosition();
    const asked: unknown[] = [];
    const watched = Object.assign(Object.create(store) as SqliteEventStore, {
      readAll: (options: Parameters<SqliteEventStore['readAll']>[0]) => {
        asked.push(options);
        return store.readAll(options);
      },
    });
    const runner = new ProjectionRunner(watched, db, [counting]);
    await runner.catchUp();
    expect(asked).toEqual([expect.objectContaining({ filter: { eventTypes: ['Counted'] }, scan: true })]);
    expect(totals(db)).toEqual({ rows: 120, total: expected });
    expect(runner.position()).toBe(head);
    expect(db.prepare('SELECT position FROM projection_checkpoints WHERE name = ?').pluck().get('counting')).toBe(Number(head));
    db.close();
    await store.close();
  });

  it('a failure inside a batch rolls the batch back with its checkpoint; a restart applies each event once', async () => {
    const store = SqliteEventStore.open(join(dir, 'fail.sqlite'));
    const readFile = join(dir, 'fail-read.sqlite');
    const expected = await seed(store, 500);
    let seen = 0;
    const flaky: Projection = {
      ...counting,
      evolve(db, e: RecordedEvent) {
        if (++seen === 333) throw new Error('crash in the middle of a batch');
        counting.evolve(db, e);
      },
    };
    const db1 = openReadModels(readFile);
    await expect(new ProjectionRunner(store, db1, [flaky], { batchSize: 100 }).catchUp()).rejects.toThrow(/crash/);
    const partial = totals(db1);
    expect(partial.rows).toBe(300);
    db1.close();

    const db2 = openReadModels(readFile);
    const runner = new ProjectionRunner(store, db2, [counting], { batchSize: 100 });
    expect(runner.position('counting')).toBeGreaterThan(0n);
    await runner.catchUp();
    expect(totals(db2)).toEqual({ rows: 500, total: expected });
    db2.close();
    await store.close();
  });

  it('a version bump or a reset rebuilds the read model from zero to the same answer', async () => {
    const store = SqliteEventStore.open(join(dir, 'rebuild.sqlite'));
    const readFile = join(dir, 'rebuild-read.sqlite');
    const expected = await seed(store, 300);
    const db = openReadModels(readFile);
    await new ProjectionRunner(store, db, [counting]).catchUp();
    const bumped = new ProjectionRunner(store, db, [{ ...counting, version: 2 }]);
    expect(bumped.position('counting')).toBe(0n);
    await bumped.catchUp();
    expect(totals(db)).toEqual({ rows: 300, total: expected });
    bumped.reset();
    expect(totals(db)).toEqual({ rows: 0, total: 0 });
    await bumped.catchUp();
    expect(totals(db)).toEqual({ rows: 300, total: expected });
    db.close();
    await store.close();
  });

  it('killed with SIGKILL between batches, it neither loses nor double-applies an event after restart', async () => {
    const eventsFile = join(dir, 'killed.sqlite');
    const readFile = join(dir, 'killed-read.sqlite');
    const store = SqliteEventStore.open(eventsFile);
    const expected = await seed(store, 5000);
    const child = spawn(process.execPath, [resolve('test/support/project-loop.mjs'), eventsFile, readFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    await killAfterBatches(child, 40);
    const db = openReadModels(readFile);
    const runner = new ProjectionRunner(store, db, [counting]);
    const { at, before } = expectAtCheckpoint(db, runner, 5000);
    await runner.catchUp();
    expect(totals(db)).toEqual({ rows: 5000, total: expected });
    process.stdout.write(`projection crash: killed at checkpoint ${at} with ${before.rows} applied; after restart 5000 applied once\n`);
    db.close();
    await store.close();
  });

  it('a rebuild from zero builds secondary indexes once caught up, keeps UNIQUE ones, and restores the connection', async () => {
    const store = SqliteEventStore.open(join(dir, 'indexes.sqlite'));
    const expected = await seed(store, 300);
    const db = openReadModels(join(dir, 'indexes-read.sqlite'));
    const during: string[][] = [];
    const watching: Projection = {
      ...indexed,
      evolve(db, e) {
        if (Number(e.position) % 100 === 1) during.push(indexes(db));
        indexed.evolve(db, e);
      },
    };
    expect(indexes(new ProjectionRunner(store, db, [watching]).db)).toEqual(['counted_by_position', 'counted_unique']);
    const runner = new ProjectionRunner(store, db, [watching], { batchSize: 100 });
    const cacheSize = db.pragma('cache_size', { simple: true });
    await runner.catchUp();
    expect(during).toEqual([['counted_unique'], ['counted_unique'], ['counted_unique']]);
    expect(indexes(db)).toEqual(['counted_by_position', 'counted_unique']);
    expect(totals(db)).toEqual({ rows: 300, total: expected });
    const plan = db.prepare<[], { detail: string }>('EXPLAIN QUERY PLAN SELECT event_id FROM counted WHERE position = 7').all();
    expect(plan.map((r) => r.detail).join()).toContain('counted_by_position');
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL: see openReadModels
    expect(db.pragma('cache_size', { simple: true })).toBe(cacheSize);

    // Not from zero: the indexes stay while it catches up.
    during.length = 0;
    await seed(store, 100);
    await runner.catchUp();
    expect(during).toEqual([['counted_by_position', 'counted_unique']]);
    expect(totals(db).rows).toBe(400);
    db.close();
    await store.close();
  });

  it('a rebuild from zero keeps the indexes a projection names as its evolveIndexes', async () => {
    const store = SqliteEventStore.open(join(dir, 'evolve-indexes.sqlite'));
    const expected = await seed(store, 300);
    const db = openReadModels(join(dir, 'evolve-indexes-read.sqlite'));
    const during: string[][] = [];
    const watching: Projection = {
      ...indexed,
      evolveIndexes: ['counted_by_position'],
      evolve(db, e) {
        if (Number(e.position) % 100 === 1) during.push(indexes(db));
        indexed.evolve(db, e);
      },
    };
    await new ProjectionRunner(store, db, [watching], { batchSize: 100 }).catchUp();
    expect(during).toEqual([0, 1, 2].map(() => ['counted_by_position', 'counted_unique']));
    expect(indexes(db)).toEqual(['counted_by_position', 'counted_unique']);
    expect(totals(db)).toEqual({ rows: 300, total: expected });
    db.close();
    await store.close();
  });

  it('a failure during a rebuild from zero leaves the last committed batch, with its indexes; a rerun converges', async () => {
    const store = SqliteEventStore.open(join(dir, 'indexes-fail.sqlite'));
    const readFile = join(dir, 'indexes-fail-read.sqlite');
    const expected = await seed(store, 300);
    const flaky: Projection = {
      ...indexed,
      evolve(db, e) {
        if (e.position === 250n) throw new Error('crash in the middle of a batch');
        indexed.evolve(db, e);
      },
    };
    const db1 = openReadModels(readFile);
    const failing = new ProjectionRunner(store, db1, [flaky], { batchSize: 100 });
    await expect(failing.catchUp()).rejects.toThrow(/crash/);
    expect(failing.position()).toBe(200n);
    expect(totals(db1).rows).toBe(200);
    expect(indexes(db1)).toEqual(['counted_by_position', 'counted_unique']);
    expect(db1.inTransaction).toBe(false);
    db1.close();

    const db2 = openReadModels(readFile);
    const runner = new ProjectionRunner(store, db2, [indexed], { batchSize: 100 });
    expect(runner.position()).toBe(200n);
    await runner.catchUp();
    expect(totals(db2)).toEqual({ rows: 300, total: expected });
    db2.close();
    await store.close();
  });

  it('killed with SIGKILL during a rebuild from zero, it restarts with its indexes at its checkpoint and converges', async () => {
    const eventsFile = join(dir, 'killed-rebuild.sqlite');
    const readFile = join(dir, 'killed-rebuild-read.sqlite');
    const store = SqliteEventStore.open(eventsFile);
    const expected = await seed(store, 5000);
    const dist = (path: string) => JSON.stringify(pathToFileURL(resolve(path)).href);
    // Each batch sleeps 5 ms after its commit, so that the kill lands in the middle of the rebuild.
    const script = `
      import { SqliteEventStore } from ${dist('dist/libs/event-store/src/sqlite/sqlite-event-store.js')};
      import { openReadModels, ProjectionRunner } from ${dist('dist/projections/runner/runner.js')};
      import { countingProjection } from ${dist('test/support/counting-projection.mjs')};
      const [eventsFile, readFile] = process.argv.slice(1);
      const indexed = { ...countingProjection, migrate(db) { countingProjection.migrate(db); db.exec(${JSON.stringify(INDEXES_SQL)}); } };
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const runner = new ProjectionRunner(SqliteEventStore.open(eventsFile), openReadModels(readFile), [indexed], {
        batchSize: 25,
        onBatch: (position) => { process.stdout.write(position + '\\n'); Atomics.wait(pause, 0, 0, 5); },
      });
      await runner.catchUp();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, eventsFile, readFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    await killAfterBatches(child, 40);
    const db = openReadModels(readFile);
    const runner = new ProjectionRunner(store, db, [indexed]);
    // Created again by migrate at the start, before anything reads the read model.
    expect(indexes(db)).toEqual(['counted_by_position', 'counted_unique']);
    expectAtCheckpoint(db, runner, 5000);
    await runner.catchUp();
    expect(totals(db)).toEqual({ rows: 5000, total: expected });
    expect(indexes(db)).toEqual(['counted_by_position', 'counted_unique']);
    db.close();
    await store.close();
  });
});

/**
 * The store as a cluster shows it to a client during a leader election: every call fails with UNAVAILABLE
 * until `up()`, and a subscription already open fails at once. The events stay in the log meanwhile.
 */
function flakyStore(store: SqliteEventStore): { store: SqliteEventStore; down(): void; up(): void; subscribedFrom: bigint[] } {
  let failOpen: ((e: Error) => void)[] = [];
  let isDown = false;
  const subscribedFrom: bigint[] = [];
  const unavailable = (): StoreUnavailableError => new StoreUnavailableError('EventStoreDB unavailable: leader election');
  const flaky = Object.assign(Object.create(store) as SqliteEventStore, {
    headPosition: async () => {
      if (isDown) throw unavailable();
      return store.headPosition();
    },
    subscribe: (from?: bigint, filter?: ReadFilter): Subscription => {
      subscribedFrom.push(from ?? 0n);
      if (isDown) {
        return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(unavailable()) }), close: async () => undefined };
      }
      const inner = store.subscribe(from, filter);
      const it = inner[Symbol.asyncIterator]();
      const broken = new Promise<never>((_, reject) => failOpen.push(reject));
      broken.catch(() => undefined);
      return {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.race([it.next(), broken]) }),
        close: () => inner.close(),
      };
    },
  });
  return {
    store: flaky,
    subscribedFrom,
    down() {
      isDown = true;
      for (const f of failOpen) f(unavailable());
      failOpen = [];
    },
    up() {
      isDown = false;
    },
  };
}

describe('projection runner against a store that goes away', () => {
  it('restarts from its checkpoint with backoff after UNAVAILABLE, reports it meanwhile, and applies each event once', async () => {
    const inner = SqliteEventStore.open(join(dir, 'flaky.sqlite'), { pollMs: 10 });
    const db = openReadModels(join(dir, 'flaky-read.sqlite'));
    const expected = await seed(inner, 200);
    const flaky = flakyStore(inner);
    const errors: unknown[] = [];
    const runner = new ProjectionRunner(flaky.store, db, [counting], { retry: { firstMs: 5, maxMs: 20 }, onError: (e) => errors.push(e) });
    runner.start();
    expect(await runner.waitFor(await inner.headPosition(), 5000)).toBe(true);
    const checkpoint = runner.position('counting');

    flaky.down();
    await waitUntil(async () => errors.length >= 3);
    expect(runner.error).toBeInstanceOf(StoreUnavailableError);
    expect(runner.reconnecting).toBe(true);
    // Other writers go on while this instance cannot read.
    const late = await inner.append('count-late', [newEvent('Counted', { n: 5000 })], 'any');
    flaky.up();

    expect(await runner.waitFor(late.position, 5000)).toBe(true);
    expect(totals(db)).toEqual({ rows: 201, total: expected + 5000 });
    expect(runner.error).toBeUndefined();
    expect(runner.reconnecting).toBe(false);
    expect(runner.restarts).toBe(1);
    // It subscribed again from where its read models were, not from the start nor from the head.
    expect(flaky.subscribedFrom[0]).toBe(0n);
    expect(flaky.subscribedFrom[flaky.subscribedFrom.length - 1]).toBe(checkpoint);
    // And it keeps following.
    const later = await inner.append('count-late', [newEvent('Counted', { n: 1 })], 'any');
    expect(await runner.waitFor(later.position, 5000)).toBe(true);
    await runner.stop();
    db.close();
    await inner.close();
  });

  it('a projection that throws still stops the runner (restarting would fail the same way)', async () => {
    const store = SqliteEventStore.open(join(dir, 'bug.sqlite'), { pollMs: 10 });
    const db = openReadModels(join(dir, 'bug-read.sqlite'));
    await seed(store, 10);
    const buggy: Projection = { ...counting, evolve: () => { throw new Error('bug in evolve'); } };
    const runner = new ProjectionRunner(store, db, [buggy], { retry: { firstMs: 5, maxMs: 20 } });
    runner.start();
    await waitUntil(async () => runner.error !== undefined);
    expect((runner.error as Error).message).toBe('bug in evolve');
    expect(runner.reconnecting).toBe(false);
    expect(runner.restarts).toBe(0);
    await runner.stop();
    db.close();
    await store.close();
  });
});
