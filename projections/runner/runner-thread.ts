/**
 * The projection worker's thread (started by `WorkerProjectionRunner`): its own connections to the log and to the
 * read models, and an ordinary `ProjectionRunner` following the log with them. The service's thread keeps serving
 * HTTP and answering queries from its own read-model connection; this thread tells it where the checkpoints are
 * after every commit (`batch`), and how the runner is doing (`state`).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { ALL_PROJECTIONS } from '../index.js';
import { openReadModels, ProjectionRunner } from './runner.js';
import type { FromWorker, RunnerThreadData, ToWorker } from './worker-messages.js';

if (parentPort === null) throw new Error('runner-thread.js runs as a worker thread (WorkerProjectionRunner)');
const port: MessagePort = parentPort;
const data = workerData as RunnerThreadData;
const post = (message: FromWorker): void => port.postMessage(message);
const described = (error: unknown) => (error === undefined ? undefined : { message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined });

const projections = data.projections.map(({ name, version }) => {
  const p = ALL_PROJECTIONS.find((q) => q.name === name);
  if (p === undefined) throw new Error(`unknown projection ${name}`);
  // Another build than the service's (a test run on sources newer than dist/): it would reset the read model.
  if (p.version !== version) throw new Error(`projection ${name} is version ${p.version} in the worker's build and ${version} in the service: build again (npm run build)`);
  return p;
});
const store = SqliteEventStore.open(data.eventsFile, data.pollMs === undefined ? {} : { pollMs: data.pollMs });
const db = openReadModels(data.readModelsFile);
const runner: ProjectionRunner = new ProjectionRunner(store, db, projections, {
  ...(data.batchSize === undefined ? {} : { batchSize: data.batchSize }),
  ...(data.retry === undefined ? {} : { retry: data.retry }),
  observer: {
    batchApplied(batch) {
      post({ type: 'batch', checkpoints: projections.map((p) => [p.name, runner.position(p.name)]), ...batch });
    },
    // The runner's error and reconnection, whenever they change (a recovery clears the error without a batch).
    stateChanged() {
      post({ type: 'state', error: described(runner.error), reconnecting: runner.reconnecting, restarts: runner.restarts });
    },
  },
});

port.on('message', (message: ToWorker) => {
  if (message.type === 'appended') store.appendedElsewhere();
  else if (message.type === 'stop') void stop();
});

async function stop(): Promise<void> {
  await runner.stop();
  await store.close();
  db.close();
  post({ type: 'stopped' });
  port.close();
}

runner.start();
post({ type: 'started', checkpoints: projections.map((p) => [p.name, runner.position(p.name)]) });
