import Database from 'better-sqlite3';
import { statement } from './statements.js';

describe('statements prepared once per connection', () => {
  it('answers the same statement for the same text, a distinct one per connection and per integer mode', () => {
    const a = new Database(':memory:');
    const b = new Database(':memory:');
    const sql = 'SELECT 1 AS n';
    expect(statement(a, sql)).toBe(statement(a, sql));
    expect(statement(b, sql)).not.toBe(statement(a, sql));
    const big = statement<[], { n: bigint }>(a, sql, { safeIntegers: true });
    expect(big).not.toBe(statement(a, sql));
    expect(typeof big.get()!.n).toBe('bigint');
    expect(typeof statement<[], { n: number }>(a, sql).get()!.n).toBe('number');
    a.close();
    b.close();
  });

  it('keeps at most 256 texts a connection, dropping the oldest', () => {
    const db = new Database(':memory:');
    const first = statement(db, 'SELECT 0');
    for (let i = 1; i <= 256; i++) statement(db, `SELECT ${i}`);
    expect(statement(db, 'SELECT 256')).toBe(statement(db, 'SELECT 256'));
    expect(statement(db, 'SELECT 0')).not.toBe(first);
    db.close();
  });
});
