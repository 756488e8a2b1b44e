// Child process for the group-commit crash test: 64 writers append concurrently (so appends share
// transactions) until the process is killed, and print each acknowledged append (after its promise
// resolved, i.e. after the FULL-synced group commit) as one JSON line. Writers 0-47 own a stream each and
// append with the exact revision they last got; writers 48-63 share four streams with 'any'.
// Runs the compiled adapter from dist/, so `npm run build` must have run.
import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';

const [file, writersArg = '64'] = process.argv.slice(2);
const store = SqliteEventStore.open(file);
const writers = Number(writersArg);
const owned = Math.floor((writers * 3) / 4);
let k = 0;
function event(type) {
  const commandId = randomUUID();
  const metadata = { schemaVersion: 1, actor: { id: 'crash', role: 'admin' }, commandId, correlationId: commandId, causationId: commandId, recordedAt: new Date().toISOString() };
  return { eventId: randomUUID(), type, data: { k: k++ }, metadata };
}
await Promise.all(
  Array.from({ length: writers }, async (_, w) => {
    const own = w < owned;
    const stream = own ? `own-${w}` : `shared-${w % 4}`;
    let expected = own ? 'no_stream' : 'any';
    for (let n = 0; ; n++) {
      const events = Array.from({ length: 1 + ((w + n) % 3) }, () => event('Appended'));
      const r = await store.append(stream, events, expected);
      if (own) expected = r.nextRevision;
      const { commits } = store.groupCommits;
      process.stdout.write(`${JSON.stringify({ stream, ids: events.map((e) => e.eventId), position: r.position.toString(), revision: r.nextRevision.toString(), commits })}\n`);
    }
  }),
);
