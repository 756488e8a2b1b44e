import type Database from 'better-sqlite3';
import { RecentMap } from '#libs/kernel/recent-map.js';

/** Statements one connection keeps; a filter combination or an IN list of another length is another text. */
const PER_CONNECTION = 256;
const prepared = new WeakMap<Database.Database, RecentMap<string, Database.Statement>>();

/**
 * `db.prepare(sql)`, once per connection and SQL text: the queries used to prepare on every call, which cost as
 * much as running them (profiled: a third of the attribution report, half of the conflicts page). Beyond
 * PER_CONNECTION texts the least recently prepared is dropped. For `all`/`get`/`run` only: a statement still iterating
 * (`iterate()`) is busy and cannot be shared.
 */
export function statement<P extends unknown[] | object = unknown[], R = unknown>(db: Database.Database, sql: string, options: { safeIntegers?: boolean } = {}): Database.Statement<P, R> {
  let texts = prepared.get(db);
  if (texts === undefined) prepared.set(db, (texts = new RecentMap(PER_CONNECTION)));
  const key = options.safeIntegers ? `bigint:${sql}` : sql;
  let s = texts.get(key);
  if (s === undefined) {
    s = db.prepare(sql);
    if (options.safeIntegers) s.safeIntegers(true);
    texts.set(key, s);
  }
  return s as unknown as Database.Statement<P, R>;
}
