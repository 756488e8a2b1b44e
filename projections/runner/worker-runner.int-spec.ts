import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type Database from 'better-sqlite3';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { waitUntil } from '#libs/event-store/testing/contract.js';
import { newEvent } from '#libs/event-store/testing/fixtures.js';
import { partnersProjection } from '../partners/partners.projection.js';
import { getPartner } from '../partners/partners.queries.js';
import { ALL_PROJECTIONS } from '../index.js';
import type { Projection } from './projection.js';
import { ReadModels } from './read-models.js';
import { openReadModels } from './runner.js';
import { WorkerProjectionRunner } from './worker-runner.js';

const NOW = new Date('2026-03-31T12:00:00.000Z');

// Needs the build (`npm test` builds first): a worker thread runs dist/projections/runner/runner-thread.js.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-worker-runner-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const enrolled = (partnerId: string) =>
  newEvent('PartnerEnrolled', {
    partnerId,
    name: `Partner ${partnerId}`,
    type: 'reseller',
    domain: `${partnerId.toLowerCase()}.com`,
    tier: 'Registered',
    programVersion: 0,
    enrolledAt: '2026-01-01T00:00:00.000Z',
  });

function open(name: string, projections: readonly Projection[] = ALL_PROJECTIONS): { store: SqliteEventStore; db: Database.Database; runner: WorkerProjectionRunner; errors: unknown[]; batches: { position: bigint; events: number }[] } {
  const store = SqliteEventStore.open(join(dir, `${name}.events.sqlite`));
  const file = join(dir, `${name}.read-models.sqlite`);
  const db = openReadModels(file);
  const errors: unknown[] = [];
  const batches: { position: bigint; events: number }[] = [];
  const runner = new WorkerProjectionRunner(store, db, projections, file, {
    onError: (e) => errors.push(e),
    observer: { batchApplied: (b) => void batches.push({ position: b.position, events: b.events }) },
    // The worker's own polling would find appends within a minute: only the store's notification wakes it in time.
    pollMs: 60_000,
  });
  return { store, db, runner, errors, batches };
}

