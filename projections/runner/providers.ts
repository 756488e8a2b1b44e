import { Logger, type Provider } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { EventStore } from '#libs/event-store/port.js';
import { EVENT_STORE } from '#libs/ledger/tokens.js';
import { LEDGER_READS, type LedgerReads } from '#libs/ledger/reads.js';
import type { TierInputs } from '#libs/tiers/qualification.js';
import { customersWithDueRegistrations } from '../deals/deals.queries.js';
import { evaluablePartners, tierInputs } from '../tier-standings/tier-standings.queries.js';
import type { Projection } from './projection.js';
import { ReadModels } from '#projections/runner/read-models.js';
import { openReadModels, ProjectionRunner, type ProjectionObserver } from './runner.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { ALL_PROJECTIONS } from '../index.js';
import { WorkerProjectionRunner } from './worker-runner.js';

export const READ_MODELS_DB = Symbol('READ_MODELS_DB');
/** Optional instrumentation of the runner (the API's metrics provide it). */
export const PROJECTION_OBSERVER = Symbol('PROJECTION_OBSERVER');

export interface ReadModelOptions {
  readonly file: string;
  readonly projections: readonly Projection[];
  readonly consistencyTimeoutMs: number;
  /**
   * Where the read models are applied: `worker` (a worker thread, off the request's event loop; SQLite store and
   * the service's own projections only, otherwise `main`) or `main` (this thread). `LEDGER_PROJECTION_THREAD`.
   */
  readonly thread?: ProjectionThread;
}

export type ProjectionThread = 'main' | 'worker';

/** What the commands that fan out over many streams read, at the log's head (libs/ledger/src/reads.ts). */
export function ledgerReads(store: EventStore, readModels: ReadModels): LedgerReads {
  const atHead = async <T>(query: (db: Database.Database) => T) => readModels.read(await store.headPosition(), query);
  return {
    customersWithDueRegistrations: (asOf, reviewDays) => atHead((db) => customersWithDueRegistrations(db, asOf, reviewDays)),
    tierInputs: (asOf, program) =>
      atHead((db) => {
        const inputs = new Map<string, TierInputs>();
        for (const id of evaluablePartners(db)) inputs.set(id, tierInputs(db, id, asOf, program));
        return inputs;
      }),
  };
}

/** The read side as Nest providers, for both apps: the read-model database, the runner, read-your-writes, LEDGER_READS. */
export function readModelProviders(options: ReadModelOptions): Provider[] {
  return [
    { provide: READ_MODELS_DB, useFactory: () => openReadModels(options.file) },
    {
      provide: ProjectionRunner,
      inject: [EVENT_STORE, READ_MODELS_DB, { token: PROJECTION_OBSERVER, optional: true }],
      useFactory: (store: EventStore, db: Database.Database, observer?: ProjectionObserver) => {
        const runnerOptions = {
          onError: (e: unknown) => new Logger('Projections').error(e instanceof Error ? e.stack : String(e)),
          ...(observer ? { observer } : {}),
        };
        // The worker opens its own connections, by file, and finds the projections by name among the service's.
        const inWorker =
          options.thread === 'worker' &&
          store instanceof SqliteEventStore &&
          store.file !== ':memory:' &&
          store.file !== '' &&
          options.projections.every((p) => ALL_PROJECTIONS.includes(p));
        return inWorker
          ? new WorkerProjectionRunner(store, db, options.projections, options.file, runnerOptions)
          : new ProjectionRunner(store, db, options.projections, runnerOptions);
      },
    },
    {
      provide: ReadModels,
      inject: [ProjectionRunner, READ_MODELS_DB],
      useFactory: (runner: ProjectionRunner, db: Database.Database) => new ReadModels(runner, db, options.consistencyTimeoutMs),
    },
    { provide: LEDGER_READS, inject: [EVENT_STORE, ReadModels], useFactory: ledgerReads },
  ];
}

export const READ_MODEL_EXPORTS = [READ_MODELS_DB, ProjectionRunner, ReadModels, LEDGER_READS];
