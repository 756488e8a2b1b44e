// A projection that would notice a lost or a doubled event: every applied event id is a primary key (a
// second application throws) and a running total is kept beside it.
export const countingProjection = {
  name: 'counting',
  version: 1,
  canHandle: ['Counted'],
  migrate(db) {
    db.exec(`CREATE TABLE IF NOT EXISTS counted (event_id TEXT PRIMARY KEY, position INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS counted_total (id INTEGER PRIMARY KEY CHECK (id = 1), total INTEGER NOT NULL);
             INSERT OR IGNORE INTO counted_total (id, total) VALUES (1, 0);`);
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS counted; DROP TABLE IF EXISTS counted_total;');
  },
  evolve(db, e) {
    db.prepare('INSERT INTO counted (event_id, position) VALUES (?, ?)').run(e.eventId, e.position);
    db.prepare('UPDATE counted_total SET total = total + ? WHERE id = 1').run(e.data.n);
  },
};
