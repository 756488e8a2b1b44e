/**
 * The measurements that need a process of their own: a rebuild and its raw baseline (so that peak RSS is
 * theirs alone, and neither runs on a heap the generator warmed up), and the service (so that start-to-ready
 * includes loading the code, and the HTTP load generator does not share its event loop). Prints one JSON
 * line on stdout; progress goes to stderr.
 *
 *   node dist/bench/child.js rebuild <dataDir>
 *   node dist/bench/child.js raw-read <dataDir>
 *   node dist/bench/child.js serve <dataDir> [--noop]
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { eventsFile, readModelsFile } from '#libs/event-store/open.js';
import { progress } from '#cli/progress.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { ALL_PROJECTIONS } from '#projections/index.js';
import { openReadModels, ProjectionRunner } from '#projections/runner/runner.js';
import { removeReadModels } from './dataset.js';

const [mode, dataDir, ...flags] = process.argv.slice(2);
if (!mode || !dataDir) throw new Error('usage: child.js rebuild|raw-read|serve <dataDir> [--noop]');

/**
 * The high-water mark of this process's resident set. On Linux from VmHWM: getrusage's maxRSS (what
 * `process.resourceUsage()` reports) also counts the parent's memory that the child was forked with.
 */
function peakRss(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return process.resourceUsage().maxRSS * 1024;
}

function answer(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function rebuild(): Promise<void> {
  removeReadModels(dataDir!);
  const store = SqliteEventStore.open(eventsFile(dataDir!));
  const db = openReadModels(readModelsFile(dataDir!));
  const head = await store.headPosition();
  const bar = progress('rebuild');
  const runner = new ProjectionRunner(store, db, ALL_PROJECTIONS);
  const started = performance.now();
  let last = 0n;
  await runner.catchUp((at, top) => {
    bar.update(at, top);
    last = at;
  });
  const seconds = (performance.now() - started) / 1000;
  const events = Number((store.database.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n);
  bar.finish(`${events} events, read models at ${runner.position()}`);
  db.close();
  await store.close();
  answer({ events, seconds, peakRssBytes: peakRss(), position: last.toString(), head: head.toString(), projections: ALL_PROJECTIONS.map((p) => p.name) });
}

/** The floor of any rebuild: read every row in log order and parse its JSON, nothing else. */
function rawRead(): void {
  const db = new Database(eventsFile(dataDir!), { readonly: true });
  const bar = progress('raw read+parse');
  const total = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  const started = performance.now();
  let events = 0;
  let checksum = 0;
  const rows = db.prepare<[], { position: number; event_id: string; stream_id: string; revision: number; type: string; data: string; metadata: string; prev_hash: string; hash: string }>(
    'SELECT position, event_id, stream_id, revision, type, data, metadata, prev_hash, hash FROM events ORDER BY position',
  );
  for (const r of rows.iterate()) {
    const data = JSON.parse(r.data) as Record<string, unknown>;
    const metadata = JSON.parse(r.metadata) as { recordedAt: string };
    // Use what was parsed, so no engine can skip the work.
    checksum += (data ? 1 : 0) + metadata.recordedAt.length;
    events += 1;
    if (events % 10_000 === 0) bar.update(events, total);
  }
  const seconds = (performance.now() - started) / 1000;
  bar.finish(`${events} events`);
  db.close();
  answer({ events, seconds, peakRssBytes: peakRss(), checksum });
}

/**
 * BENCH_PROFILE_DIR: a CPU profile of the service, written when it is told to stop (`--cpu-prof` writes none:
 * Nest's shutdown hooks end the process by re-raising the signal).
 */
function profileUntilStopped(dir: string): void {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.prependListener('SIGTERM', () => {
    // The in-process inspector answers synchronously, before Nest's own handler closes the app.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `service-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}

async function serve(): Promise<void> {
  if (process.env.BENCH_PROFILE_DIR) profileUntilStopped(process.env.BENCH_PROFILE_DIR);
  const { startService } = await import('./service.js');
  const app = await startService(dataDir!, { noop: flags.includes('--noop') });
  answer({ url: app.url, listeningAfterMs: Math.round(performance.now()) });
  const stop = async (): Promise<void> => {
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

if (mode === 'rebuild') await rebuild();
else if (mode === 'raw-read') rawRead();
else if (mode === 'serve') await serve();
else throw new Error(`unknown mode ${mode}`);
