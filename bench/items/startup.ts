import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, type Figure } from '../report.js';
import { startServiceChild, waitFor200 } from '../spawn.js';

/** Spawn to the first 200 of `/health/ready`, in ms; also when the service was listening. */
async function startToReady(dataDir: string): Promise<{ readyMs: number; listeningMs: number }> {
  const child = startServiceChild(dataDir);
  try {
    const url = await child.url;
    const listening = performance.now();
    const ready = await waitFor200(`${url}/health/ready`, 120_000);
    return { readyMs: ready - child.spawnedAt, listeningMs: listening - child.spawnedAt };
  } finally {
    await child.stop();
  }
}

/**
 * Item 5: from spawning `createApp` on the data directory (the log plus read models checkpointed at its head)
 * to the first 200 of `/health/ready`, against the same on an empty data directory.
 */
export async function measureStartup(dataDir: string, events: number, runs = 3): Promise<Figure[]> {
  const empty = mkdtempSync(join(tmpdir(), 'ledger-bench-empty-'));
  try {
    const base: number[] = [];
    const full: { readyMs: number; listeningMs: number }[] = [];
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`start to ready: run ${i + 1}/${runs}\n`);
      base.push((await startToReady(empty)).readyMs);
      full.push(await startToReady(dataDir));
    }
    // The median run: one slow spawn (a cold disk cache, a GC) should not decide the figure.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const readyMs = median(full.map((f) => f.readyMs));
    return [
      figure({
        id: 'startup.ready',
        item: 5,
        name: `start to ready, ${events.toLocaleString('en-US')} events, checkpointed`,
        value: readyMs / 1000,
        unit: 's',
        baseline: { name: 'same app, empty data dir', value: median(base) / 1000, unit: 's' },
        target: { valueBelow: 3, text: '< 3 s' },
        details: { runs: full, emptyRunsMs: base },
      }),
    ];
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}
