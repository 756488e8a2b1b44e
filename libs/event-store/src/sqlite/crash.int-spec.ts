import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { verifyLog } from '../integrity.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const script = resolve('test/support/append-loop.mjs');
const groupScript = resolve('libs/event-store/src/sqlite/group-append-loop.mjs');
const built = resolve('dist/libs/event-store/src/sqlite/sqlite-event-store.js');

describe('SQLite store under SIGKILL', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(built)) throw new Error('run `npm run build` first: the crash test runs the compiled adapter in a child process');
    dir = mkdtempSync(join(tmpdir(), 'ledger-crash-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([1, 2, 3])('loses no acknowledged append and stays verifiable (run %i)', async (run) => {
    const file = join(dir, `events-${run}.sqlite`);
    const child = spawn(process.execPath, [script, file, '4'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: { eventId: string; position: string }[] = [];
    const killAfter = 200 + run * 150;
    await new Promise<void>((done) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        acked.push(JSON.parse(line) as { eventId: string; position: string });
        if (acked.length === killAfter) child.kill('SIGKILL');
      });
      child.on('exit', () => done());
    });
    expect(acked.length).toBeGreaterThanOrEqual(killAfter);

    const store = SqliteEventStore.open(file);
    try {
      const ids = new Set<string>();
      for await (const e of store.readAll()) ids.add(e.eventId);
      const lost = acked.filter((a) => !ids.has(a.eventId));
      expect(lost).toEqual([]);
      // An append the child did not live to acknowledge may be there too; never the reverse.
      expect(ids.size).toBeGreaterThanOrEqual(acked.length);
      const v = await verifyLog(store);
      expect(v.ok).toBe(true);
      expect(v.checkedEvents).toBe(ids.size);
      process.stdout.write(`crash run ${run}: ${acked.length} acknowledged before SIGKILL, ${ids.size} stored, 0 lost\n`);
    } finally {
      await store.close();
    }
  });

  it.each([1, 2])('with 64 concurrent writers, group commits lose no acknowledged append (run %i)', async (run) => {
    const file = join(dir, `group-${run}.sqlite`);
    const child = spawn(process.execPath, [groupScript, file, '64'], { stdio: ['ignore', 'pipe', 'inherit'] });
    interface Ack {
      stream: string;
      ids: string[];
      position: string;
      revision: string;
      commits: number;
    }
    const acked: Ack[] = [];
    const killAfter = 1500 + run * 700;
    await new Promise<void>((done) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        acked.push(JSON.parse(line) as Ack);
        if (acked.length === killAfter) child.kill('SIGKILL');
      });
      child.on('exit', () => done());
    });
    expect(acked.length).toBeGreaterThanOrEqual(killAfter);
    // The appends really went through shared transactions.
    const commits = Math.max(...acked.map((a) => a.commits));
    expect(commits).toBeLessThan(acked.length / 4);

    const store = SqliteEventStore.open(file);
    try {
      const stored = new Map<string, { position: bigint; streamId: string; revision: bigint }>();
      for await (const e of store.readAll()) stored.set(e.eventId, { position: e.position, streamId: e.streamId, revision: e.revision });
      const lost = acked.flatMap((a) => a.ids).filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      // Each acknowledged append is where its answer said: the last event at the answered position and revision.
      for (const a of acked) {
        const last = stored.get(a.ids[a.ids.length - 1]!)!;
        expect([last.streamId, last.position.toString(), last.revision.toString()]).toEqual([a.stream, a.position, a.revision]);
      }
      const v = await verifyLog(store);
      expect(v.ok).toBe(true);
      expect(v.checkedEvents).toBe(stored.size);
      const events = acked.reduce((n, a) => n + a.ids.length, 0);
      process.stdout.write(`group crash run ${run}: ${acked.length} appends (${events} events) acknowledged in ${commits} commits before SIGKILL, ${stored.size} events stored, 0 lost\n`);
    } finally {
      await store.close();
    }
  });
});
