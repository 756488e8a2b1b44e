// Child process for the projection crash test: runs the projection runner over an existing log with small
// batches and reports each committed batch, until it is killed.
import { SqliteEventStore } from '../../dist/libs/event-store/src/sqlite/sqlite-event-store.js';
import { openReadModels, ProjectionRunner } from '../../dist/projections/runner/runner.js';
import { countingProjection } from './counting-projection.mjs';

const [eventsFile, readFile] = process.argv.slice(2);
const store = SqliteEventStore.open(eventsFile);
const db = openReadModels(readFile);
const runner = new ProjectionRunner(store, db, [countingProjection], {
  batchSize: 25,
  onBatch: (position) => process.stdout.write(`${position}\n`),
});
runner.start();
