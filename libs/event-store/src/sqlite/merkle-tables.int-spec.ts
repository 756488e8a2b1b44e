import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { verifyLog } from '../integrity.js';
import { CompactRange, eventLeafHash, rootFromInclusionProof, verifyConsistency } from '../merkle.js';
import { ScanningMerkleLog } from '../merkle-log.js';
import { collect, newEvent, uniqueStream } from '../testing/fixtures.js';
import { TreeDamagedError } from './merkle-tables.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { verifySqliteFile } from './verify-file.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Written by the store as it was before the Merkle tree (37 events over 5 streams, positions 1-37), checked in. */
const V1_FIXTURE = join(here, 'testdata', 'v1-events.sqlite');

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'ledger-tree-'));
  dirs.push(d);
  return join(d, 'events.sqlite');
}

const hex = (s: string) => Buffer.from(s, 'hex');

/** The tree tables as v2.0 wrote them: every leaf stored (leaf, position, hash), nodes keyed (level, idx). */
const V2_0_TREE_SCHEMA = `
CREATE TABLE merkle_leaves (leaf INTEGER PRIMARY KEY, position INTEGER NOT NULL UNIQUE, hash BLOB NOT NULL);
CREATE TABLE merkle_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TRIGGER merkle_leaves_append_only_update BEFORE UPDATE ON merkle_leaves
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: UPDATE refused'); END;
CREATE TRIGGER merkle_leaves_append_only_delete BEFORE DELETE ON merkle_leaves
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: DELETE refused'); END;
CREATE TRIGGER merkle_nodes_append_only_update BEFORE UPDATE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: UPDATE refused'); END;
CREATE TRIGGER merkle_nodes_append_only_delete BEFORE DELETE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: DELETE refused'); END;
`;

/**
 * A store file as v2.0 left it: the v1 fixture's events with the tree v2.0 stored beside them, written here
 * with plain SQLite. Returns the root after every size, computed as it was written.
 */
function writtenByV2_0(file: string): Buffer[] {
  copyFileSync(V1_FIXTURE, file);
  return openedByV2_0(file);
}

/** What v2.0 did on opening a file without its tables: created them and computed the tree over every event. */
function openedByV2_0(file: string): Buffer[] {
  const db = new Database(file);
  db.exec(V2_0_TREE_SCHEMA);
  const events = db.prepare<[], { position: bigint; hash: string }>('SELECT position, hash FROM events ORDER BY position').safeIntegers(true).all();
  const leaf = db.prepare('INSERT INTO merkle_leaves (leaf, position, hash) VALUES (?, ?, ?)');
  const node = db.prepare('INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)');
  const range = new CompactRange();
  const roots = [range.root()];
  db.transaction(() => {
    for (const e of events) {
      const h = eventLeafHash(e.position, e.hash);
      leaf.run(range.size, e.position, h);
      for (const n of range.push(h)) node.run(n.level, n.index, n.hash);
      roots.push(range.root());
    }
  })();
  db.close();
  return roots;
}

function tablesOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'merkle%' ORDER BY name").pluck().all();
  } finally {
    db.close();
  }
}

