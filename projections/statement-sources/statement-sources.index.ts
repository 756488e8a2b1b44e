import type Database from 'better-sqlite3';
import type { StatementSourceIndex, StatementSources } from '#libs/ledger/statements.js';
import type { ProjectionRunner } from '../runner/runner.js';
import { statementSourcesProjection } from './statement-sources.projection.js';

const prepared = new WeakMap<Database.Database, Database.Statement<[string, bigint, bigint, bigint, bigint], bigint>>();

function query(db: Database.Database): Database.Statement<[string, bigint, bigint, bigint, bigint], bigint> {
  let s = prepared.get(db);
  if (s === undefined) {
    s = db
      .prepare<[string, bigint, bigint, bigint, bigint], bigint>(
        `SELECT position FROM statement_sources WHERE partner_id = ? AND position > ? AND position <= ?
         UNION ALL SELECT position FROM statement_policy WHERE position > ? AND position <= ?
         ORDER BY position`,
      )
      .pluck()
      .safeIntegers(true);
    prepared.set(db, s);
  }
  return s;
}

/**
 * The index of the runner's `statement-sources` read model, or undefined when the runner does not keep it. Never
 * waits: it answers up to the read model's own checkpoint (`through`), and the caller reads the rest from the
 * log, so a statement is exact whatever the read model's progress (just built, rebuilding after a restart or a
 * reset, or behind the head).
 *
 * Consistent without a transaction of its own: the query is synchronous, and the checkpoint read first is one the
 * runner has committed (`catchUp` moves it only after its COMMIT), so every row up to it is there and a row past
 * it (a batch still open on this connection) is left out by the bound.
 */
export function statementSourceIndex(runner: ProjectionRunner): StatementSourceIndex | undefined {
  const name = statementSourcesProjection.name;
  if (!runner.projections.some((p) => p.name === name)) return undefined;
  return {
    sources(partnerId: string, after: bigint, upTo: bigint): StatementSources {
      const checkpoint = runner.position(name);
      const through = checkpoint < upTo ? checkpoint : upTo;
      if (through <= after) return { through: after, positions: [] };
      return { through, positions: query(runner.db).all(partnerId, after, through, after, through) };
    },
  };
}
