import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyLog } from '../integrity.js';
import { eventLeafHash } from '../merkle.js';
import { newEvent } from '../testing/fixtures.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { verifySqliteFile } from './verify-file.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'ledger-verify-'));
  dirs.push(d);
  return join(d, 'events.sqlite');
}

/** A closed store of `n` events over three streams (data `{ i, amountMinor }`); the same content every time. */
async function written(n = 30, edit?: { at: number; amountMinor: number }): Promise<string> {
  const file = tempFile();
  const store = SqliteEventStore.open(file);
  for (let i = 0; i < n; i++) {
    const amountMinor = edit?.at === i ? edit.amountMinor : 100 * i;
    const meta = { commandId: `c${i}`, recordedAt: '2026-01-01T00:00:00.000Z' };
    await store.append(`deal-${i % 3}`, [{ ...newEvent('Recorded', { i, amountMinor }, meta), eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }], 'any');
  }
  await store.close();
  return file;
}

/** Opens the file as an attacker would: plain SQLite, triggers dropped. */
function tamper(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  db.exec(`DROP TRIGGER IF EXISTS events_append_only_update; DROP TRIGGER IF EXISTS events_append_only_delete;
           DROP TRIGGER IF EXISTS merkle_runs_append_only_update; DROP TRIGGER IF EXISTS merkle_runs_append_only_delete;
           DROP TRIGGER IF EXISTS merkle_subtrees_append_only_delete;`);
  for (const stmt of sql.split(';').filter((s) => s.trim())) db.prepare(stmt).run(...params.splice(0, (stmt.match(/\?/g) ?? []).length));
  db.close();
}

