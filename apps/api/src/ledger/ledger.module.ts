import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { EventStore } from '../../../../libs/event-store/src/port.js';
import type { Projection } from '../../../../projections/runner/projection.js';
import { openReadModels, ProjectionRunner } from '../../../../projections/runner/runner.js';
import { CommandExecutor } from './command-executor.js';
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

class LedgerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Ledger');
  constructor(
    @Inject(ProjectionRunner) private readonly runner: ProjectionRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODELS_DB) private readonly db: Database.Database,
  ) {}

  onApplicationBootstrap(): void {
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
          inject: [EVENT_STORE, READ_MODELS_DB, PROJECTIONS],
          useFactory: (store: EventStore, db: Database.Database, projections: Projection[]) =>
            new ProjectionRunner(store, db, projections, { onError: (e) => new Logger('Projections').error(e instanceof Error ? e.stack : String(e)) }),
        },
        {
          provide: ReadModels,
          inject: [ProjectionRunner, READ_MODELS_DB],
          useFactory: (runner: ProjectionRunner, db: Database.Database) => new ReadModels(runner, db, options.consistencyTimeoutMs),
        },
        {
          provide: CommandExecutor,
          inject: [EVENT_STORE, CLOCK],
          useFactory: (store: EventStore, clock: Clock) => new CommandExecutor(store, clock),
        },
        LedgerLifecycle,
      ],
      exports: [CLOCK, EVENT_STORE, READ_MODELS_DB, ProjectionRunner, ReadModels, CommandExecutor],
    };
  }
}
