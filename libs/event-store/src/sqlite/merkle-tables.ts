import type Database from 'better-sqlite3';
import { CompactRange, eventLeafHash, type NodeReader } from '../merkle.js';

/**
 * The Merkle tree of the log, kept beside `events` in the same file and written in the same transaction as
 * the events it covers. The leaves are not stored: leaf `i` is `eventLeafHash(position, events.hash)` of the
 * `i`-th event in position order, read from `events` itself. `merkle_runs` maps leaf index to position as
 * runs of consecutive positions (one row for a log without gaps; positions skip only after an import that
 * kept another store's positions) and says how many leaves the tree has; `merkle_subtrees` holds every complete
 * subtree of level ≥ 1, keyed in the order they complete (`subtreeKey`). One small row an event (n - 1
 * subtrees over n leaves), all appended at the end of one b-tree, and any tree head, inclusion or consistency proof at any size is then O(log n) point reads, never a rehash of
 * the log. Append-only by trigger, like `events` (a run's leaf count may only grow).
 *
 * Every leaf but the last of an odd-sized tree is under a stored subtree, so an edit of its event shows in that
 * subtree; the last leaf of an odd-sized tree is under none. `merkle_last_leaf` (one row, updated once a commit,
 * only forward) keeps the hash of the tree's last leaf, so that `verify` catches an edit of the last event too.
 *
 * Before this layout (v2.0) the tree stored its leaves (`merkle_leaves`: leaf, position, hash) and its subtrees
 * keyed (level, idx) (`merkle_nodes`); `migrateLeafTable` converts such a file when the store opens it, and
 * `verify` reads either layout.
 */
export const MERKLE_SCHEMA = `
CREATE TABLE IF NOT EXISTS merkle_runs (
  leaf_start     INTEGER PRIMARY KEY,
  position_start INTEGER NOT NULL UNIQUE,
  leaves         INTEGER NOT NULL CHECK (leaves > 0)
);
CREATE TABLE IF NOT EXISTS merkle_subtrees (
  id    INTEGER PRIMARY KEY CHECK (id = ((idx + 1) * (1 << level) - 1) * 64 + level),
  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 47),
  idx   INTEGER NOT NULL,
  hash  BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS merkle_last_leaf (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  leaf INTEGER NOT NULL,
  hash BLOB    NOT NULL
);
CREATE TRIGGER IF NOT EXISTS merkle_last_leaf_forward_only BEFORE UPDATE ON merkle_last_leaf
WHEN NEW.leaf <= OLD.leaf
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS merkle_last_leaf_append_only_delete BEFORE DELETE ON merkle_last_leaf
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS merkle_runs_append_only_update BEFORE UPDATE ON merkle_runs
WHEN NEW.leaf_start IS NOT OLD.leaf_start OR NEW.position_start IS NOT OLD.position_start OR NEW.leaves < OLD.leaves
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS merkle_runs_append_only_delete BEFORE DELETE ON merkle_runs
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS merkle_subtrees_append_only_update BEFORE UPDATE ON merkle_subtrees
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS merkle_subtrees_append_only_delete BEFORE DELETE ON merkle_subtrees
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: DELETE refused'); END;
`;

/**
 * The key of the complete subtree at (level, index) in \`merkle_subtrees\`: its last leaf, then its level. Subtrees
 * complete in exactly this order as leaves are appended, so every insert lands at the end of one b-tree (the
 * pages a commit dirties stay few), and a lookup is one rowid probe. Exact for trees up to 2^47 leaves.
 */
export function subtreeKey(level: number, index: number): number {
  return ((index + 1) * 2 ** level - 1) * 64 + level;
}

/** The layout of the tree in a file: leaves derived from `events` (current), stored leaves (before), or none. */
export type TreeLayout = 'runs' | 'leaf-table' | 'absent';

export function treeLayout(db: Database.Database): TreeLayout {
  const tables = new Set(db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all());
  if (tables.has('merkle_leaves') && tables.has('merkle_nodes')) return 'leaf-table';
  return tables.has('merkle_runs') && tables.has('merkle_subtrees') ? 'runs' : 'absent';
}

/** The recorded last leaf (index and hash), or undefined when the file has none (an empty tree, or one written before it). */
export function readLastLeaf(db: Database.Database): { leaf: number; hash: Buffer } | undefined {
  const exists = db.prepare<[], number>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'merkle_last_leaf'").pluck().get();
  if (!exists) return undefined;
  const row = db.prepare<[], { leaf: bigint; hash: Buffer }>('SELECT leaf, hash FROM merkle_last_leaf WHERE id = 1').safeIntegers(true).get();
  return row === undefined ? undefined : { leaf: Number(row.leaf), hash: row.hash };
}

