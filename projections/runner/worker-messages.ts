/** What the service's thread and the projection worker (runner-thread.ts) say to each other. */

export interface RunnerThreadData {
  readonly eventsFile: string;
  readonly readModelsFile: string;
  /** From ALL_PROJECTIONS, in order, with the version the service runs (the worker refuses another). */
  readonly projections: readonly { readonly name: string; readonly version: number }[];
  readonly batchSize?: number;
  readonly pollMs?: number;
  readonly retry?: { readonly firstMs?: number; readonly maxMs?: number };
}

export type ToWorker = { readonly type: 'appended' } | { readonly type: 'stop' };

export interface ErrorDescription {
  readonly message: string;
  readonly stack: string | undefined;
}

export type FromWorker =
  | { readonly type: 'started'; readonly checkpoints: readonly (readonly [string, bigint])[] }
  | {
      readonly type: 'batch';
      readonly checkpoints: readonly (readonly [string, bigint])[];
      readonly position: bigint;
      readonly events: number;
      readonly seconds: number;
      readonly lastRecordedAt: string;
    }
  | { readonly type: 'state'; readonly error: ErrorDescription | undefined; readonly reconnecting: boolean; readonly restarts: number }
  | { readonly type: 'stopped' };