describe('verify of a SQLite log file: each attack is noticed, read-only', () => {
  it('passes an untouched log, with the same tree head as the store serves, and writes nothing', async () => {
    const file = await written();
    const before = readFileSync(file);
    const mtime = statSync(file).mtimeMs;
    const files = readdirSync(join(file, '..')).sort();
    const r = verifySqliteFile(file);
    expect(r).toMatchObject({ ok: true, checkedEvents: 30, size: 30, position: 30n, storedTree: 'present' });
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(readdirSync(join(file, '..')).sort()).toEqual(files);
    const store = SqliteEventStore.open(file);
    expect(r.rootHash).toBe((await store.merkle.treeHead()).rootHash);
    expect(verifySqliteFile(file, { size: 12, rootHash: (await store.merkle.treeHead(12)).rootHash })).toMatchObject({ ok: true, rootMatches: true });
    await store.close();
  });

  it('reordered: two events of different streams swapped (positions are hashed into the tree)', async () => {
    const file = await written();
    // Positions 5 (deal-1) and 6 (deal-2): each stream's own chain still holds.
    tamper(file, 'UPDATE events SET position = -5 WHERE position = 5; UPDATE events SET position = 5 WHERE position = 6; UPDATE events SET position = 6 WHERE position = -5');
    const r = verifySqliteFile(file);
    expect(r).toMatchObject({ ok: false, firstInvalidPosition: 5n });
    // Leaves are read from the events: the first stored node over the swapped pair no longer matches.
    expect(r.reason).toMatch(/node at level 1, index 2 does not match the events under it \(positions 5–6\).*reordered/);
  });

  it('deleted last: the tree still records it; with the tree cut too, a kept head of the old size notices', async () => {
    const file = await written();
    const kept = verifySqliteFile(file);
    tamper(file, 'DELETE FROM events WHERE position = 30');
    expect(verifySqliteFile(file)).toMatchObject({ ok: false, firstInvalidPosition: 30n, reason: expect.stringMatching(/records 30 events .* ends at 29: events were deleted/) });
    tamper(file, 'UPDATE merkle_runs SET leaves = 29 WHERE leaf_start = 0; DELETE FROM merkle_subtrees WHERE level = 1 AND idx = 14');
    // The tree cut too: its record of the last leaf still says 30 leaves.
    expect(verifySqliteFile(file)).toMatchObject({ ok: false, firstInvalidPosition: 30n, reason: expect.stringMatching(/last leaf is recorded as leaf 29 but the tree has 29 leaves/) });
    // That record deleted: missing is damage too.
    tamper(file, 'DROP TRIGGER IF EXISTS merkle_last_leaf_append_only_delete; DELETE FROM merkle_last_leaf');
    expect(verifySqliteFile(file)).toMatchObject({ ok: false, reason: expect.stringMatching(/record of its last leaf is missing/) });
    // Rewritten to match the cut tree as well: a self-consistent shorter log, which only a kept head notices.
    const db = new Database(file, { readonly: true });
    const hash29 = db.prepare<[], string>('SELECT hash FROM events WHERE position = 29').pluck().get()!;
    db.close();
    tamper(file, 'INSERT INTO merkle_last_leaf (id, leaf, hash) VALUES (1, 28, ?)', eventLeafHash(29n, hash29));
    expect(verifySqliteFile(file)).toMatchObject({ ok: true });
    const r = verifySqliteFile(file, { size: kept.size, rootHash: kept.rootHash });
    expect(r).toMatchObject({ ok: false, firstInvalidPosition: 30n, rootMatches: false, reason: expect.stringMatching(/29 events, fewer than the 30 of the kept tree head/) });
  });

  it('truncated file: SQLITE_CORRUPT is a failed verify with a one-line reason, not an exception', async () => {
    const file = await written(400);
    truncateSync(file, Math.floor(statSync(file).size * 0.6));
    const r = verifySqliteFile(file);
    expect(r.ok).toBe(false);
    expect(r.firstInvalidPosition).toBeGreaterThan(0n);
    expect(r.reason).toMatch(/^the file is damaged: SQLITE_(CORRUPT|NOTADB)/);
    expect(r.reason).not.toMatch(/\n/);
  });

  it('zero-byte or missing file: the log is missing; nothing is created', async () => {
    const file = tempFile();
    writeFileSync(file, '');
    expect(verifySqliteFile(file)).toMatchObject({ ok: false, firstInvalidPosition: 1n, reason: expect.stringMatching(/empty \(0 bytes\)/) });
    expect(statSync(file).size).toBe(0);
    const missing = join(file, '..', 'nothing.sqlite');
    expect(verifySqliteFile(missing)).toMatchObject({ ok: false, firstInvalidPosition: 1n, reason: expect.stringMatching(/no event log/) });
    expect(existsSync(missing)).toBe(false);
    const other = join(file, '..', 'other.sqlite');
    new Database(other).exec('CREATE TABLE t (x)');
    expect(verifySqliteFile(other)).toMatchObject({ ok: false, reason: expect.stringMatching(/without an events table/) });
  });

  it('duplicate key: the hash covers the value JSON.parse reads, SQLite reads the other one', async () => {
    const file = await written();
    const db = new Database(file, { readonly: true });
    const data = db.prepare<[], string>('SELECT data FROM events WHERE position = 7').pluck().get()!;
    db.close();
    const forged = data.replace('"amountMinor":600', '"amountMinor":1,"amountMinor":600');
    expect(forged).not.toBe(data);
    tamper(file, 'UPDATE events SET data = ? WHERE position = 7', forged);
    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT json_extract(data, '$.amountMinor') FROM events WHERE position = 7").pluck().get()).toBe(1);
    check.close();
    const store = SqliteEventStore.open(copyOf(file));
    expect((await verifyLog(store)).ok).toBe(true); // what the adapter-level check alone could see
    await store.close();
    expect(verifySqliteFile(file)).toMatchObject({ ok: false, firstInvalidPosition: 7n, reason: expect.stringMatching(/not canonical \(a duplicate key\)/) });
  });

  it('a chain and tree recomputed after an edit: only a kept head notices, and it does', async () => {
    const original = await written();
    const kept = verifySqliteFile(original, { size: 20 });
    const head20 = kept.rootHash;
    const at20 = verifySqliteFile(original, { position: 20n }).rootHash;
    expect(head20).not.toBe(at20); // `size` checks the whole log; the root of the first 20 comes from `position`
    // The attacker rewrites event 11's amount and recomputes every hash and the tree: a self-consistent log.
    const forged = await written(30, { at: 10, amountMinor: 1 });
    expect(verifySqliteFile(forged)).toMatchObject({ ok: true });
    const r = verifySqliteFile(forged, { size: 20, rootHash: at20 });
    expect(r).toMatchObject({ ok: false, rootMatches: false, reason: expect.stringMatching(/first 20 events differs from the kept tree head/) });
    expect(verifySqliteFile(original, { size: 20, rootHash: at20 })).toMatchObject({ ok: true, rootMatches: true });
  });

  it('the last event of an odd-sized log edited with its hash recomputed, the tree untouched: the recorded last leaf notices', async () => {
    // 31 events: the last leaf is under no stored subtree, so only `merkle_last_leaf` covers it (found in review).
    const file = await written(31);
    const forged = await written(31, { at: 30, amountMinor: 999_999 });
    const row = new Database(forged, { readonly: true }).prepare<[], { data: string; hash: string }>('SELECT data, hash FROM events WHERE position = 31').get()!;
    tamper(file, 'UPDATE events SET data = ?, hash = ? WHERE position = 31', row.data, row.hash);
    const r = verifySqliteFile(file);
    expect(r).toMatchObject({ ok: false, firstInvalidPosition: 31n, reason: expect.stringMatching(/last event \(position 31\) is not the one the Merkle tree recorded as its last leaf/) });
    // An even-sized log is covered by its stored subtrees as before.
    const even = await written(30);
    const forgedEven = await written(30, { at: 29, amountMinor: 999_999 });
    const evenRow = new Database(forgedEven, { readonly: true }).prepare<[], { data: string; hash: string }>('SELECT data, hash FROM events WHERE position = 30').get()!;
    tamper(even, 'UPDATE events SET data = ?, hash = ? WHERE position = 30', evenRow.data, evenRow.hash);
    expect(verifySqliteFile(even)).toMatchObject({ ok: false, firstInvalidPosition: 29n });
  });

  it('an edited inner node of the stored tree (which proofs are served from) is damage', async () => {
    const file = await written();
    const db = new Database(file);
    db.exec('DROP TRIGGER merkle_subtrees_append_only_update');
    db.prepare('UPDATE merkle_subtrees SET hash = zeroblob(32) WHERE level = 2 AND idx = 1').run();
    db.close();
    // Leaves 4-7 (positions 5-8) are under it: without stored leaves, 5 is the first event that can be wrong.
    expect(verifySqliteFile(file)).toMatchObject({ ok: false, firstInvalidPosition: 5n, reason: expect.stringMatching(/node at level 2, index 1 does not match the events under it \(positions 5–8\)/) });
  });

  it('a store written before the tree verifies (the tree is computed when the service next opens it)', () => {
    const file = tempFile();
    copyFileSync(new URL('./testdata/v1-events.sqlite', import.meta.url), file);
    expect(verifySqliteFile(file)).toMatchObject({ ok: true, checkedEvents: 37, storedTree: 'absent' });
  });
});

function copyOf(file: string): string {
  const to = tempFile();
  copyFileSync(file, to);
  return to;
}