export class TreeDamagedError extends Error {
  override readonly name = 'TreeDamagedError';
}

/** One row of `merkle_runs`: leaves `leafStart … leafStart + leaves - 1` are the events at `positionStart …`. */
interface Run {
  leafStart: number;
  positionStart: bigint;
  leaves: number;
}

interface Edge {
  range: CompactRange;
  lastPosition: bigint;
  /** The last run, as this connection will store it; `stored` is its leaf count in the file (0: not inserted yet). */
  run: (Run & { stored: number }) | undefined;
}

/** An event the tree is extended with: its position and stored hash (hex). */
export interface LeafSource {
  readonly position: bigint;
  readonly hash: string;
}

/** Node rows one multi-row INSERT writes. */
const NODE_BATCH = 32;
const PENDING_PAGE = 5000;

/** Reads and extends the stored tree; used by the store's own connection (read-write) and by `verify` (read-only). */
export class SqliteMerkleTree {
  private readonly stmts;
  /** The tree's right edge as of this connection's last look; dropped whenever another connection may have written. */
  private edge: Edge | undefined;
  readonly layout: TreeLayout;

  /** `layout` 'leaf-table' reads a file written before the runs (verify, the migration); such a tree cannot be extended. */
  constructor(private readonly db: Database.Database, layout: 'runs' | 'leaf-table' = 'runs') {
    this.layout = layout;
    const q = <T>(sql: string) => db.prepare<unknown[], T>(sql).safeIntegers(true);
    const hashAt = q<{ hash: string }>('SELECT hash FROM events WHERE position = ?');
    if (layout === 'leaf-table') {
      this.stmts = {
        node: q<{ hash: Buffer }>('SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?'),
        hashAt,
        lastRun: q<Run>('SELECT 0 AS leafStart, 0 AS positionStart, 0 AS leaves WHERE 0'),
        runOfLeaf: q<Run>('SELECT leaf AS leafStart, position AS positionStart, 1 AS leaves FROM merkle_leaves WHERE leaf = ?'),
        runOfPosition: q<Run>('SELECT leaf AS leafStart, position AS positionStart, 1 AS leaves FROM merkle_leaves WHERE position <= ? ORDER BY position DESC LIMIT 1'),
        size: q<{ n: bigint | null; p: bigint | null }>('SELECT MAX(leaf) + 1 AS n, MAX(position) AS p FROM merkle_leaves'),
        legacyLeaf: q<{ hash: Buffer }>('SELECT hash FROM merkle_leaves WHERE leaf = ?'),
      };
      this.nodeInserts = new Map();
      this.runInsert = undefined;
      this.runUpdate = undefined;
      this.lastLeafUpsert = undefined;
      this.pending = undefined;
      return;
    }
    this.stmts = {
      node: q<{ hash: Buffer }>('SELECT hash FROM merkle_subtrees WHERE id = ?'),
      hashAt,
      lastRun: q<Run>('SELECT leaf_start AS leafStart, position_start AS positionStart, leaves FROM merkle_runs ORDER BY leaf_start DESC LIMIT 1'),
      runOfLeaf: q<Run>('SELECT leaf_start AS leafStart, position_start AS positionStart, leaves FROM merkle_runs WHERE leaf_start <= ? ORDER BY leaf_start DESC LIMIT 1'),
      runOfPosition: q<Run>('SELECT leaf_start AS leafStart, position_start AS positionStart, leaves FROM merkle_runs WHERE position_start <= ? ORDER BY position_start DESC LIMIT 1'),
      size: undefined,
      legacyLeaf: undefined,
    };
    this.nodeInserts = new Map([1, NODE_BATCH].map((n) => [n, q(`INSERT INTO merkle_subtrees (id, level, idx, hash) VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?)').join(', ')}`)]));
    this.runInsert = q('INSERT INTO merkle_runs (leaf_start, position_start, leaves) VALUES (?, ?, ?)');
    this.runUpdate = q('UPDATE merkle_runs SET leaves = ? WHERE leaf_start = ?');
    this.lastLeafUpsert = q('INSERT INTO merkle_last_leaf (id, leaf, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET leaf = excluded.leaf, hash = excluded.hash');
    this.pending = q<LeafSource>(`SELECT position, hash FROM events WHERE position > ? ORDER BY position LIMIT ${PENDING_PAGE}`);
  }

