import { Inject, Logger, Module, type DynamicModule, type Type, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { EventStore } from '#libs/event-store/port.js';
import { openEventStore, readModelsFile, type StoreSettings } from '#libs/event-store/open.js';
import { COMMAND_OBSERVER, ledgerProviders, LEDGER_EXPORTS } from '#libs/ledger/ledger.providers.js';
import type { CommandObserver } from '#libs/ledger/pipeline.js';
import { CHECKPOINT_SIGNER, EVENT_STORE, type Clock } from '#libs/ledger/tokens.js';
import { loadCheckpointSigner } from '#libs/ledger/checkpoint-key.js';
import type { Projection } from '#projections/runner/projection.js';
import { PROJECTION_OBSERVER, READ_MODELS_DB, READ_MODEL_EXPORTS, readModelProviders, type ProjectionThread } from '#projections/runner/providers.js';
import { ProjectionRunner, type ProjectionObserver } from '#projections/runner/runner.js';
import { WorkerProjectionRunner } from '#projections/runner/worker-runner.js';

export interface LedgerCoreOptions extends StoreSettings {
  readonly consistencyTimeoutMs: number;
  readonly projections: readonly Projection[];
  /** Tests inject a clock; production uses the system clock. */
  readonly clock?: Clock;
  /** Tests may hand in an already open store. */
  readonly eventStore?: EventStore;
  /** A module exporting LEDGER_OBSERVER (the app's `TelemetryModule`); without one the core runs uninstrumented. */
  readonly instrumentation?: Type;
  /** Where the read models are applied (`LEDGER_PROJECTION_THREAD`; projections/runner/providers.ts). */
  readonly projectionThread?: ProjectionThread;
}

/**
 * Optional instrumentation of the command pipeline and the projection runner, exported by the module given as
 * `instrumentation` (the app's `TelemetryModule`); without one both run uninstrumented.
 */
export const LEDGER_OBSERVER = Symbol('LEDGER_OBSERVER');
export interface LedgerObserver {
  readonly commands?: CommandObserver;
  readonly projections?: ProjectionObserver;
}

/** A capability module with the ledger core among its imports (the same dynamic module instance for all). */
export function withLedger(module: Type, core: DynamicModule): DynamicModule {
  return { module, imports: [core] };
}

class LedgerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Ledger');
  constructor(
    @Inject(ProjectionRunner) private readonly runner: ProjectionRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODELS_DB) private readonly db: Database.Database,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Read models out of step with this log (ahead of it, or built from another) are reset before anything is served.
    await this.runner.alignWithLog((message) => this.logger.warn(message));
    this.runner.start();
    this.logger.log(`projections following the log from position ${this.runner.position()}${this.runner instanceof WorkerProjectionRunner ? ' in a worker thread' : ''}`);
  }

  async onApplicationShutdown(): Promise<void> {
    // HTTP is already closed by now (Nest closes the server before shutdown hooks): stop following, then close.
    await this.runner.stop();
    await this.store.close();
    this.db.close();
  }
}

/**
 * The service's composition of the command side (libs/ledger) and the read side (projections). Not global: each
 * capability module imports this one dynamic module (`withLedger`), so what a module uses is in its imports.
 */
@Module({})
export class LedgerModule {
  static forRoot(options: LedgerCoreOptions): DynamicModule {
    const observed = (pick: (o: LedgerObserver) => unknown) => ({ inject: [{ token: LEDGER_OBSERVER, optional: true }], useFactory: (o?: LedgerObserver) => (o ? pick(o) : undefined) });
    return {
      module: LedgerModule,
      imports: options.instrumentation ? [options.instrumentation] : [],
      providers: [
        ...ledgerProviders({ openStore: () => options.eventStore ?? openEventStore(options), ...(options.clock ? { clock: options.clock } : {}) }),
        ...readModelProviders({ file: readModelsFile(options.dataDir), projections: options.projections, consistencyTimeoutMs: options.consistencyTimeoutMs, ...(options.projectionThread ? { thread: options.projectionThread } : {}) }),
        { provide: COMMAND_OBSERVER, ...observed((o) => o.commands) },
        { provide: PROJECTION_OBSERVER, ...observed((o) => o.projections) },
        // Created (or read) at start, not at the first request: a bad key file stops the service at once.
        { provide: CHECKPOINT_SIGNER, useFactory: () => loadCheckpointSigner(options.dataDir, process.env, (line) => process.stderr.write(`${line}\n`)) },
        LedgerLifecycle,
      ],
      exports: [...LEDGER_EXPORTS, ...READ_MODEL_EXPORTS, CHECKPOINT_SIGNER],
    };
  }
}
