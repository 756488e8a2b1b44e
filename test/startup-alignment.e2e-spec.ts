import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventsFile } from '#libs/event-store/open.js';
import { KEYS, removeDir, startApp, type TestApp } from './support/app.js';

const enroll = async (t: TestApp, id: string): Promise<string> => {
  const r = await t.request('POST', '/v1/partners', { key: KEYS.admin, body: { partnerId: id, name: `Partner ${id}`, type: 'reseller', domain: `${id.toLowerCase()}.example` } });
  if (r.status !== 201) throw new Error(r.text);
  return r.headers.get('ledger-position')!;
};

async function partners(t: TestApp, minPosition?: string): Promise<string[]> {
  const r = await t.request<{ items: { partnerId: string }[] }>('GET', `/v1/partners?limit=1000${minPosition ? `&minPosition=${minPosition}` : ''}`, { key: KEYS.ops });
  if (r.status !== 200) throw new Error(r.text);
  return r.body.items.map((p) => p.partnerId).sort();
}

function replaceLog(dataDir: string, with_: string | undefined): void {
  for (const suffix of ['-wal', '-shm']) rmSync(`${eventsFile(dataDir)}${suffix}`, { force: true });
  if (with_ === undefined) writeFileSync(eventsFile(dataDir), '');
  else copyFileSync(with_, eventsFile(dataDir));
}

describe('start-up: read models out of step with the log are rebuilt before they are served', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeDir));

  it('an older log restored beside newer read models: rebuilt from the log, ready only then, new positions served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-align-'));
    const saved = join(mkdtempSync(join(tmpdir(), 'ledger-align-old-')), 'events.sqlite');
    dirs.push(dir, join(saved, '..'));
    let t = await startApp({ dataDir: dir });
    await partners(t, await enroll(t, 'OLD1'));
    await t.close();
    copyFileSync(eventsFile(dir), saved);
    t = await startApp({ dataDir: dir });
    await enroll(t, 'NEW1');
    await partners(t, await enroll(t, 'NEW2'));
    await t.close();

    replaceLog(dir, saved);
    t = await startApp({ dataDir: dir });
    try {
      // Entities the log does not have are never served: the read models were reset at start.
      expect(await partners(t)).toEqual(['OLD1']);
      const ready = await t.request('GET', '/health/ready', { key: null });
      expect(ready.status).toBe(200);
      // The next enrollment takes a position the old read models had seen; it is served, not a 404.
      const at = await enroll(t, 'AFTER');
      expect(await partners(t, at)).toEqual(['AFTER', 'OLD1']);
    } finally {
      await t.close();
    }
  });

  it('a zero-byte log: the read models are emptied rather than served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-align-'));
    dirs.push(dir);
    let t = await startApp({ dataDir: dir });
    await partners(t, await enroll(t, 'GONE'));
    await t.close();
    replaceLog(dir, undefined);
    t = await startApp({ dataDir: dir });
    try {
      expect(await partners(t)).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('read models built from another, longer log: noticed by the last event they applied, rebuilt', async () => {
    const a = mkdtempSync(join(tmpdir(), 'ledger-align-a-'));
    const b = mkdtempSync(join(tmpdir(), 'ledger-align-b-'));
    dirs.push(a, b);
    let t = await startApp({ dataDir: a });
    await partners(t, await enroll(t, 'FROMA'));
    await t.close();
    t = await startApp({ dataDir: b });
    for (const id of ['B1', 'B2', 'B3']) await enroll(t, id);
    await t.close();
    // B's log (further than A's read models reach) beside A's read models.
    replaceLog(a, eventsFile(b));
    expect(existsSync(eventsFile(a))).toBe(true);
    t = await startApp({ dataDir: a });
    try {
      expect(await partners(t)).toEqual(['B1', 'B2', 'B3']);
    } finally {
      await t.close();
    }
  });
});
