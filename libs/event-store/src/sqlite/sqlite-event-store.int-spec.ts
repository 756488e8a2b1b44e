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
