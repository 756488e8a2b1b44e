import type Database from 'better-sqlite3';
import { CompactRange, eventLeafHash, type NodeReader } from '../merkle.js';

/**
 * The Merkle tree of the log, kept beside `events` in the same file and written in the same transaction as
 * the events it covers. `merkle_leaves` maps leaf index to position (positions may have gaps after an
 * import; the tree is over events in position order) and holds the leaf hash; `merkle_nodes` holds every
 * complete subtree of level ≥ 1. That is about two small rows an event, and any tree head, inclusion or
 * consistency proof at any size is then O(log n) point reads, never a rehash of the log.
 * Append-only by trigger, like `events`.
 */
export const MERKLE_SCHEMA = `
CREATE TABLE IF NOT EXISTS merkle_leaves (
  leaf     INTEGER PRIMARY KEY,
  position INTEGER NOT NULL UNIQUE,
  hash     BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS merkle_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB    NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS merkle_leaves_append_only_update BEFORE UPDATE ON merkle_leaves
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS merkle_leaves_append_only_delete BEFORE DELETE ON merkle_leaves
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS merkle_nodes_append_only_update BEFORE UPDATE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS merkle_nodes_append_only_delete BEFORE DELETE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: DELETE refused'); END;
`;

export class TreeDamagedError extends Error {
  override readonly name = 'TreeDamagedError';
}

interface Edge {
  range: CompactRange;
  lastPosition: bigint;
}

/** Reads and extends the stored tree; used by the store's own connection (read-write) and by `verify` (read-only). */
export class SqliteMerkleTree {
  private readonly stmts;
  /** The tree's right edge as of this connection's last look; dropped whenever another connection may have written. */
  private edge: Edge | undefined;

  constructor(private readonly db: Database.Database) {
    const q = <T>(sql: string) => db.prepare<unknown[], T>(sql).safeIntegers(true);
    this.stmts = {
      size: q<{ n: bigint | null; p: bigint | null }>('SELECT MAX(leaf) + 1 AS n, MAX(position) AS p FROM merkle_leaves'),
      leaf: q<{ hash: Buffer; position: bigint }>('SELECT hash, position FROM merkle_leaves WHERE leaf = ?'),
      leafAt: q<{ leaf: bigint }>('SELECT leaf FROM merkle_leaves WHERE position = ?'),
      leafAtOrBefore: q<{ leaf: bigint; position: bigint }>('SELECT leaf, position FROM merkle_leaves WHERE position <= ? ORDER BY position DESC LIMIT 1'),
      node: q<{ hash: Buffer }>('SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?'),
      pending: q<{ position: bigint; hash: string }>('SELECT position, hash FROM events WHERE position > ? ORDER BY position LIMIT 5000'),
      insertLeaf: q('INSERT INTO merkle_leaves (leaf, position, hash) VALUES (?, ?, ?)'),
      insertNode: q('INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)'),
    };
  }

  /** Complete subtree hashes, as proofs read them. */
  readonly read: NodeReader = (level, index) => {
    const row = level === 0 ? this.stmts.leaf.get(index) : this.stmts.node.get(level, index);
    if (!row) throw new TreeDamagedError(`the Merkle tree lacks the subtree at level ${level}, index ${index}`);
    return row.hash;
  };

  /** Leaves stored, and the position of the last one (0n when empty). */
  stored(): { size: number; lastPosition: bigint } {
    const r = this.stmts.size.get();
    return { size: Number(r?.n ?? 0n), lastPosition: r?.p ?? 0n };
  }

  /** The leaf index of the event at `position`, if the tree has it. */
  leafOf(position: bigint): number | undefined {
    const r = this.stmts.leafAt.get(position);
    return r === undefined ? undefined : Number(r.leaf);
  }

  /** How many leaves cover the events up to `position` (inclusive), and the position of the last of them. */
  sizeAt(position: bigint): { size: number; position: bigint } {
    const r = this.stmts.leafAtOrBefore.get(position);
    return r === undefined ? { size: 0, position: 0n } : { size: Number(r.leaf) + 1, position: r.position };
  }

  positionOf(leaf: number): bigint {
    const r = this.stmts.leaf.get(leaf);
    if (!r) throw new TreeDamagedError(`the Merkle tree has no leaf ${leaf}`);
    return r.position;
  }

  /** Forget the cached edge: another connection wrote, or the transaction that extended it rolled back. */
  invalidate(): void {
    this.edge = undefined;
  }

  /**
   * Adds a leaf for every event after the tree's last one, with the subtrees they complete. Call inside the
   * write transaction that inserted those events, so they commit (or roll back) together. Returns the number
   * of leaves added.
   */
  extend(onProgress?: (leaves: number) => void): number {
    if (!this.edge) {
      const { size, lastPosition } = this.stored();
      this.edge = { range: CompactRange.load(this.read, size), lastPosition };
    }
    const edge = this.edge;
    let added = 0;
    for (;;) {
      const rows = this.stmts.pending.all(edge.lastPosition);
      for (const r of rows) {
        const index = edge.range.size;
        const hash = eventLeafHash(r.position, r.hash);
        this.stmts.insertLeaf.run(index, r.position, hash);
        for (const n of edge.range.push(hash)) this.stmts.insertNode.run(n.level, n.index, n.hash);
        edge.lastPosition = r.position;
        added += 1;
      }
      if (rows.length > 0) onProgress?.(added);
      if (rows.length < 5000) return added;
    }
  }

  /** The root of the whole stored tree, from the cached edge when there is one. */
  currentRoot(): { size: number; root: Buffer } | undefined {
    return this.edge ? { size: this.edge.range.size, root: this.edge.range.root() } : undefined;
  }
}
