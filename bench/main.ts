/**
 * `npm run bench`: the performance figures of the issue, each next to a baseline measured in the same run,
 * printed as a table and written to `bench/results/<timestamp>.json`.
 *
 *   node --expose-gc dist/bench/main.js [--events N] [--quick] [--only 1,3,5] [--data-dir DIR] [--results DIR]
 *                                       [--concurrency 64] [--duration S] [--query-requests N]
 *
 * Every option can also come from the environment: BENCH_EVENTS, BENCH_QUICK=1, BENCH_ONLY, BENCH_DATA_DIR,
 * BENCH_RESULTS, BENCH_CONCURRENCY, BENCH_DURATION, BENCH_QUERY_REQUESTS. `--quick` is a smoke run (small
 * sizes, seconds); the full run takes minutes. The data directory of the large log is kept (in the system's
 * temp dir by default) and reused by the next run with the same size, unless `--fresh`.
 */
import { existsSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDataset, type Dataset } from './dataset.js';
import { measureAppends } from './items/appends.js';
import { measureCommissions } from './items/commissions.js';
import { measureHttp } from './items/http.js';
import { measureQueries, QUERIES } from './items/queries.js';
import { ensureCheckpointed, measureRebuild } from './items/rebuild.js';
import { measureStartup } from './items/startup.js';
import { measureTamperEvidence } from './items/tamper-evidence.js';
import { machine, table, unmeasured, writeReport, type BenchReport, type Figure, type Item } from './report.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    quick: { type: 'boolean' },
    only: { type: 'string' },
    'data-dir': { type: 'string' },
    results: { type: 'string' },
    concurrency: { type: 'string' },
    duration: { type: 'string' },
    'query-requests': { type: 'string' },
    fresh: { type: 'boolean' },
  },
});

const env = process.env;
const quick = values.quick ?? env.BENCH_QUICK === '1';
const int = (flag: string | undefined, envValue: string | undefined, fallback: number): number => {
  const raw = flag ?? envValue;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`not a positive integer: ${raw}`);
  return n;
};
const options = {
  quick,
  events: int(values.events, env.BENCH_EVENTS, quick ? 20_000 : 1_000_000),
  concurrency: int(values.concurrency, env.BENCH_CONCURRENCY, 64),
  duration: int(values.duration, env.BENCH_DURATION, quick ? 2 : 10),
  warmup: quick ? 1 : 3,
  queryRequests: int(values['query-requests'], env.BENCH_QUERY_REQUESTS, quick ? 40 : 500),
  sequentialAppends: quick ? 100 : 1_000,
  concurrentAppends: quick ? 2_000 : 30_000,
  httpSeedEvents: quick ? 5_000 : 20_000,
  startupRuns: quick ? 1 : 3,
  repeats: quick ? 1 : 3,
  only: (values.only ?? env.BENCH_ONLY ?? '1,2,3,4,5,6,7').split(',').map((s) => Number(s.trim()) as Item),
  fresh: values.fresh ?? false,
};
const dataDir = resolve(values['data-dir'] ?? env.BENCH_DATA_DIR ?? join(tmpdir(), `channel-ledger-bench-${options.events}`));
const resultsDir = resolve(values.results ?? env.BENCH_RESULTS ?? 'bench/results');
const wants = (i: Item) => options.only.includes(i);

