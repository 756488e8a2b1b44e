import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { progress } from '#cli/progress.js';
import type { NewEvent } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { figure, type Figure } from '../report.js';
import { syntheticLog } from '../synthetic-log.js';

export interface AppendOptions {
  /** Appends measured one at a time (each waits for its fsync: keep it small). */
  readonly sequential: number;
  /** Appends measured with `concurrency` in flight. */
  readonly concurrent: number;
  readonly concurrency: number;
  /** Repetitions of the four measurements; the median of each is reported. */
  readonly repeats: number;
  readonly tmp?: string;
}

type StoreRun = Awaited<ReturnType<typeof storeRate>>;
type RawRun = Awaited<ReturnType<typeof rawRate>>;

interface Row {
  event_id: string;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  command_id: string | null;
  prev_hash: string;
  hash: string;
}

/** One event per append, taken from the synthetic log so the rows have realistic sizes. */
function workload(count: number): { streamId: string; event: NewEvent }[] {
  const out: { streamId: string; event: NewEvent }[] = [];
  for (const a of syntheticLog({ events: count + 10, seed: 7 })) {
    for (const e of a.events) if (out.length < count) out.push({ streamId: a.streamId, event: e });
    if (out.length >= count) break;
  }
  return out;
}

async function storeRate(file: string, work: readonly { streamId: string; event: NewEvent }[], concurrency: number, label: string) {
  const store = SqliteEventStore.open(file);
  const bar = progress(label);
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < work.length; i = next++) {
          await store.append(work[i]!.streamId, [work[i]!.event], 'any');
          if (i % 500 === 0) bar.update(i, work.length);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const stats = store.groupCommits;
    bar.finish(`${work.length} appends in ${stats.commits} commits`);
    return { rate: work.length / seconds, seconds, commits: stats.commits, meanGroup: stats.appends / stats.commits, largestGroup: stats.largestCommit };
  } finally {
    await store.close();
  }
}

/** The same rows, straight into the same schema with better-sqlite3: one transaction each, or `batch` per transaction. */
async function rawRate(file: string, rows: readonly Row[], batch: number, label: string) {
  // The store creates the schema (table, indexes, append-only triggers); then a plain connection writes.
  await SqliteEventStore.open(file).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const insert = db.prepare(`INSERT INTO events (event_id, stream_id, revision, type, data, metadata, command_id, prev_hash, hash)
    VALUES (@event_id, @stream_id, @revision, @type, @data, @metadata, @command_id, @prev_hash, @hash)`);
  const many = db.transaction((rs: readonly Row[]) => {
    for (const r of rs) insert.run(r);
  });
  const bar = progress(label);
  const started = performance.now();
  for (let i = 0; i < rows.length; i += batch) {
    if (batch === 1) insert.run(rows[i]!);
    else many(rows.slice(i, i + batch));
    if (i % 500 < batch) bar.update(i, rows.length);
  }
  const seconds = (performance.now() - started) / 1000;
  bar.finish(`${rows.length} rows`);
  db.close();
  return { rate: rows.length / seconds, seconds };
}

/** Item 1: store appends/s at concurrency 1 and N, against raw inserts of the same rows, all synchronous=FULL. */
export async function measureAppends(o: AppendOptions): Promise<Figure[]> {
  const dir = mkdtempSync(join(o.tmp ?? tmpdir(), 'ledger-bench-appends-'));
  try {
    const work = workload(Math.max(o.sequential, o.concurrent));
    const runs: { c1: StoreRun; cn: StoreRun; single: RawRun; batched: RawRun }[] = [];
    // Each repetition measures all four on fresh files, back to back: a burst of other work on the machine then
    // weighs on a figure and its baseline alike, and the median repetition is reported.
    for (let r = 1; r <= o.repeats; r++) {
      const tag = o.repeats > 1 ? ` (${r}/${o.repeats})` : '';
      const c1 = await storeRate(join(dir, `c1-${r}.sqlite`), work.slice(0, o.sequential), 1, `appends, concurrency 1${tag}`);
      const cn = await storeRate(join(dir, `cn-${r}.sqlite`), work.slice(0, o.concurrent), o.concurrency, `appends, concurrency ${o.concurrency}${tag}`);
      // The rows exactly as the store wrote them (hashes, revisions): the raw baselines insert these.
      const source = new Database(join(dir, `cn-${r}.sqlite`), { readonly: true });
      const rows = source.prepare<[], Row>('SELECT event_id, stream_id, revision, type, data, metadata, command_id, prev_hash, hash FROM events ORDER BY position').all();
      source.close();
      const single = await rawRate(join(dir, `raw1-${r}.sqlite`), rows.slice(0, o.sequential), 1, `raw inserts, one per transaction${tag}`);
      const batched = await rawRate(join(dir, `rawn-${r}.sqlite`), rows, o.concurrency, `raw inserts, ${o.concurrency} per transaction${tag}`);
      runs.push({ c1, cn, single, batched });
    }
    const median = <T extends { rate: number }>(xs: T[]): T => [...xs].sort((a, b) => a.rate - b.rate)[Math.floor(xs.length / 2)]!;
    const c1 = median(runs.map((x) => x.c1));
    const cn = median(runs.map((x) => x.cn));
    const single = median(runs.map((x) => x.single));
    const batched = median(runs.map((x) => x.batched));
    const rates = (k: 'c1' | 'cn' | 'single' | 'batched') => runs.map((x) => Math.round(x[k].rate));
    const rawSingle = { name: 'raw INSERT, 1 per tx', value: single.rate, unit: 'rows/s' };
    return [
      figure({
        id: 'appends.c1',
        item: 1,
        name: 'store appends, concurrency 1',
        value: c1.rate,
        unit: 'appends/s',
        baseline: rawSingle,
        details: { appends: o.sequential, repeats: rates('c1'), rawRepeats: rates('single') },
      }),
      figure({
        id: `appends.c${o.concurrency}`,
        item: 1,
        name: `store appends, concurrency ${o.concurrency}`,
        value: cn.rate,
        unit: 'appends/s',
        baseline: rawSingle,
        target: { ratioAtLeast: 10, text: '≥ 10× baseline' },
        // What any group commit could reach at this concurrency on this disk: the rows alone, 64 to a commit.
        note: `raw INSERTs ${o.concurrency} per transaction reach ${(batched.rate / single.rate).toFixed(1)}× the one-per-transaction baseline on this machine: the ceiling of group commit at concurrency ${o.concurrency}`,
        details: { appends: o.concurrent, repeats: rates('cn'), commits: cn.commits, meanGroup: cn.meanGroup, largestGroup: cn.largestGroup },
      }),
      figure({
        id: `appends.c${o.concurrency}.vs-batched`,
        item: 1,
        name: `store appends, concurrency ${o.concurrency}`,
        value: cn.rate,
        unit: 'appends/s',
        baseline: { name: `raw INSERT, ${o.concurrency} per tx`, value: batched.rate, unit: 'rows/s' },
        details: { rawRepeats: rates('batched') },
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
