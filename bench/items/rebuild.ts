import { figure, type Figure } from '../report.js';
import { runChild } from '../spawn.js';

const MIB = 2 ** 20;

/**
 * Item 3: a rebuild of every read model from zero through the real ProjectionRunner and projections, in a
 * process of its own (peak RSS is the rebuild's alone), against reading and parsing every row of the log raw.
 * `repeats` times, each pair back to back (a burst of other work then weighs on both), the median of each
 * reported; peak RSS is the largest of the rebuilds. Leaves the read models checkpointed at the head (what
 * item 5 starts from).
 */
export async function measureRebuild(dataDir: string, repeats = 1): Promise<Figure[]> {
  const runs: { raw: Record<string, unknown>; rebuilt: Record<string, unknown> }[] = [];
  for (let r = 1; r <= repeats; r++) {
    if (repeats > 1) process.stderr.write(`rebuild: repetition ${r}/${repeats}\n`);
    runs.push({ raw: await runChild('raw-read', dataDir), rebuilt: await runChild('rebuild', dataDir) });
  }
  const rateOf = (x: Record<string, unknown>) => Number(x.events) / Number(x.seconds);
  const median = (key: 'raw' | 'rebuilt') => [...runs].sort((a, b) => rateOf(a[key]) - rateOf(b[key]))[Math.floor(runs.length / 2)]![key];
  const raw = median('raw');
  const rebuilt = median('rebuilt');
  const rawRate = rateOf(raw);
  const rate = rateOf(rebuilt);
  const peakRss = Math.max(...runs.map((x) => Number(x.rebuilt.peakRssBytes)));
  const rawPeakRss = Math.max(...runs.map((x) => Number(x.raw.peakRssBytes)));
  return [
    figure({
      id: 'rebuild.rate',
      item: 3,
      name: `projection rebuild, ${Number(rebuilt.events).toLocaleString('en-US')} events`,
      value: rate,
      unit: 'events/s',
      baseline: { name: 'raw SELECT + JSON.parse', value: rawRate, unit: 'events/s' },
      target: { ratioAtLeast: 0.4, text: '≥ 0.4× baseline' },
      details: { rebuild: rebuilt, raw, repeats: runs.map((x) => Math.round(rateOf(x.rebuilt))), rawRepeats: runs.map((x) => Math.round(rateOf(x.raw))) },
    }),
    figure({
      id: 'rebuild.peak-rss',
      item: 3,
      name: 'projection rebuild, peak RSS',
      value: peakRss / MIB,
      unit: 'MiB',
      baseline: { name: 'raw read+parse peak RSS', value: rawPeakRss / MIB, unit: 'MiB' },
      target: { valueBelow: 300, text: '< 300 MiB' },
    }),
  ];
}

/** Brings the read models to the head without measuring (for items 4 and 5 when item 3 is not run). */
export async function ensureCheckpointed(dataDir: string): Promise<void> {
  await runChild('rebuild', dataDir);
}