  private readonly nodeInserts: Map<number, Database.Statement>;
  private readonly runInsert: Database.Statement | undefined;
  private readonly runUpdate: Database.Statement | undefined;
  private readonly lastLeafUpsert: Database.Statement | undefined;
  private readonly pending: Database.Statement<unknown[], LeafSource> | undefined;

  private runOfLeaf(leaf: number): Run | undefined {
    const r = this.stmts.runOfLeaf.get(leaf);
    if (r === undefined) return undefined;
    const run = { leafStart: Number(r.leafStart), positionStart: BigInt(r.positionStart), leaves: Number(r.leaves) };
    return leaf < run.leafStart + run.leaves ? run : undefined;
  }

  /** The stored hash of the complete subtree at (level ≥ 1, index), if there is one. */
  storedNode(level: number, index: number): Buffer | undefined {
    return (this.stmts.legacyLeaf ? this.stmts.node.get(level, index) : this.stmts.node.get(subtreeKey(level, index)))?.hash;
  }

  /** Complete subtree hashes, as proofs read them; a leaf is the hash of the event at its position. */
  readonly read: NodeReader = (level, index) => {
    if (level > 0) {
      const row = this.storedNode(level, index);
      if (!row) throw new TreeDamagedError(`the Merkle tree lacks the subtree at level ${level}, index ${index}`);
      return row;
    }
    if (this.stmts.legacyLeaf) {
      const row = this.stmts.legacyLeaf.get(index);
      if (!row) throw new TreeDamagedError(`the Merkle tree has no leaf ${index}`);
      return row.hash;
    }
    const position = this.positionOf(index);
    const event = this.stmts.hashAt.get(position);
    if (!event) throw new TreeDamagedError(`the Merkle tree's leaf ${index} is the event at position ${position}, which is not in the log: events were deleted`);
    return eventLeafHash(position, event.hash);
  };

  /** Leaves in the tree, and the position of the last one (0n when empty). */
  stored(): { size: number; lastPosition: bigint } {
    if (this.stmts.size) {
      const r = this.stmts.size.get();
      return { size: Number(r?.n ?? 0n), lastPosition: r?.p ?? 0n };
    }
    const r = this.stmts.lastRun.get();
    if (r === undefined) return { size: 0, lastPosition: 0n };
    return { size: Number(r.leafStart) + Number(r.leaves), lastPosition: BigInt(r.positionStart) + BigInt(r.leaves) - 1n };
  }

  /** The leaf index of the event at `position`, if the tree has it. */
  leafOf(position: bigint): number | undefined {
    const r = this.stmts.runOfPosition.get(position);
    if (r === undefined) return undefined;
    const offset = position - BigInt(r.positionStart);
    return offset < BigInt(r.leaves) ? Number(r.leafStart) + Number(offset) : undefined;
  }

  /** How many leaves cover the events up to `position` (inclusive), and the position of the last of them. */
  sizeAt(position: bigint): { size: number; position: bigint } {
    const r = this.stmts.runOfPosition.get(position);
    if (r === undefined) return { size: 0, position: 0n };
    const offset = position - BigInt(r.positionStart);
    const covered = offset < BigInt(r.leaves) ? Number(offset) + 1 : Number(r.leaves);
    return { size: Number(r.leafStart) + covered, position: BigInt(r.positionStart) + BigInt(covered) - 1n };
  }

  positionOf(leaf: number): bigint {
    const run = this.runOfLeaf(leaf);
    if (!run) throw new TreeDamagedError(`the Merkle tree has no leaf ${leaf}`);
    return run.positionStart + BigInt(leaf - run.leafStart);
  }

  /** Forget the cached edge: another connection wrote, or the transaction that extended it rolled back. */
  invalidate(): void {
    this.edge = undefined;
  }

  private loadEdge(): Edge {
    if (!this.edge) {
      if (!this.runInsert) throw new Error('a tree in the layout before v2.1 (merkle_leaves) is read-only: open the store to convert it');
      const { size, lastPosition } = this.stored();
      const last = this.stmts.lastRun.get();
      const run = last === undefined ? undefined : { leafStart: Number(last.leafStart), positionStart: BigInt(last.positionStart), leaves: Number(last.leaves), stored: Number(last.leaves) };
      this.edge = { range: CompactRange.load(this.read, size), lastPosition, run };
    }
    return this.edge;
  }