/** Runs one item; a failure is reported in its rows instead of ending the run. */
async function item(rows: { id: string; item: Item; name: string; unit: string }[], run: () => Promise<Figure[]>): Promise<Figure[]> {
  // `--expose-gc`: start each item on a collected heap, so garbage of the previous one is not billed to it.
  (globalThis as { gc?: () => void }).gc?.();
  try {
    return await run();
  } catch (error) {
    process.stderr.write(`bench: ${rows[0]?.id ?? 'item'} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    const note = `failed: ${error instanceof Error ? error.message : String(error)}`;
    return rows.map((r) => unmeasured(r, 'failed', note));
  }
}

const started = new Date();
const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
const figures: Figure[] = [];
process.stderr.write(`bench: ${JSON.stringify({ ...options, dataDir, resultsDir })}\n`);

if (wants(1)) {
  figures.push(
    ...(await item([{ id: 'appends', item: 1, name: 'store appends', unit: 'appends/s' }], () =>
      measureAppends({ sequential: options.sequentialAppends, concurrent: options.concurrentAppends, concurrency: options.concurrency, repeats: options.repeats }),
    )),
  );
}

let dataset: Dataset | undefined;
if (wants(3) || wants(4) || wants(5) || wants(6) || wants(7)) {
  if (options.fresh) rmSync(dataDir, { recursive: true, force: true });
  dataset = await ensureDataset(dataDir, options.events);
}

if (dataset && wants(3)) {
  figures.push(...(await item([{ id: 'rebuild', item: 3, name: 'projection rebuild', unit: 'events/s' }], () => measureRebuild(dataDir, options.repeats))));
} else if (dataset) {
  await ensureCheckpointed(dataDir);
}

if (dataset && wants(5)) {
  figures.push(...(await item([{ id: 'startup.ready', item: 5, name: 'start to ready', unit: 's' }], () => measureStartup(dataDir, options.events, options.startupRuns))));
}

if (dataset && wants(4)) {
  const partners = dataset.summary.partners;
  figures.push(
    ...(await item(
      QUERIES.map((q) => ({ id: `query.${q.id}.p99`, item: 4 as const, name: `query p99: ${q.name}`, unit: 'ms' })),
      () => measureQueries(dataDir, partners, options.queryRequests),
    )),
  );
}

if (dataset && wants(7)) {
  figures.push(
    ...(await item(
      [
        { id: 'statements.issue.p50', item: 7, name: 'statement p50, one partner', unit: 'ms' },
        { id: 'statements.issue.p99', item: 7, name: 'statement p99, one partner', unit: 'ms' },
        { id: 'payouts.run', item: 7, name: 'payout run over every partner', unit: 'ms' },
      ],
      () => measureCommissions(dataDir, dataset.summary.partners, options.repeats, quick ? 20 : 200),
    )),
  );
}

if (wants(6)) {
  figures.push(
    ...(await item([{ id: 'tree', item: 6, name: 'Merkle tree cost and verifier', unit: 'appends/s' }], () =>
      measureTamperEvidence({ appends: options.concurrentAppends, concurrency: options.concurrency, repeats: quick ? options.repeats : Math.max(7, options.repeats), dataDir: dataset ? dataDir : undefined, proofRequests: quick ? 20 : 200 }),
    )),
  );
}

if (wants(2)) {
  // A small log of its own: the commands need enrolled partners; the large log stays as item 3 measured it.
  const httpDir = join(tmpdir(), `channel-ledger-bench-http-${process.pid}`);
  try {
    await ensureDataset(httpDir, options.httpSeedEvents, 11);
    await ensureCheckpointed(httpDir);
    figures.push(
      ...(await item([{ id: 'http', item: 2, name: 'HTTP commands', unit: 'commands/s' }], () =>
        measureHttp(httpDir, { connections: options.concurrency, duration: options.duration, warmup: options.warmup, repeats: options.repeats }),
      )),
    );
  } finally {
    rmSync(httpDir, { recursive: true, force: true });
  }
}

const finished = new Date();
const report: BenchReport = {
  startedAt: started.toISOString(),
  finishedAt: finished.toISOString(),
  seconds: (finished.getTime() - started.getTime()) / 1000,
  machine: machine(),
  options: { ...options, dataDir, loadAverageAtStart: loadAtStart, dataset: dataset && { events: dataset.events, head: dataset.head, reused: dataset.reused, writeSeconds: dataset.seconds, summary: dataset.summary } },
  figures: [...figures].sort((a, b) => a.item - b.item),
};
const file = writeReport(resultsDir, report);
const m = report.machine;
process.stdout.write(`\nchannel-ledger bench — ${m.cpus} × ${m.cpuModel}, ${m.memoryMiB} MiB, node ${m.node}, SQLite ${m.sqlite}${quick ? ' (quick)' : ''}\n`);
process.stdout.write(`load average ${m.loadAverage.join(' ')} at the end${m.loadAverage[1]! > m.cpus ? ' — other processes shared the machine: the figures are pessimistic' : ''}\n\n`);
process.stdout.write(`${table(report.figures)}\n\nwritten to ${file} in ${report.seconds.toFixed(0)} s\n`);
if (!existsSync(file)) process.exitCode = 1;
