import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventsFile, readModelsFile } from '#libs/event-store/open.js';
import { progress } from '#cli/progress.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { syntheticLog, type SyntheticSummary } from './synthetic-log.js';

/** Bump when the generator changes what it writes: a data directory from another version is rebuilt. */
/** 2: ids as the service makes them (time-ordered command ids, event ids derived from them). */
/** 3: a commission plan at the start, accruals with each attribution and clawbacks with each reversal (item 7). */
export const GENERATOR_VERSION = 3;

export interface Dataset {
  readonly dataDir: string;
  readonly events: number;
  readonly head: string;
  readonly seed: number;
  readonly generatorVersion: number;
  readonly summary: SyntheticSummary;
  /** How long writing the log took (0 when an existing data directory was reused). */
  readonly seconds: number;
  readonly reused: boolean;
}

const MANIFEST = 'bench-dataset.json';
/** Appends handed to the store at once: the group commit writes them in a few large transactions. */
const CHUNK = 4000;

/**
 * A data directory holding a synthetic log of (at least) `events` events, written through the store's own
 * append path in large concurrent chunks (so it is hashed and checked like any append, and the group commit
 * makes it fast). A directory whose manifest says it holds the same log is reused as it is.
 */
export async function ensureDataset(dataDir: string, events: number, seed = 42): Promise<Dataset> {
  const manifestFile = join(dataDir, MANIFEST);
  if (existsSync(manifestFile)) {
    const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as Dataset;
    if (m.events === events && m.seed === seed && m.generatorVersion === GENERATOR_VERSION && existsSync(eventsFile(dataDir))) {
      process.stderr.write(`dataset: reusing ${dataDir} (${events} events)\n`);
      return { ...m, dataDir, reused: true };
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const store = SqliteEventStore.open(eventsFile(dataDir));
  // Setup only: the random event-id and command-id index pages stay cached instead of being re-read from the
  // OS for every insert (a fifth less time for the large log). The measured stores keep their defaults.
  store.database.pragma('cache_size = -262144');
  const summary: SyntheticSummary = { partners: 0, customers: 0, deals: 0, attributions: 0, funds: 0, refused: 0, byType: {} };
  const bar = progress(`dataset: writing ${events} events`);
  const started = performance.now();
  let written = 0;
  let chunk: Promise<unknown>[] = [];
  try {
    for (const a of syntheticLog({ events, seed }, summary)) {
      chunk.push(store.append(a.streamId, a.events, 'any'));
      written += a.events.length;
      if (chunk.length >= CHUNK) {
        await Promise.all(chunk);
        chunk = [];
        bar.update(written, events);
      }
    }
    await Promise.all(chunk);
    const head = await store.headPosition();
    const seconds = (performance.now() - started) / 1000;
    bar.finish(`${written} events in ${store.groupCommits.commits} commits`);
    const dataset: Dataset = { dataDir, events, head: head.toString(), seed, generatorVersion: GENERATOR_VERSION, summary, seconds, reused: false };
    writeFileSync(manifestFile, `${JSON.stringify(dataset, null, 2)}\n`);
    return dataset;
  } finally {
    await store.close();
  }
}

/** Removes the read models (and their WAL), so the next start or rebuild begins from zero. */
export function removeReadModels(dataDir: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${readModelsFile(dataDir)}${suffix}`, { force: true });
}
