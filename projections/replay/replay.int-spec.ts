import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { RecordedEvent } from '#events/envelope.js';
import type { EventStore, ReadAllOptions } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { newEvent } from '#libs/event-store/testing/fixtures.js';
import { NotFound } from '#libs/kernel/errors.js';
import { listPartners } from '../partners/partners.queries.js';
import { findReplayable, partnersReplay, REPLAYABLE_READ_MODELS } from './read-models.js';
import { replayAsOf } from './replay.js';

const enrolled = (partnerId: string, at: string) =>
  newEvent('PartnerEnrolled', { partnerId, name: partnerId, type: 'reseller', domain: `${partnerId.toLowerCase()}.example`, tier: 'Registered', programVersion: 0, enrolledAt: at }, { recordedAt: at });

/** Counts what the replay pulls from the log. */
function counting(store: EventStore): { store: EventStore; read: () => number } {
  let read = 0;
  const wrapped = Object.create(store) as EventStore;
  (wrapped as { readAll: EventStore['readAll'] }).readAll = async function* (o?: ReadAllOptions): AsyncGenerator<RecordedEvent> {
    for await (const e of store.readAll(o)) {
      read += 1;
      yield e;
    }
  };
  return { store: wrapped, read: () => read };
}

describe('as-of replay', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-replay-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const names = async (asOf: string) => {
    const r = await replayAsOf(store, [partnersReplay.projections[0]!], new Date(asOf), (db) => listPartners(db, {}, new Date(asOf)).items.map((p) => p.partnerId));
    return { position: r.position, partners: r.value };
  };

  it('applies the longest prefix of the log recorded at or before asOf, stopping at the first event stamped later', async () => {
    await store.append('partner-A', [enrolled('A', '2026-03-02T10:00:00.000Z')], 'no_stream');
    // B was stamped after C but committed before it (two commands racing): at 10:01:30 neither was visible.
    await store.append('partner-B', [enrolled('B', '2026-03-02T10:02:00.000Z')], 'no_stream');
    await store.append('partner-C', [enrolled('C', '2026-03-02T10:01:00.000Z')], 'no_stream');

    expect(await names('2026-03-02T09:59:59.999Z')).toEqual({ position: 0n, partners: [] });
    expect(await names('2026-03-02T10:00:00.000Z')).toEqual({ position: 1n, partners: ['A'] });
    expect(await names('2026-03-02T10:01:30.000Z')).toEqual({ position: 1n, partners: ['A'] });
    expect(await names('2026-03-02T10:02:00.000Z')).toEqual({ position: 3n, partners: ['A', 'B', 'C'] });
  });

  it('stops reading the log at the first later event, and closes its in-memory database', async () => {
    for (let i = 0; i < 50; i++) await store.append(`partner-P${i}`, [enrolled(`P${i}`, new Date(Date.parse('2026-03-02T10:00:00Z') + i * 1000).toISOString())], 'no_stream');
    const c = counting(store);
    let kept: Database.Database | undefined;
    const r = await replayAsOf(c.store, partnersReplay.projections, new Date('2026-03-02T10:00:09.500Z'), (db) => {
      kept = db;
      return listPartners(db, { limit: 1000 }, new Date()).items.length;
    }, { batchSize: 3 });
    expect(r).toEqual({ position: 10n, events: 10, value: 10 });
    expect(c.read()).toBe(11);
    expect(kept?.open).toBe(false);
  });

  it('answers with the live query functions, 404 included', async () => {
    await store.append('partner-A', [enrolled('A', '2026-03-02T10:00:00.000Z')], 'no_stream');
    const entry = findReplayable('partners')!;
    const at = new Date('2026-03-02T11:00:00Z');
    const one = await replayAsOf(store, entry.projections, at, (db) => entry.query(db, entry.parse({ partnerId: 'A' }), at));
    expect(one.value).toMatchObject({ partnerId: 'A', status: 'pending' });
    await expect(replayAsOf(store, entry.projections, at, (db) => entry.query(db, entry.parse({ partnerId: 'Z' }), at))).rejects.toBeInstanceOf(NotFound);
    expect(() => entry.parse({ limit: '0' })).toThrow(/limit/);
    expect(() => entry.parse({ status: 'sleeping' })).toThrow(/status/);
  });

  it('registers every read model under a unique name with the projections it needs', () => {
    const seen = new Set<string>();
    for (const r of REPLAYABLE_READ_MODELS) {
      expect(seen.has(r.name)).toBe(false);
      seen.add(r.name);
      expect(r.projections.length).toBeGreaterThan(0);
      expect(r.params).not.toContain('asOf');
      expect(r.params).not.toContain('projection');
    }
    expect(seen.has('partners')).toBe(true);
  });
});
