import type Database from 'better-sqlite3';
import type { RecordedEvent } from '#events/envelope.js';
import { STATEMENT_SOURCE_TYPES, statementSubjects } from '#libs/statements/content.js';
import type { Projection } from '../runner/projection.js';

/**
 * Where each partner's statement events are (issue #21, docs/statements.md "Cost"): the position of every event
 * of `STATEMENT_SOURCE_TYPES` under each partner it names (`statementSubjects`: `data.partnerId`, the partners of
 * an attribution's or a reversal's allocations), and the positions of the policy events (program, commission
 * plan) every statement reads. A statement then reads exactly its partner's events and the policy's by position
 * (statement-sources.index.ts), instead of every source event of the log.
 */
const prepared = new WeakMap<Database.Database, { partner: Database.Statement; policy: Database.Statement }>();

function statements(db: Database.Database): { partner: Database.Statement; policy: Database.Statement } {
  let s = prepared.get(db);
  if (s === undefined) {
    s = {
      partner: db.prepare('INSERT INTO statement_sources (partner_id, position) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      policy: db.prepare('INSERT INTO statement_policy (position) VALUES (?) ON CONFLICT DO NOTHING'),
    };
    prepared.set(db, s);
  }
  return s;
}

export const statementSourcesProjection: Projection = {
  name: 'statement-sources',
  version: 1,
  canHandle: STATEMENT_SOURCE_TYPES,
  migrate(db) {
    // WITHOUT ROWID: the primary key is the table, one B-tree, read as a range (partner, positions ascending).
    db.exec(`
      CREATE TABLE IF NOT EXISTS statement_sources (
        partner_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (partner_id, position)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS statement_policy (position INTEGER PRIMARY KEY);`);
  },
  reset(db) {
    prepared.delete(db);
    db.exec('DROP TABLE IF EXISTS statement_sources; DROP TABLE IF EXISTS statement_policy;');
  },
  evolve(db, event: RecordedEvent) {
    const subjects = statementSubjects(event.type, event.data);
    if (subjects === 'policy') {
      statements(db).policy.run(event.position);
      return;
    }
    for (const partnerId of subjects) statements(db).partner.run(partnerId, event.position);
  },
};
