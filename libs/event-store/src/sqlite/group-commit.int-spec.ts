import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyLog } from '../integrity.js';
import { DuplicateEventIdError, WrongExpectedVersionError, type AppendResult } from '../port.js';
import { newEvent, uniqueStream } from '../testing/fixtures.js';
import { SqliteEventStore, type GroupCommit } from './sqlite-event-store.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'ledger-group-'));
  dirs.push(d);
  return join(d, 'events.sqlite');
}

/** Settles every promise, keeping the call order: what one group of appends answered. */
async function settle(appends: Promise<AppendResult>[]): Promise<PromiseSettledResult<AppendResult>[]> {
  return Promise.allSettled(appends);
}

function rejection(r: PromiseSettledResult<AppendResult> | undefined): unknown {
  if (r?.status !== 'rejected') throw new Error(`expected a refusal, got ${r?.status}`);
  return r.reason;
}

function value(r: PromiseSettledResult<AppendResult> | undefined): AppendResult {
  if (r?.status !== 'fulfilled') throw new Error(`expected a success, got ${String(r?.status === 'rejected' ? r.reason : r)}`);
  return r.value;
}

describe('SQLite group commit', () => {
  let file: string;
  let store: SqliteEventStore;
  const commits: GroupCommit[] = [];
  beforeEach(() => {
    file = tempFile();
    commits.length = 0;
    store = SqliteEventStore.open(file, { onCommit: (c) => commits.push(c) });
  });
  afterEach(async () => {
    await store.close();
  });

  it('appends issued together share one FULL-synced transaction, in call order', async () => {
    const before = store.groupCommits;
    const streams = Array.from({ length: 64 }, () => uniqueStream('group'));
    const results = await Promise.all(streams.map((s, i) => store.append(s, [newEvent('E', { i })], 'no_stream')));
    const after = store.groupCommits;
    expect(after.commits - before.commits).toBe(1);
    expect(after.appends - before.appends).toBe(64);
    expect(after.events - before.events).toBe(64);
    expect(after.largestCommit).toBe(64);
    expect(commits).toEqual([expect.objectContaining({ appends: 64, failed: 0, events: 64 })]);
    // Positions follow the order of the calls, one after the other.
    const positions = results.map((r) => r.position);
    for (let i = 1; i < positions.length; i++) expect(positions[i]).toBe(positions[i - 1]! + 1n);
    expect((await verifyLog(store)).ok).toBe(true);
  });

  it('appends issued one after the other each commit alone', async () => {
    const s = uniqueStream();
    for (let i = 0; i < 5; i++) await store.append(s, [newEvent('E')], 'any');
    expect(store.groupCommits.commits).toBe(5);
    expect(store.groupCommits.largestCommit).toBe(1);
  });

  it('a caller is answered only after the commit: another connection already sees its events', async () => {
    const other = new Database(file, { readonly: true });
    try {
      const seen = other.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM events WHERE event_id = ?');
      const checks = Array.from({ length: 32 }, (_, i) => {
        const e = newEvent('E', { i });
        return store.append(uniqueStream(), [e], 'no_stream').then(() => seen.get(e.eventId)!.n);
      });
      expect(await Promise.all(checks)).toEqual(Array.from({ length: 32 }, () => 1));
      expect(store.groupCommits.commits).toBe(1);
    } finally {
      other.close();
    }
  });

  it('each append is checked against its own expected revision, seeing the appends queued before it', async () => {
    const s = uniqueStream('mixed');
    const t = uniqueStream('mixed');
    const before = await store.headPosition();
    const results = await settle([
      store.append(s, [newEvent('S0')], 'no_stream'), // wins: s is created
      store.append(s, [newEvent('Lost1')], 'no_stream'), // loses: s exists (revision 0)
      store.append(s, [newEvent('S1'), newEvent('S2')], 0n), // wins: sees S0
      store.append(s, [newEvent('Lost2')], 0n), // loses: the head is 2 now
      store.append(t, [newEvent('Lost3')], 'stream_exists'), // loses: t does not exist yet
      store.append(t, [newEvent('T0')], 'no_stream'), // wins
      store.append(t, [newEvent('T1')], 'stream_exists'), // wins: sees T0
      store.append(s, [newEvent('S3')], 2n), // wins
    ]);
    expect(store.groupCommits.commits).toBe(1);
    expect(commits[0]).toEqual(expect.objectContaining({ appends: 8, failed: 3, events: 6 }));

    expect(value(results[0]).nextRevision).toBe(0n);
    const lost1 = rejection(results[1]);
    expect(lost1).toBeInstanceOf(WrongExpectedVersionError);
    expect((lost1 as WrongExpectedVersionError).actual).toBe(0n);
    expect(value(results[2]).nextRevision).toBe(2n);
    const lost2 = rejection(results[3]);
    expect(lost2).toBeInstanceOf(WrongExpectedVersionError);
    expect((lost2 as WrongExpectedVersionError).actual).toBe(2n);
    expect((rejection(results[4]) as WrongExpectedVersionError).actual).toBe('no_stream');
    expect(value(results[5]).nextRevision).toBe(0n);
    expect(value(results[6]).nextRevision).toBe(1n);
    expect(value(results[7]).nextRevision).toBe(3n);

    expect((await store.readStream(s)).map((e) => e.type)).toEqual(['S0', 'S1', 'S2', 'S3']);
    expect((await store.readStream(t)).map((e) => e.type)).toEqual(['T0', 'T1']);
    // Refused appends leave no gap: the six winners took the six positions after the old head.
    expect(await store.headPosition()).toBe(before + 6n);
    expect((await verifyLog(store)).ok).toBe(true);
  });

  it('of two appends to one stream with the same expected revision in one group, the first wins', async () => {
    const s = uniqueStream();
    await store.append(s, [newEvent('Opened')], 'no_stream');
    const [first, second] = await settle([store.append(s, [newEvent('First')], 0n), store.append(s, [newEvent('Second')], 0n)]);
    expect(value(first).nextRevision).toBe(1n);
    const err = rejection(second);
    expect(err).toBeInstanceOf(WrongExpectedVersionError);
    expect((err as WrongExpectedVersionError).actual).toBe(1n);
    expect((await store.readStream(s)).map((e) => e.type)).toEqual(['Opened', 'First']);
  });

  it('an append that throws half-way is rolled back alone; the rest of its group commits', async () => {
    const bad = uniqueStream('bad');
    const good = [uniqueStream('good'), uniqueStream('good')];
    const before = await store.headPosition();
    const results = await settle([
      store.append(good[0]!, [newEvent('G0')], 'no_stream'),
      // The first event is inserted before the second fails to serialise: the savepoint takes it back.
      store.append(bad, [newEvent('Fine'), newEvent('Unserialisable', { n: 1n })], 'no_stream'),
      store.append(good[1]!, [newEvent('G1'), newEvent('G2')], 'no_stream'),
    ]);
    expect(store.groupCommits.commits).toBe(1);
    expect(value(results[0]).position).toBe(before + 1n);
    expect(rejection(results[1])).toBeInstanceOf(TypeError);
    expect(value(results[2]).position).toBe(before + 3n);
    expect(await store.readStream(bad)).toEqual([]);
    expect((await store.readStream(good[1]!)).map((e) => e.type)).toEqual(['G1', 'G2']);
    expect(await store.headPosition()).toBe(before + 3n);
    expect((await verifyLog(store)).ok).toBe(true);
  });

  it('an error raised by SQLite itself inside a group fails only its append', async () => {
    store.database.exec(`CREATE TEMP TRIGGER poison BEFORE INSERT ON events WHEN NEW.type = 'Poison'
      BEGIN SELECT RAISE(ABORT, 'poisoned event'); END`);
    const a = uniqueStream();
    const b = uniqueStream();
    const results = await settle([
      store.append(a, [newEvent('A0')], 'no_stream'),
      store.append(b, [newEvent('B0'), newEvent('Poison')], 'no_stream'),
      store.append(b, [newEvent('B0-again')], 'no_stream'),
    ]);
    expect(store.groupCommits.commits).toBe(1);
    expect(value(results[0]).nextRevision).toBe(0n);
    expect(rejection(results[1])).toEqual(expect.objectContaining({ message: expect.stringMatching(/poisoned event/) }));
    // The failed append left nothing behind, so b still does not exist for the next one.
    expect(value(results[2]).nextRevision).toBe(0n);
    expect((await store.readStream(b)).map((e) => e.type)).toEqual(['B0-again']);
  });

  it('a one-event append (written without a savepoint) that SQLite refuses fails alone and leaves nothing', async () => {
    store.database.exec(`CREATE TEMP TRIGGER poison_one BEFORE INSERT ON events WHEN NEW.type = 'PoisonOne'
      BEGIN SELECT RAISE(ABORT, 'poisoned event'); END`);
    const [a, b, c] = [uniqueStream(), uniqueStream(), uniqueStream()];
    const before = await store.headPosition();
    const results = await settle([
      store.append(a, [newEvent('A0')], 'no_stream'),
      store.append(b, [newEvent('PoisonOne')], 'no_stream'),
      store.append(c, [newEvent('C0')], 'no_stream'),
      store.append(b, [newEvent('B0')], 'no_stream'),
    ]);
    expect(store.groupCommits.commits).toBe(1);
    expect(rejection(results[1])).toEqual(expect.objectContaining({ message: expect.stringMatching(/poisoned event/) }));
    expect([value(results[0]).nextRevision, value(results[2]).nextRevision, value(results[3]).nextRevision]).toEqual([0n, 0n, 0n]);
    expect((await store.readStream(b)).map((e) => e.type)).toEqual(['B0']);
    expect(await store.headPosition()).toBe(before + 3n);
    expect((await verifyLog(store)).ok).toBe(true);
  });

  it('keeps idempotent repeats and duplicate event ids inside one group', async () => {
    const s = uniqueStream();
    const events = [newEvent('A'), newEvent('B')];
    const reused = newEvent('Reused');
    const results = await settle([
      store.append(s, events, 'no_stream'),
      store.append(s, events, 'no_stream'), // the same append again: answered the same
      store.append(uniqueStream(), [reused], 'no_stream'),
      store.append(uniqueStream(), [reused], 'no_stream'), // the same id for another event
    ]);
    expect(store.groupCommits.commits).toBe(1);
    expect(value(results[1]).position).toBe(value(results[0]).position);
    expect(value(results[1]).events.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(rejection(results[3])).toBeInstanceOf(DuplicateEventIdError);
    expect(await store.readStream(s)).toHaveLength(2);
    expect(commits[0]).toEqual(expect.objectContaining({ appends: 4, failed: 1, events: 3 }));
  });

  it('a group that cannot begin fails as one and writes nothing; the next group succeeds', async () => {
    const f = tempFile();
    const busy = SqliteEventStore.open(f, { busyTimeoutMs: 20 });
    const locker = new Database(f);
    try {
      locker.exec('BEGIN IMMEDIATE');
      const streams = [uniqueStream(), uniqueStream(), uniqueStream()];
      const results = await settle(streams.map((s) => busy.append(s, [newEvent('E')], 'no_stream')));
      for (const r of results) expect(rejection(r)).toEqual(expect.objectContaining({ code: 'SQLITE_BUSY' }));
      expect(busy.groupCommits).toEqual(expect.objectContaining({ commits: 1, appends: 3, failed: 3, events: 0 }));
      locker.exec('ROLLBACK');
      expect(await busy.headPosition()).toBe(0n);
      const ok = await settle(streams.map((s) => busy.append(s, [newEvent('E')], 'no_stream')));
      expect(ok.map((r) => value(r).nextRevision)).toEqual([0n, 0n, 0n]);
    } finally {
      locker.close();
      await busy.close();
    }
  });

  it('splits a burst larger than maxBatchEvents over several commits, in order', async () => {
    const f = tempFile();
    const small = SqliteEventStore.open(f, { maxBatchEvents: 10 });
    try {
      const s = uniqueStream();
      // A 12-event append is larger than the limit: it still commits whole, in a group of its own.
      const results = await Promise.all([
        ...Array.from({ length: 25 }, (_, i) => small.append(s, [newEvent('E', { i })], i === 0 ? 'no_stream' : BigInt(i - 1))),
        small.append(s, Array.from({ length: 12 }, () => newEvent('Big')), 24n),
      ]);
      expect(results.map((r) => r.nextRevision)).toEqual([...Array.from({ length: 25 }, (_, i) => BigInt(i)), 36n]);
      expect(small.groupCommits).toEqual(expect.objectContaining({ commits: 4, appends: 26, events: 37 }));
    } finally {
      await small.close();
    }
  });

  it('close() commits and answers the appends still queued', async () => {
    const f = tempFile();
    const closing = SqliteEventStore.open(f);
    const pending = Array.from({ length: 10 }, () => closing.append(uniqueStream(), [newEvent('E')], 'no_stream'));
    await closing.close();
    expect((await Promise.all(pending)).map((r) => r.nextRevision)).toEqual(Array.from({ length: 10 }, () => 0n));
    await expect(closing.append(uniqueStream(), [newEvent('E')], 'any')).rejects.toThrow(/closed/);
    const reopened = SqliteEventStore.open(f);
    expect(await reopened.headPosition()).toBe(10n);
    await reopened.close();
  });
});
