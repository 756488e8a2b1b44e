import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import type { Projection } from './projection.js';
import { ProjectionRunner, type RunnerOptions } from './runner.js';
import type { FromWorker, RunnerThreadData, ToWorker } from './worker-messages.js';

/** How long `stop` waits for the worker to finish its batch and close its connections before terminating it. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * The compiled thread next to this module; from the TypeScript sources (the tests), the build's copy. A worker
 * thread runs plain Node, so it always loads compiled JavaScript: `npm test` builds first.
 */
function threadUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/projections/runner/runner-thread.js', here) : new URL('./runner-thread.js', here);
}

/**
 * A `ProjectionRunner` whose following of the log runs in a worker thread (issue #23: the read models off the
 * request's event loop). This thread keeps what serving needs: the checkpoints (sent by the worker after every
 * commit, so `position` and `waitFor` give read-your-writes exactly as before: a checkpoint arrives only once its
 * batch is committed, and this thread's read-model connection sees every committed batch), the runner's error and
 * reconnection, the hooks (metrics). Alignment with the log, resets and `catchUp` still run here, before `start`
 * or after `stop`. The store's appends wake the worker at once (`onAppended`); its own subscription also polls,
 * for appends made by other processes.
 */
export class WorkerProjectionRunner extends ProjectionRunner {
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly sqlite: SqliteEventStore,
    db: Database.Database,
    projections: readonly Projection[],
    private readonly readModelsFile: string,
    options: RunnerOptions & { readonly pollMs?: number } = {},
  ) {
    super(sqlite, db, projections, options);
  }

  /** True while the worker thread runs. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  override start(): void {
    if (this.worker) return;
    this.stopped = false;
    this.failure = undefined;
    this.retrying = false;
    const options = this.options as RunnerOptions & { readonly pollMs?: number };
    const workerData: RunnerThreadData = {
      eventsFile: this.sqlite.file,
      readModelsFile: this.readModelsFile,
      projections: this.projections.map((p) => p.name),
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
    };
    const worker = new Worker(threadUrl(), { workerData });
    this.worker = worker;
    const tell = (message: ToWorker) => worker.postMessage(message);
    this.unsubscribe = this.sqlite.onAppended(() => tell({ type: 'appended' }));
    worker.on('message', (message: FromWorker) => this.receive(message));
    worker.on('error', (error) => {
      this.failure = error;
      this.options.onError?.(error);
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
        this.worker = undefined;
        if (!this.stopped && this.failure === undefined) {
          // Gone without being asked and without an error of its own: readiness must say so.
          this.failure = new Error(`the projection worker exited (code ${code})`);
          this.options.onError?.(this.failure);
        }
        resolve();
      });
    });
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case 'started':
        for (const [name, position] of message.checkpoints) this.checkpoints.set(name, position);
        return;
      case 'batch':
        for (const [name, position] of message.checkpoints) this.checkpoints.set(name, position);
        this.applied({ position: message.position, events: message.events, seconds: message.seconds, lastRecordedAt: message.lastRecordedAt });
        return;
      case 'state': {
        const before = this.failure;
        this.failure = message.error === undefined ? undefined : Object.assign(new Error(message.error.message), { stack: message.error.stack });
        this.retrying = message.reconnecting;
        this.restarts = message.restarts;
        if (this.failure !== undefined && (before === undefined || (before as Error).message !== message.error?.message)) this.options.onError?.(this.failure);
        return;
      }
      case 'stopped':
        return;
    }
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    if (worker) {
      worker.postMessage({ type: 'stop' } satisfies ToWorker);
      const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    await super.stop();
  }

  override reset(names?: readonly string[]): void {
    if (this.worker) throw new Error('stop the projection runner before resetting read models');
    super.reset(names);
  }

  override async catchUp(onProgress?: (position: bigint, head: bigint) => void): Promise<void> {
    if (this.worker) throw new Error('stop the projection runner before catching up in this thread');
    return super.catchUp(onProgress);
  }
}
