import { existsSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { EventMetadata } from '#events/envelope.js';
import { LogChecker, type VerifyOptions, type VerifyResult } from '../integrity.js';
import { rootAt } from '../merkle.js';
import { readLastLeaf, SqliteMerkleTree, treeLayout } from './merkle-tables.js';
import type { Row } from './sqlite-event-store.js';

export interface FileVerifyResult extends VerifyResult {
  /** Whether the file had the Merkle tree tables (absent in a store not opened since before v2: not damage). */
  readonly storedTree: 'present' | 'absent';
}

/**
 * `verify` of a SQLite event log, from the file itself: opened read-only (nothing is created, migrated or
 * written; a missing file is not created), every failure (missing, empty or damaged file, a table that is not
 * there) an `ok: false` with a one-line reason rather than an exception. Beyond `verifyLog` it reads the
 * stored JSON as text and refuses what is not exactly what the store writes (`JSON.stringify` of the parsed
 * value): a duplicate key, which `JSON.parse` and SQLite's `json_extract` read differently, is damage. It
 * compares every stored Merkle leaf with the event at its index, and the stored tree with the recomputed one.
 */
export function verifySqliteFile(file: string, options: VerifyOptions = {}): FileVerifyResult {
  const checker = new LogChecker(options.size);
  let storedTree: 'present' | 'absent' = 'absent';
  let upTo = options.position;
  const finish = (failure?: { position?: bigint; reason: string }): FileVerifyResult => {
    const kept = failure ? {} : checker.keptHead(options.rootHash);
    const bad = failure ?? (kept.reason === undefined ? undefined : { position: options.size! > checker.checked ? checker.lastPosition + 1n : undefined, reason: kept.reason });
    let rootMatches: boolean | undefined;
    if (options.rootHash !== undefined) rootMatches = checker.rootAtKeptSize === undefined ? false : checker.rootAtKeptSize.toString('hex') === options.rootHash;
    return {
      ok: bad === undefined,
      checkedEvents: checker.checked,
      position: upTo ?? checker.lastPosition,
      ...(bad !== undefined ? { ...(bad.position !== undefined ? { firstInvalidPosition: bad.position } : {}), reason: bad.reason } : {}),
      digest: checker.digest(),
      ...(options.digest !== undefined ? { digestMatches: failure === undefined && options.digest === checker.digest() } : {}),
      size: checker.checked,
      rootHash: checker.range.root().toString('hex'),
      ...(rootMatches !== undefined ? { rootMatches } : {}),
      storedTree,
    };
  };
  const next = (): bigint => checker.lastPosition + 1n;

  if (!existsSync(file)) return finish({ position: 1n, reason: `there is no event log at ${file}` });
  const st = statSync(file);
  if (!st.isFile()) return finish({ position: 1n, reason: `${file} is not a regular file` });
  if (st.size === 0) return finish({ position: 1n, reason: `${file} is empty (0 bytes): the log is missing` });

  let db: Database.Database | undefined;
  try {
    db = openReadOnly(file, st.size);
    // One read transaction for the whole check: a file the service is appending to is read as one snapshot, so a
    // commit landing between two of its reads (the head, the tree's size, its last leaf) is never taken for damage.
    db.exec('BEGIN');
    const tables = new Set(db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all());
    if (!tables.has('events')) return finish({ position: 1n, reason: `${file} is a SQLite file without an events table: not an event log` });
    const head = db.prepare<[], bigint | null>('SELECT MAX(position) FROM events').pluck().safeIntegers(true).get() ?? 0n;
    // A valid store without events verifies (a fresh install); events expected elsewhere (a kept head, read
    // models that saw them) make it a failure through those checks.
    upTo = options.position ?? head;
    const layout = treeLayout(db);
    const tree = layout === 'absent' ? undefined : new SqliteMerkleTree(db, layout);
    if (tree) storedTree = 'present';
    // A file written before v2.1 stores each leaf: compared with the event's as it is read. Since, leaves are
    // derived from the events, and the runs that map leaf to position are compared instead.
    const leaf = layout === 'leaf-table' ? db.prepare<[number], { position: bigint; hash: Buffer }>('SELECT position, hash FROM merkle_leaves WHERE leaf = ?').safeIntegers(true) : undefined;
    const recordedSize = tree ? tree.stored().size : 0;
    const rows = db
      .prepare<[bigint], Row>('SELECT position, event_id, stream_id, revision, type, data, metadata, prev_hash, hash FROM events WHERE position <= ? ORDER BY position')
      .safeIntegers(true)
      .iterate(options.size === undefined ? upTo : head);
    for (const r of rows) {
      if (r.position > upTo && checker.checked >= (options.size ?? 0)) break;
      const noncanonical = nonCanonical(r.data) ?? nonCanonical(r.metadata);
      if (noncanonical) return finish({ position: r.position, reason: `stored JSON is not canonical (${noncanonical}): edited outside the ledger` });
      const reason = checker.check({
        eventId: r.event_id,
        type: r.type,
        streamId: r.stream_id,
        revision: r.revision,
        position: r.position,
        data: JSON.parse(r.data) as unknown,
        metadata: JSON.parse(r.metadata) as EventMetadata,
        prevHash: r.prev_hash,
        hash: r.hash,
      });
      if (reason) return finish({ position: r.position, reason });
      if (leaf) {
        const stored = leaf.get(checker.checked - 1);
        if (stored && (stored.position !== r.position || !stored.hash.equals(checker.lastLeaf!))) {
          return finish({ position: r.position, reason: `the Merkle leaf ${checker.checked - 1} was recorded for ${stored.position === r.position ? 'other content' : `position ${stored.position}`}: events were reordered, replaced or removed` });
        }
      } else if (tree && checker.checked <= recordedSize) {
        const recorded = tree.positionOf(checker.checked - 1);
        if (recorded !== r.position) {
          return finish({ position: r.position < recorded ? r.position : recorded, reason: `the Merkle leaf ${checker.checked - 1} was recorded for position ${recorded}, the event there is at ${r.position}: events were reordered, replaced or removed` });
        }
      }
      if (tree) {
        for (const n of checker.completed) {
          const stored = tree.storedNode(n.level, n.index);
          if (stored !== undefined && !stored.equals(n.hash)) {
            // Without stored leaves the first event that can be wrong is the first under the node.
            const width = 2 ** n.level;
            const first = tree.positionOf(n.index * width);
            return finish({
              position: first,
              reason: `the stored Merkle tree node at level ${n.level}, index ${n.index} does not match the events under it (positions ${first}–${r.position}): events were reordered or replaced, or the tree was edited`,
            });
          }
        }
      }
      if (options.onProgress && checker.checked % 10_000 === 0) options.onProgress(checker.checked, r.position);
    }
    if (tree) {
      const { size, lastPosition } = tree.stored();
      // The tree records every event the ledger acknowledged: more leaves than events is events removed.
      if (size > checker.checked && lastPosition > checker.lastPosition && checker.lastPosition === head) {
        return finish({ position: next(), reason: `the Merkle tree records ${size} events up to position ${lastPosition} but the log ends at ${head}: events were deleted` });
      }
      if (size < checker.checked && checker.lastPosition === head) {
        const first = db.prepare<[bigint], bigint>('SELECT position FROM events WHERE position > ? ORDER BY position LIMIT 1').pluck().safeIntegers(true).get(lastPosition);
        return finish({ position: first, reason: `the Merkle tree records ${size} events but the log has ${checker.checked}: events were added outside the ledger or the tree was cut` });
      }
      // The last leaf of an odd-sized tree is under no stored subtree: its recorded hash is what catches an edit
      // of the last event (recomputing its hash included).
      const recorded = tree.layout === 'runs' ? readLastLeaf(db) : undefined;
      if (recorded === undefined && size > 0 && tree.layout === 'runs' && tables.has('merkle_last_leaf')) {
        return finish({ position: lastPosition, reason: "the Merkle tree's record of its last leaf is missing: the tree was edited" });
      }
      if (recorded !== undefined && size > 0) {
        if (recorded.leaf !== size - 1) {
          return finish({
            position: recorded.leaf > size - 1 ? lastPosition + 1n : lastPosition,
            reason: `the Merkle tree's last leaf is recorded as leaf ${recorded.leaf} but the tree has ${size} leaves: the tree was edited`,
          });
        }
        if (size === checker.checked && !recorded.hash.equals(checker.lastLeaf!)) {
          return finish({ position: checker.lastPosition, reason: `the last event (position ${checker.lastPosition}) is not the one the Merkle tree recorded as its last leaf: it was replaced or edited` });
        }
      }
      const n = Math.min(size, checker.checked);
      if (n > 0 && n === checker.checked && !rootAt(tree.read, n).equals(checker.range.root())) {
        return finish({ reason: "the stored Merkle tree's inner nodes do not match its leaves: the tree was edited" });
      }
    }
    return finish();
  } catch (error) {
    return finish({ position: next(), reason: `the file is damaged: ${describe(error)}` });
  } finally {
    db?.close();
  }
}

/** Files up to this size are verified from a copy in memory, so that not even SQLite's side files appear. */
const IN_MEMORY_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Without a `-wal` beside it (no service has the file open, none crashed with commits not yet folded in),
 * everything committed is in the file itself: verify reads a copy of it in memory, switched from WAL to
 * rollback mode in the copy's header (bytes 18-19) because SQLite cannot open an in-memory WAL database. The
 * disk sees reads only. With a `-wal`, or a file too large to copy, SQLite opens it read-only in place: the
 * log file is not written, though SQLite may create its `-wal`/`-shm` side files if absent.
 */
function openReadOnly(file: string, bytes: number): Database.Database {
  if (!existsSync(`${file}-wal`) && bytes <= IN_MEMORY_MAX_BYTES) {
    const copy = readFileSync(file);
    if (copy.length >= 20 && copy[18] === 2 && copy[19] === 2) {
      copy[18] = 1;
      copy[19] = 1;
    }
    return new Database(copy, { readonly: true });
  }
  return new Database(file, { readonly: true, fileMustExist: true });
}

/** Why `text` is not what the store writes, or undefined when it is. */
function nonCanonical(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (JSON.stringify(parsed) === text) return undefined;
  return hasDuplicateKey(text) ? 'a duplicate key' : 'not as the ledger writes it';
}

/** A duplicate member name in any object of `text` (valid JSON): one forward pass over its tokens. */
function hasDuplicateKey(text: string): boolean {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return true;
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') expectKey = stack[stack.length - 1] !== null && stack.length > 0;
  }
  return false;
}

function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0] : String(error);
  return `${code}${message}`;
}
