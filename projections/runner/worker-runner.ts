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
  private restartTimer: NodeJS.Timeout | undefined;
  /** Unasked exits since the last worker that applied a batch (the back-off's exponent). */
  private deaths = 0;
  /** `restarts` when the current worker started: its own count of resubscriptions adds to it. */
  private restartsBefore = 0;
  /** The last position this process's store committed (and answered, or is about to) while the worker ran. */
  private acknowledged = 0n;

  constructor(
    private readonly sqlite: SqliteEventStore,
    db: Database.Database,
    projections: readonly Projection[],
    private readonly readModelsFile: string,
    options: RunnerOptions & { readonly pollMs?: number } = {},
  ) {
    super(sqlite, db, projections, options);
    this.pollMs = options.pollMs;
  }

  /** How often the worker's subscription looks for appends of other processes (the store's default otherwise). */
  private readonly pollMs: number | undefined;

  /** True while the worker thread runs. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /**
   * A query without `minPosition` first waits (briefly, see ReadModels) for the last append acknowledged here, as
   * it would have found it applied with the runner on this thread; not while the worker is down or failing, where
   * such a query answers what the read models hold, as before.
   */
  override freshnessTarget(): bigint | undefined {
    return this.worker !== undefined && this.failure === undefined && this.acknowledged > 0n ? this.acknowledged : undefined;
  }

  override start(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (this.worker) return;
    this.stopped = false;
    this.failure = undefined;
    this.retrying = false;
    this.spawn();
  }

  private spawn(): void {
    const options = this.options;
    const workerData: RunnerThreadData = {
      eventsFile: this.sqlite.file,
      readModelsFile: this.readModelsFile,
      projections: this.projections.map((p) => ({ name: p.name, version: p.version })),
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(this.pollMs === undefined ? {} : { pollMs: this.pollMs }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
    };
    const worker = new Worker(threadUrl(), { workerData });
    // Like the runner's timers: the worker alone does not keep the process alive (stop() ends it in order).
    worker.unref();
    this.worker = worker;
    this.restartsBefore = this.restarts;
    const tell = (message: ToWorker) => worker.postMessage(message);
    this.unsubscribe = this.sqlite.onAppended((position) => {
      if (position > this.acknowledged) this.acknowledged = position;
      tell({ type: 'appended' });
    });
    worker.on('message', (message: FromWorker) => this.receive(message));
    let thrown: unknown;
    worker.on('error', (error) => {
      // Uncaught in the worker (it exits next): the reason its exit gives.
      thrown = error;
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
        this.worker = undefined;
        if (!this.stopped) {
          // Gone unasked (an uncaught error, out of memory): readiness says so until a new worker has started.
          const why = thrown instanceof Error ? `: ${thrown.message}` : thrown !== undefined ? `: ${String(thrown)}` : '';
          this.failure = new Error(`the projection worker exited (code ${code})${why}; starting it again`, thrown === undefined ? undefined : { cause: thrown });
          this.retrying = false;
          this.options.onError?.(this.failure);
          // The runner's own back-off after a store error (`retry`: 200 ms doubling to 30 s by default).
          this.restartTimer = setTimeout(() => {
            this.restartTimer = undefined;
            if (this.stopped || this.worker) return;
            this.restarts += 1;
            this.spawn();
          }, this.backoffMs(this.deaths++));
          this.restartTimer.unref();
        }
        resolve();
      });
    });
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case 'started':
        for (const [name, position] of message.checkpoints) this.checkpoints.set(name, position);
        this.failure = undefined;
        // A batch committed by a worker stopped before it could say so (the stop timeout) counts from here.
        this.wake();
        return;
      case 'batch':
        for (const [name, position] of message.checkpoints) this.checkpoints.set(name, position);
        this.deaths = 0;
        this.applied({ position: message.position, events: message.events, seconds: message.seconds, lastRecordedAt: message.lastRecordedAt });
        return;
      case 'state': {
        const before = this.failure instanceof Error ? this.failure.message : this.failure === undefined ? undefined : String(this.failure);
        this.failure = message.error === undefined ? undefined : Object.assign(new Error(message.error.message), { stack: message.error.stack });
        this.retrying = message.reconnecting;
        this.restarts = this.restartsBefore + message.restarts;
        // Told once per error the worker's runner meets, not at every state message repeating it.
        if (message.error !== undefined && before !== message.error.message) this.options.onError?.(this.failure);
        return;
      }
      case 'stopped':
        return;
    }
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
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