describe('SQLite store: the Merkle tree kept with the log', () => {
  it('adds a leaf per event in the append transaction, under concurrent group commits, equal to the tree rebuilt from the log', async () => {
    const store = SqliteEventStore.open(tempFile());
    const streams = Array.from({ length: 8 }, () => uniqueStream());
    await Promise.all(
      Array.from({ length: 64 }, async (_, w) => {
        for (let i = 0; i < 5; i++) await store.append(streams[w % 8]!, [newEvent('A', { w, i }), ...(w % 3 === 0 ? [newEvent('B')] : [])], 'any');
      }),
    );
    // A refused append in the same groups leaves no leaf behind.
    await expect(store.append(streams[0]!, [newEvent('C')], 'no_stream')).rejects.toThrow();
    const head = await store.merkle.treeHead();
    const count = (await collect(store.readAll())).length;
    expect(head.size).toBe(count);
    expect(head.position).toBe(await store.headPosition());
    const scanned = new ScanningMerkleLog(store);
    expect(await scanned.treeHead()).toEqual(head);
    for (const size of [1, 2, 7, 64, 100, count - 1]) expect(await store.merkle.treeHead(size)).toEqual(await scanned.treeHead(size));
    expect(store.groupCommits.commits).toBeLessThan(count);
    await store.close();
  });

  it('answers inclusion and consistency proofs that verify against its heads', async () => {
    const store = SqliteEventStore.open(tempFile());
    const positions: bigint[] = [];
    for (let i = 0; i < 45; i++) positions.push((await store.append(uniqueStream(), [newEvent('A', { i })], 'no_stream')).position);
    const events = await collect(store.readAll());
    for (const size of [1, 13, 32, 45]) {
      const root = hex((await store.merkle.treeHead(size)).rootHash);
      for (const at of [0, Math.floor(size / 2), size - 1]) {
        const p = await store.merkle.inclusionProof(positions[at]!, size);
        expect(p.leafIndex).toBe(at);
        expect(p.leafHash).toBe(eventLeafHash(events[at]!.position, events[at]!.hash).toString('hex'));
        expect(rootFromInclusionProof(p.leafIndex, size, hex(p.leafHash), p.auditPath.map(hex))?.equals(root)).toBe(true);
      }
      for (const from of [1, 5, size]) {
        if (from > size) continue;
        const c = await store.merkle.consistencyProof(from, 45);
        expect(verifyConsistency(from, 45, c.proof.map(hex), hex((await store.merkle.treeHead(from)).rootHash), hex((await store.merkle.treeHead()).rootHash))).toBe(true);
      }
    }
    await expect(store.merkle.treeHead(46)).rejects.toThrow(RangeError);
    await expect(store.merkle.inclusionProof(positions[40]!, 40)).rejects.toThrow(RangeError);
    expect(() => store.database.prepare('DELETE FROM merkle_runs').run()).toThrow(/append-only/);
    expect(() => store.database.prepare('UPDATE merkle_runs SET leaves = leaves - 1').run()).toThrow(/append-only/);
    expect(() => store.database.prepare('UPDATE merkle_subtrees SET hash = x\'00\'').run()).toThrow(/append-only/);
    await store.close();
  });

  it('opens a store written by the previous version: the migration computes the tree once, says so, and the log still verifies', async () => {
    const file = tempFile();
    copyFileSync(V1_FIXTURE, file);
    const said: string[] = [];
    const store = SqliteEventStore.open(file, { log: (m) => said.push(m) });
    expect(store.treeMigration?.leavesAdded).toBe(37);
    expect(said.join('\n')).toMatch(/computing the Merkle tree for 37 events stored without it.*\n.*computed for 37 events/);
    expect(await verifyLog(store)).toMatchObject({ ok: true, checkedEvents: 37 });
    const head = await store.merkle.treeHead();
    expect(head).toEqual(await new ScanningMerkleLog(store).treeHead());
    expect(head.size).toBe(37);
    // Appends continue the same tree.
    await store.append('partner-P0', [newEvent('After')], 'any');
    expect((await store.merkle.treeHead()).size).toBe(38);
    expect(await store.merkle.treeHead()).toEqual(await new ScanningMerkleLog(store).treeHead());
    await store.close();
    const again = SqliteEventStore.open(file, { log: (m) => said.push(m) });
    expect(again.treeMigration).toBeUndefined();
    await again.close();
  });

  it('imports keep the tree, and another process\'s appends are picked up by the next group', async () => {
    const a = SqliteEventStore.open(tempFile());
    for (let i = 0; i < 5; i++) await a.append(uniqueStream(), [newEvent('A')], 'no_stream');
    const b1 = SqliteEventStore.open(a.file);
    const b2 = SqliteEventStore.open(a.file);
    await b1.append(uniqueStream(), [newEvent('B')], 'no_stream');
    await b2.append(uniqueStream(), [newEvent('C')], 'no_stream');
    await b1.append(uniqueStream(), [newEvent('D')], 'no_stream');
    expect(await b1.merkle.treeHead()).toEqual(await new ScanningMerkleLog(b1).treeHead());
    const target = SqliteEventStore.open(tempFile());
    for await (const e of b1.readAll()) await target.importRecorded(e);
    expect(await target.merkle.treeHead()).toEqual(await b1.merkle.treeHead());
    for (const s of [a, b1, b2, target]) await s.close();
  });

  it('opens a store written by v2.0 (stored leaves): converts it once, says so, and keeps the same tree heads and proofs', async () => {
    const file = tempFile();
    const roots = writtenByV2_0(file);
    // Before the conversion, verify reads the v2.0 layout (read-only).
    expect(verifySqliteFile(file)).toMatchObject({ ok: true, checkedEvents: 37, storedTree: 'present', rootHash: roots[37]!.toString('hex') });
    expect(tablesOf(file)).toEqual(['merkle_leaves', 'merkle_nodes']);
    const said: string[] = [];
    const store = SqliteEventStore.open(file, { log: (m) => said.push(m) });
    expect(store.treeConversion?.leavesAdded).toBe(37);
    expect(store.treeMigration).toBeUndefined();
    expect(said.join('\n')).toMatch(/Merkle tree converted to leaves read from the events \(37 leaves checked/);
    expect(tablesOf(file)).toEqual(['merkle_last_leaf', 'merkle_runs', 'merkle_subtrees']);
    expect(store.database.prepare('SELECT leaf_start, position_start, leaves FROM merkle_runs').raw().all()).toEqual([[0, 1, 37]]);
    // The last leaf (of an odd-sized tree: under no stored subtree) recorded from the checked stored leaf.
    expect(store.database.prepare('SELECT leaf FROM merkle_last_leaf').pluck().all()).toEqual([36]);
    for (let size = 0; size <= 37; size++) expect((await store.merkle.treeHead(size)).rootHash).toBe(roots[size]!.toString('hex'));
    const scanned = new ScanningMerkleLog(store);
    for (const [from, to] of [[1, 37], [5, 20], [16, 37], [36, 37]] as const) expect(await store.merkle.consistencyProof(from, to)).toEqual(await scanned.consistencyProof(from, to));
    for (const position of [1n, 17n, 37n]) expect(await store.merkle.inclusionProof(position, 37)).toEqual(await scanned.inclusionProof(position, 37));
    // Appends continue the same tree.
    await store.append('partner-P0', [newEvent('After')], 'any');
    expect(await store.merkle.treeHead()).toEqual(await scanned.treeHead());
    expect((await store.merkle.treeHead()).size).toBe(38);
    await store.close();
    expect(verifySqliteFile(file)).toMatchObject({ ok: true, checkedEvents: 38, storedTree: 'present' });
    const again = SqliteEventStore.open(file, { log: (m) => said.push(m) });
    expect(again.treeConversion).toBeUndefined();
    expect(again.treeMigration).toBeUndefined();
    const head = await again.merkle.treeHead();
    await again.close();
    // Rolled back to v2.0 (which recomputes its own tables) and forward again: converted again, same tree.
    openedByV2_0(file);
    const forward = SqliteEventStore.open(file, { log: (m) => said.push(m) });
    expect(forward.treeConversion?.leavesAdded).toBe(38);
    expect(await forward.merkle.treeHead()).toEqual(head);
    await forward.close();
    expect(tablesOf(file)).toEqual(['merkle_last_leaf', 'merkle_runs', 'merkle_subtrees']);
  });

  it('refuses to convert a v2.0 tree whose stored leaf does not match its event, and leaves the tree tables as they were', () => {
    const file = tempFile();
    writtenByV2_0(file);
    const db = new Database(file);
    db.exec('DROP TRIGGER events_append_only_update');
    db.prepare("UPDATE events SET hash = ? WHERE position = 9").run('0'.repeat(64));
    db.close();
    expect(() => SqliteEventStore.open(file, { log: () => undefined })).toThrow(TreeDamagedError);
    expect(() => SqliteEventStore.open(file, { log: () => undefined })).toThrow(/leaf 8 was recorded for other content than the event at position 9/);
    expect(tablesOf(file)).toEqual(['merkle_leaves', 'merkle_nodes']);
  });

  it('maps leaves to positions across gaps (an import that kept another store\'s positions): heads, proofs and verify', async () => {
    const source = SqliteEventStore.open(tempFile());
    for (let i = 0; i < 12; i++) await source.append(uniqueStream(), [newEvent('A', { i })], 'no_stream');
    const gapped = (await collect(source.readAll())).map((e, i) => ({ ...e, position: BigInt(i < 4 ? i + 1 : i < 9 ? i + 20 : i + 100) }));
    await source.close();
    const target = SqliteEventStore.open(tempFile());
    for (const e of gapped) await target.importRecorded(e);
    expect(target.database.prepare('SELECT leaf_start, position_start, leaves FROM merkle_runs ORDER BY leaf_start').raw().all()).toEqual([[0, 1, 4], [4, 24, 5], [9, 109, 3]]);
    const scanned = new ScanningMerkleLog(target);
    expect(await target.merkle.treeHead()).toEqual(await scanned.treeHead());
    for (const p of [1n, 4n, 24n, 28n, 109n, 111n]) expect(await target.merkle.inclusionProof(p, 12)).toEqual(await scanned.inclusionProof(p, 12));
    for (const p of [0n, 3n, 10n, 28n, 50n, 111n, 500n]) expect(await target.merkle.sizeAt(p)).toBe(await scanned.sizeAt(p));
    await expect(target.merkle.inclusionProof(10n, 12)).rejects.toThrow(RangeError);
    // Appends after the import continue the last run.
    await target.append(uniqueStream(), [newEvent('B')], 'no_stream');
    expect(await target.merkle.treeHead()).toEqual(await scanned.treeHead());
    await target.close();
    expect(verifySqliteFile(target.file)).toMatchObject({ ok: true, checkedEvents: 13 });
  });
});