  /**
   * Adds a leaf for every event after the tree's last one, with the subtrees they complete, reading them from
   * `events`. Call inside the write transaction that inserted those events, so they commit (or roll back)
   * together. Returns the number of leaves added.
   */
  extend(onProgress?: (leaves: number) => void): number {
    const edge = this.loadEdge();
    let added = 0;
    for (;;) {
      const rows = this.pending!.all(edge.lastPosition);
      this.push(edge, rows);
      added += rows.length;
      if (rows.length > 0) onProgress?.(added);
      if (rows.length < PENDING_PAGE) return added;
    }
  }

  /**
   * `extend` for the append path: `written` are the events this transaction inserted, in position order, as
   * the store has them at hand. Taken as they are only when they follow the tree's last leaf directly (then no
   * other event can lie between); otherwise (events written without the tree, another writer) the events are
   * read back as `extend` does.
   */
  extendWith(written: readonly LeafSource[]): number {
    const edge = this.loadEdge();
    if (written.length === 0 || written[0]!.position !== edge.lastPosition + 1n) return this.extend();
    for (let i = 1; i < written.length; i++) if (written[i]!.position <= written[i - 1]!.position) return this.extend();
    this.push(edge, written);
    return written.length;
  }

  private push(edge: Edge, rows: readonly LeafSource[]): void {
    if (rows.length === 0) return;
    const nodes: unknown[] = [];
    let last: Buffer | undefined;
    for (const r of rows) {
      const index = edge.range.size;
      if (edge.run !== undefined && r.position === edge.lastPosition + 1n) edge.run.leaves += 1;
      else {
        if (edge.run) this.saveRun(edge.run);
        edge.run = { leafStart: index, positionStart: r.position, leaves: 1, stored: 0 };
      }
      last = eventLeafHash(r.position, r.hash);
      for (const n of edge.range.push(last)) nodes.push(subtreeKey(n.level, n.index), n.level, n.index, n.hash);
      edge.lastPosition = r.position;
    }
    this.saveRun(edge.run!);
    this.insertNodes(nodes);
    this.lastLeafUpsert!.run(edge.range.size - 1, last!);
  }

  /**
   * Records the last leaf's hash when the file has none (a tree written before `merkle_last_leaf`), from the
   * event it is: call inside a write transaction. Returns whether a row was written.
   */
  recordLastLeaf(): boolean {
    if (!this.lastLeafUpsert) return false;
    const { size } = this.stored();
    if (size === 0 || readLastLeaf(this.db) !== undefined) return false;
    this.lastLeafUpsert.run(size - 1, this.read(0, size - 1));
    return true;
  }

  private saveRun(run: Run & { stored: number }): void {
    if (run.stored === run.leaves) return;
    if (run.stored === 0) this.runInsert!.run(run.leafStart, run.positionStart, run.leaves);
    else this.runUpdate!.run(run.leaves, run.leafStart);
    run.stored = run.leaves;
  }

  /** Flat (id, level, idx, hash) rows, NODE_BATCH rows a statement. */
  private insertNodes(flat: readonly unknown[]): void {
    const rows = flat.length / 4;
    let i = 0;
    const batch = this.nodeInserts.get(NODE_BATCH)!;
    const one = this.nodeInserts.get(1)!;
    for (; i + NODE_BATCH <= rows; i += NODE_BATCH) batch.run(...flat.slice(i * 4, (i + NODE_BATCH) * 4));
    for (; i < rows; i++) one.run(...flat.slice(i * 4, i * 4 + 4));
  }

  /** The root of the whole stored tree, from the cached edge when there is one. */
  currentRoot(): { size: number; root: Buffer } | undefined {
    return this.edge ? { size: this.edge.range.size, root: this.edge.range.root() } : undefined;
  }
}

/**
 * Converts a tree stored with its leaves (`merkle_leaves`, before v2.1) to runs, inside the caller's write
 * transaction: checks every stored leaf against the event it was recorded for (a mismatch is damage, and the
 * file is left as it was), writes the runs, drops the leaf table. Inner nodes are kept as they are: the tree,
 * its heads and its proofs stay the same. Returns the number of leaves converted.
 */
