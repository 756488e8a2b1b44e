// Child process for the crash tests: appends to a SQLite store as fast as it can and prints each
// acknowledged append (after the promise resolved, i.e. after the FULL-synced commit) as one JSON line.
// Runs the compiled adapter from dist/, so `npm run build` must have run.
import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '../../dist/libs/event-store/src/sqlite/sqlite-event-store.js';

const [file, streams = '4'] = process.argv.slice(2);
const store = SqliteEventStore.open(file);
const n = Number(streams);
let i = 0;
const writers = Array.from({ length: n }, async (_, w) => {
  for (;;) {
    const k = i++;
    const eventId = randomUUID();
    const commandId = randomUUID();
    const meta = { schemaVersion: 1, actor: { id: 'crash', role: 'admin' }, commandId, correlationId: commandId, causationId: commandId, recordedAt: new Date().toISOString() };
    const r = await store.append(`crash-${w}`, [{ eventId, type: 'Appended', data: { k }, metadata: meta }], 'any');
    process.stdout.write(`${JSON.stringify({ eventId, position: r.position.toString(), k })}\n`);
    await new Promise((res) => setImmediate(res));
  }
});
await Promise.all(writers);
