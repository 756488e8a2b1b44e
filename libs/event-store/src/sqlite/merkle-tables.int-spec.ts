import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyLog } from '../integrity.js';
import { eventLeafHash, rootFromInclusionProof, verifyConsistency } from '../merkle.js';
import { ScanningMerkleLog } from '../merkle-log.js';
import { collect, newEvent, uniqueStream } from '../testing/fixtures.js';
import { SqliteEventStore } from './sqlite-event-store.js';

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
    expect(() => store.database.prepare('DELETE FROM merkle_leaves').run()).toThrow(/append-only/);
    expect(() => store.database.prepare('UPDATE merkle_nodes SET hash = x\'00\'').run()).toThrow(/append-only/);
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
});
