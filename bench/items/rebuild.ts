import { figure, type Figure } from '../report.js';
import { runChild } from '../spawn.js';

const MIB = 2 ** 20;

/**
 * Item 3: a rebuild of every read model from zero through the real ProjectionRunner and projections, in a
 * process of its own (peak RSS is the rebuild's alone), against reading and parsing the same rows raw.
 * Leaves the read models checkpointed at the head (what item 5 starts from).
 */
export async function measureRebuild(dataDir: string): Promise<Figure[]> {
  const raw = await runChild('raw-read', dataDir);
  const rebuilt = await runChild('rebuild', dataDir);
  const rawRate = Number(raw.events) / Number(raw.seconds);
  const rate = Number(rebuilt.events) / Number(rebuilt.seconds);
  return [
    figure({
      id: 'rebuild.rate',
      item: 3,
      name: `projection rebuild, ${Number(rebuilt.events).toLocaleString('en-US')} events`,
      value: rate,
      unit: 'events/s',
      baseline: { name: 'raw SELECT + JSON.parse', value: rawRate, unit: 'events/s' },
      target: { ratioAtLeast: 0.4, text: '≥ 0.4× baseline' },
      details: { rebuild: rebuilt, raw },
    }),
    figure({
      id: 'rebuild.peak-rss',
      item: 3,
      name: 'projection rebuild, peak RSS',
      value: Number(rebuilt.peakRssBytes) / MIB,
      unit: 'MiB',
      baseline: { name: 'raw read+parse peak RSS', value: Number(raw.peakRssBytes) / MIB, unit: 'MiB' },
      target: { valueBelow: 300, text: '< 300 MiB' },
    }),
  ];
}

/** Brings the read models to the head without measuring (for items 4 and 5 when item 3 is not run). */
export async function ensureCheckpointed(dataDir: string): Promise<void> {
  await runChild('rebuild', dataDir);
}