export function migrateLeafTable(db: Database.Database, onProgress?: (leaves: number) => void): number {
  const leaves = db
    .prepare<[], { leaf: bigint; position: bigint; hash: Buffer; event: string | null }>(
      'SELECT l.leaf, l.position, l.hash, e.hash AS event FROM merkle_leaves l LEFT JOIN events e ON e.position = l.position ORDER BY l.leaf',
    )
    .safeIntegers(true)
    .iterate();
  const runs: Run[] = [];
  let expected = 0n;
  let lastPosition = 0n;
  let run: Run | undefined;
  let lastLeaf: Buffer | undefined;
  for (const l of leaves) {
    if (l.leaf !== expected) throw new TreeDamagedError(`the stored Merkle tree has no leaf ${expected}: it was edited`);
    if (l.event === null) throw new TreeDamagedError(`the Merkle leaf ${l.leaf} was recorded for position ${l.position}, which is not in the log: events were deleted`);
    if (l.position <= lastPosition) throw new TreeDamagedError(`the Merkle leaf ${l.leaf} (position ${l.position}) does not follow position ${lastPosition}: the tree was edited`);
    if (!eventLeafHash(l.position, l.event).equals(l.hash)) {
      throw new TreeDamagedError(`the Merkle leaf ${l.leaf} was recorded for other content than the event at position ${l.position}: events were replaced or reordered`);
    }
    if (run !== undefined && l.position === lastPosition + 1n) run.leaves += 1;
    else {
      run = { leafStart: Number(l.leaf), positionStart: l.position, leaves: 1 };
      runs.push(run);
    }
    lastPosition = l.position;
    lastLeaf = l.hash;
    expected += 1n;
    if (expected % 100_000n === 0n) onProgress?.(Number(expected));
  }
  db.exec(MERKLE_SCHEMA);
  // Runs and subtrees may be there already: a file converted, then opened by v2.0 again (which recomputed its
  // own tables over every event). They must then be a prefix of the tree just checked, which completes them.
  const insert = db.prepare('INSERT INTO merkle_runs (leaf_start, position_start, leaves) VALUES (?, ?, ?)');
  const grow = db.prepare('UPDATE merkle_runs SET leaves = ? WHERE leaf_start = ?');
  const existing = db.prepare<[number], { position_start: bigint; leaves: bigint }>('SELECT position_start, leaves FROM merkle_runs WHERE leaf_start = ?').safeIntegers(true);
  for (const r of runs) {
    const e = existing.get(r.leafStart);
    if (e === undefined) insert.run(r.leafStart, r.positionStart, r.leaves);
    else if (e.position_start !== r.positionStart || Number(e.leaves) > r.leaves) throw new TreeDamagedError(`the Merkle tree's run at leaf ${r.leafStart} disagrees with its stored leaves: the tree was edited`);
    else if (Number(e.leaves) < r.leaves) grow.run(r.leaves, r.leafStart);
  }
  const beyond = db.prepare<[number], number>('SELECT COUNT(*) FROM merkle_runs WHERE leaf_start > ?').pluck().get(runs.length > 0 ? runs[runs.length - 1]!.leafStart : -1)!;
  const differing = db
    .prepare<[], number>('SELECT COUNT(*) FROM merkle_nodes n JOIN merkle_subtrees s ON s.id = ((n.idx + 1) * (1 << n.level) - 1) * 64 + n.level WHERE s.hash != n.hash')
    .pluck()
    .get()!;
  if (beyond > 0 || differing > 0) throw new TreeDamagedError('the Merkle tree tables of both layouts are in the file and disagree: the tree was edited');
  // The same subtree hashes, keyed in the order they complete.
  db.exec(`INSERT OR IGNORE INTO merkle_subtrees (id, level, idx, hash)
             SELECT ((idx + 1) * (1 << level) - 1) * 64 + level, level, idx, hash FROM merkle_nodes ORDER BY 1;
           DROP TRIGGER IF EXISTS merkle_leaves_append_only_update; DROP TRIGGER IF EXISTS merkle_leaves_append_only_delete;
           DROP TRIGGER IF EXISTS merkle_nodes_append_only_update; DROP TRIGGER IF EXISTS merkle_nodes_append_only_delete;
           DROP TABLE merkle_leaves; DROP TABLE merkle_nodes;`);
  if (lastLeaf !== undefined && readLastLeaf(db) === undefined) {
    db.prepare('INSERT INTO merkle_last_leaf (id, leaf, hash) VALUES (1, ?, ?)').run(Number(expected) - 1, lastLeaf);
  }
  return Number(expected);
}
