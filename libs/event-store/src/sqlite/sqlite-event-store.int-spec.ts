import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLog } from '../integrity.js';
import { eventStoreContract } from '../testing/contract.js';
import { newEvent, uniqueStream } from '../testing/fixtures.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'ledger-store-'));
  dirs.push(d);
  return join(d, 'events.sqlite');
}

// One file shared by the stores a test opens, like the server and the CLI sharing a data directory.
let file = tempFile();
beforeEach(() => {
  file = tempFile();
});
eventStoreContract('SQLite', async () => SqliteEventStore.open(file, { pollMs: 20 }));

describe('SQLite adapter specifics', () => {
  it('runs WAL with synchronous=FULL', async () => {
    const store = SqliteEventStore.open(tempFile());
    expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.database.pragma('synchronous', { simple: true })).toBe(2);
    await store.close();
  });

  it('refuses UPDATE and DELETE on the log', async () => {
    const store = SqliteEventStore.open(tempFile());
    await store.append(uniqueStream(), [newEvent('A')], 'no_stream');
    expect(() => store.database.prepare("UPDATE events SET data = '{}'").run()).toThrow(/append-only/);
    expect(() => store.database.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    await store.close();
  });

  it('verify names the first tampered position once the trigger is dropped and a row altered', async () => {
    const store = SqliteEventStore.open(tempFile());
    const s = uniqueStream();
    await store.append(s, [newEvent('A', { v: 1 }), newEvent('B', { v: 2 }), newEvent('C', { v: 3 })], 'no_stream');
    const target = (await store.append(uniqueStream(), [newEvent('D', { amountMinor: 100 })], 'no_stream')).position;
    await store.append(s, [newEvent('E')], 'any');
    expect((await verifyLog(store)).ok).toBe(true);
    store.database.exec('DROP TRIGGER events_append_only_update');
    store.database.prepare(`UPDATE events SET data = '{"amountMinor":1}' WHERE position = ?`).run(target);
    const v = await verifyLog(store);
    expect(v.ok).toBe(false);
    expect(v.firstInvalidPosition).toBe(target);
    expect(v.reason).toMatch(/hash/);
    await store.close();
  });

  it('verify notices a rewritten chain: a hash recomputed after tampering breaks its successor', async () => {
    const store = SqliteEventStore.open(tempFile());
    const s = uniqueStream();
    const r = await store.append(s, [newEvent('A', { v: 1 }), newEvent('B', { v: 2 })], 'no_stream');
    store.database.exec('DROP TRIGGER events_append_only_update');
    store.database.prepare(`UPDATE events SET hash = ? WHERE position = ?`).run('f'.repeat(64), r.events[0]!.position);
    const v = await verifyLog(store);
    expect(v.firstInvalidPosition).toBe(r.events[0]!.position);
    await store.close();
  });

  it('remembers stream heads between appends, and forgets them when another connection writes', async () => {
    const f = tempFile();
    const a = SqliteEventStore.open(f);
    const b = SqliteEventStore.open(f);
    const s = uniqueStream();
    await a.append(s, [newEvent('A1')], 'no_stream');
    await a.append(s, [newEvent('A2')], 0n); // A now holds the head (revision 1) in memory
    await b.append(s, [newEvent('B1')], 1n); // another connection moves it to 2
    // A must not append on its remembered head: it expects 1 and is told the stream is at 2...
    await expect(a.append(s, [newEvent('A3')], 1n)).rejects.toMatchObject({ name: 'WrongExpectedVersionError' });
    // ...and, appending on the real head, continues B's hash, not its own last one.
    const r = await a.append(s, [newEvent('A3')], 2n);
    expect(r.events[0]!.revision).toBe(3n);
    expect((await verifyLog(a)).ok).toBe(true);
    await a.close();
    await b.close();
  });

  it('a refused multi-event append leaves no head behind: the next append sees the stream as it was', async () => {
    const store = SqliteEventStore.open(tempFile());
    const s = uniqueStream();
    const taken = newEvent('Taken');
    await store.append(uniqueStream(), [taken], 'no_stream');
    await store.append(s, [newEvent('First')], 'no_stream');
    // The second event's id is stored already: the savepoint rolls the first one back too.
    const refused = store.append(s, [newEvent('Second'), { ...newEvent('Dup'), eventId: taken.eventId }], 0n);
    // Queued behind it in the same group commit, expecting the head as it was before the refused append.
    const next = store.append(s, [newEvent('Next')], 0n);
    await expect(refused).rejects.toMatchObject({ name: 'DuplicateEventIdError' });
    await expect(next).resolves.toMatchObject({ nextRevision: 1n });
    expect((await store.readStream(s)).map((e) => e.type)).toEqual(['First', 'Next']);
    expect((await verifyLog(store)).ok).toBe(true);
    await store.close();
  });

  it('a second process-level handle on the same file sees appends through its subscription', async () => {
    const f = tempFile();
    const writer = SqliteEventStore.open(f);
    const reader = SqliteEventStore.open(f, { pollMs: 10 });
    const s = uniqueStream();
    const sub = reader.subscribe(0n, { streamPrefixes: [s] });
    const got = (async () => {
      for await (const e of sub) return e.type;
      return undefined;
    })();
    await writer.append(s, [newEvent('FromElsewhere')], 'no_stream');
    await expect(got).resolves.toBe('FromElsewhere');
    await sub.close();
    await writer.close();
    await reader.close();
  });
});
