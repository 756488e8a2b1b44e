import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { verifyLog } from '../integrity.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const script = resolve('test/support/append-loop.mjs');
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
});
