import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { EventStore } from '#libs/event-store/port.js';
import type { Projection } from '#projections/runner/projection.js';
import { openReadModels, ProjectionRunner, type ProjectionObserver } from '#projections/runner/runner.js';
import { CommandExecutor, type CommandObserver } from './command-executor.js';
import { openEventStore, readModelsFile, type StoreSettings } from './open-store.js';
import { ReadModels } from './read-models.js';
import { CLOCK, EVENT_STORE, PROJECTIONS, READ_MODELS_DB, systemClock, type Clock } from './tokens.js';

export interface LedgerCoreOptions extends StoreSettings {
  readonly consistencyTimeoutMs: number;
  readonly projections: readonly Projection[];
  /** Tests inject a clock; production uses the system clock. */
  readonly clock?: Clock;
  /** Tests may hand in an already open store. */
  readonly eventStore?: EventStore;
}

/**
 * Optional instrumentation of the command pipeline and the projection runner, provided by a global module
 * (the metrics module); without a provider both run uninstrumented.
 */
export const LEDGER_OBSERVER = Symbol('LEDGER_OBSERVER');
export interface LedgerObserver {
  readonly commands?: CommandObserver;
  readonly projections?: ProjectionObserver;
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
    this.logger.log(`projections following the log from position ${this.runner.position()}`);
  }

  async onApplicationShutdown(): Promise<void> {
    // HTTP is already closed by now (Nest closes the server before shutdown hooks): stop following, then close.
    await this.runner.stop();
    await this.store.close();
    this.db.close();
  }
}

@Global()
@Module({})
export class LedgerModule {
  static forRoot(options: LedgerCoreOptions): DynamicModule {
    return {
      module: LedgerModule,
      providers: [
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: EVENT_STORE, useFactory: () => options.eventStore ?? openEventStore(options) },
        { provide: READ_MODELS_DB, useFactory: () => openReadModels(readModelsFile(options.dataDir)) },
        { provide: PROJECTIONS, useValue: options.projections },
        {
          provide: ProjectionRunner,
          inject: [EVENT_STORE, READ_MODELS_DB, PROJECTIONS, { token: LEDGER_OBSERVER, optional: true }],
          useFactory: (store: EventStore, db: Database.Database, projections: Projection[], observer?: LedgerObserver) =>
            new ProjectionRunner(store, db, projections, {
              onError: (e) => new Logger('Projections').error(e instanceof Error ? e.stack : String(e)),
              ...(observer?.projections ? { observer: observer.projections } : {}),
            }),
        },
        {
          provide: ReadModels,
          inject: [ProjectionRunner, READ_MODELS_DB],
          useFactory: (runner: ProjectionRunner, db: Database.Database) => new ReadModels(runner, db, options.consistencyTimeoutMs),
        },
        {
          provide: CommandExecutor,
          inject: [EVENT_STORE, CLOCK, { token: LEDGER_OBSERVER, optional: true }],
          useFactory: (store: EventStore, clock: Clock, observer?: LedgerObserver) => new CommandExecutor(store, clock, observer?.commands),
        },
        LedgerLifecycle,
      ],
      exports: [CLOCK, EVENT_STORE, READ_MODELS_DB, ProjectionRunner, ReadModels, CommandExecutor],
    };
  }
}