describe('WorkerProjectionRunner: the read models applied in a worker thread', () => {
  it('gives read-your-writes on this thread, while evolve never runs on it', async () => {
    const { store, db, runner, errors, batches } = open('ryw');
    const evolve = jest.spyOn(partnersProjection, 'evolve');
    try {
      await runner.alignWithLog(() => undefined);
      runner.start();
      expect(runner.running).toBe(true);
      const reads = new ReadModels(runner, db, 5000);
      // Each append is read back at once through its own position: the worker has applied it and this thread's
      // connection sees its commit.
      for (let i = 1; i <= 20; i++) {
        const id = `P${String(i).padStart(6, '0')}`;
        const { position } = await store.append(`partner-${id}`, [enrolled(id)], 'no_stream');
        const read = await reads.read(position, (d) => getPartner(d, id, NOW));
        expect(read.position).toBeGreaterThanOrEqual(position);
        expect(read.value).toMatchObject({ partnerId: id, status: 'pending' });
      }
      // 64 in flight: every one of them answered by position, none lost.
      const many = await Promise.all(
        Array.from({ length: 64 }, async (_, i) => {
          const id = `Q${String(i).padStart(6, '0')}`;
          const { position } = await store.append(`partner-${id}`, [enrolled(id)], 'no_stream');
          return (await reads.read(position, (d) => getPartner(d, id, NOW))).value?.partnerId;
        }),
      );
      expect(many.filter((id) => id !== undefined)).toHaveLength(64);
      expect(runner.position('partners')).toBe(await store.headPosition());
      expect(batches.length).toBeGreaterThan(0);
      expect(evolve).not.toHaveBeenCalled();
      expect(errors).toEqual([]);
    } finally {
      evolve.mockRestore();
      await runner.stop();
      await store.close();
      db.close();
    }
  });

  it('a query without minPosition finds the writes acknowledged before it; with the worker stopped it does not wait', async () => {
    const { store, db, runner } = open('fresh');
    try {
      runner.start();
      const reads = new ReadModels(runner, db, 5000);
      for (let i = 1; i <= 20; i++) {
        const id = `F${String(i).padStart(6, '0')}`;
        await store.append(`partner-${id}`, [enrolled(id)], 'no_stream');
        expect((await reads.read(undefined, (d) => getPartner(d, id, NOW))).value?.partnerId).toBe(id);
      }
      await runner.stop();
      await store.append('partner-F999999', [enrolled('F999999')], 'no_stream');
      const waits = jest.spyOn(runner, 'waitFor');
      // Answered from what the read models hold: no wait for a worker that is not there.
      expect((await reads.read(undefined, (d) => getPartner(d, 'F999999', NOW))).value).toBeUndefined();
      expect(waits).not.toHaveBeenCalled();
    } finally {
      await runner.stop();
      await store.close();
      db.close();
    }
  });

  it('stops (the worker exits, checkpoints kept), resumes where it stopped, and rebuilds a read model reset meanwhile', async () => {
    const { store, db, runner, errors, batches } = open('stop');
    try {
      runner.start();
      const { position } = await store.append('partner-P000001', [enrolled('P000001')], 'no_stream');
      expect(await runner.waitFor(position, 5000)).toBe(true);
      await runner.stop();
      expect(runner.running).toBe(false);
      const later = await store.append('partner-P000002', [enrolled('P000002')], 'no_stream');
      expect(runner.position()).toBe(position);
      // Stopped: nothing applies the new event, and a read that needs it times out.
      expect(await runner.waitFor(later.position, 300)).toBe(false);
      // Started again, it resumes at its checkpoints: the one event appended meanwhile is all it applies.
      const before = batches.length;
      runner.start();
      expect(await runner.waitFor(later.position, 5000)).toBe(true);
      expect(batches.slice(before).reduce((n, b) => n + b.events, 0)).toBe(1);
      await runner.stop();
      runner.reset(['partners']);
      expect(getPartner(db, 'P000001', NOW)).toBeUndefined();
      runner.start();
      expect(await runner.waitFor(later.position, 5000)).toBe(true);
      expect(getPartner(db, 'P000001', NOW)?.partnerId).toBe('P000001');
      expect(getPartner(db, 'P000002', NOW)?.partnerId).toBe('P000002');
      expect(() => runner.reset()).toThrow(/stop the projection runner/);
      expect(errors).toEqual([]);
    } finally {
      await runner.stop();
      await store.close();
      db.close();
    }
  });

  it('reports a worker that died as the runner error, then starts a new one by itself, which resumes', async () => {
    const { store, db, runner, errors } = open('died');
    try {
      runner.start();
      const { position } = await store.append('partner-P000001', [enrolled('P000001')], 'no_stream');
      expect(await runner.waitFor(position, 5000)).toBe(true);
      const seen: unknown[] = [];
      const watch = setInterval(() => seen.push(runner.error), 5);
      await (runner as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      // Nothing here calls start(): the runner brings up a new worker after its back-off.
      await waitUntil(async () => runner.restarts === 1 && runner.error === undefined, 5000);
      clearInterval(watch);
      expect(seen.map(String)).toContainEqual(expect.stringMatching(/^Error: the projection worker exited \(code 1\); starting it again$/));
      expect(errors).toHaveLength(1);
      const later = await store.append('partner-P000002', [enrolled('P000002')], 'no_stream');
      expect(await runner.waitFor(later.position, 5000)).toBe(true);
      expect(getPartner(db, 'P000002', NOW)?.partnerId).toBe('P000002');
    } finally {
      await runner.stop();
      await store.close();
      db.close();
    }
  });
});

describe('WorkerProjectionRunner: what the runner in the worker reports', () => {
  it('reaches this thread when a projection fails in the worker: the runner error names it, told once', async () => {
    const { store, db, runner, errors } = open('failed', [partnersProjection]);
    try {
      runner.start();
      const { position } = await store.append('partner-P000001', [enrolled('P000001')], 'no_stream');
      expect(await runner.waitFor(position, 5000)).toBe(true);
      expect(runner.error).toBeUndefined();
      // The read model's table goes missing under the worker: its next evolve fails and its runner stops.
      db.exec('DROP TABLE partners');
      await store.append('partner-P000002', [enrolled('P000002')], 'no_stream');
      await waitUntil(async () => runner.error !== undefined, 5000);
      expect(String(runner.error)).toMatch(/no such table: partners/);
      expect(runner.reconnecting).toBe(false);
      expect(errors.map(String)).toEqual([expect.stringMatching(/no such table: partners/)]);
    } finally {
      await runner.stop();
      await store.close();
      db.close();
    }
  });
});

describe('WorkerProjectionRunner: a worker built from other code than the service', () => {
  it('refuses to start on a projection version the service does not run, instead of resetting its read model', async () => {
    const other: Projection = { ...partnersProjection, version: partnersProjection.version + 1000 };
    const { store, db, runner } = open('versions', [other]);
    try {
      runner.start();
      await waitUntil(async () => runner.error !== undefined, 5000);
      expect(String(runner.error)).toMatch(new RegExp(`projection partners is version ${partnersProjection.version} in the worker's build and ${other.version} in the service`));
      expect(runner.position()).toBe(0n);
    } finally {
      await runner.stop();
      await store.close();
      db.close();
    }
  });
});
