import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS } from './support/app.js';
import { startService } from './support/service-process.js';

const auth = { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' };

describe('the service as a process', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-proc-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('on SIGTERM stops accepting, finishes the request in flight, closes the store, and restarts on the same data', async () => {
    const svc = await startService(dir, { LEDGER_CONSISTENCY_TIMEOUT_MS: '1500' });
    const created = await fetch(`${svc.url}/v1/partners`, { method: 'POST', headers: auth, body: JSON.stringify({ partnerId: 'G1', name: 'Graceful', type: 'msp', domain: 'graceful.example' }) });
    expect(created.status).toBe(201);
    const { position } = (await created.json()) as { position: string };
    // A read waiting for a position that never comes is in flight when the signal arrives.
    const inFlight = fetch(`${svc.url}/v1/partners?minPosition=${BigInt(position) + 100n}`, { headers: auth }).then(async (r) => ({ status: r.status, body: (await r.json()) as { type?: string } }));
    await new Promise((r) => setTimeout(r, 200));
    svc.child.kill('SIGTERM');
    const answered = await inFlight;
    expect(answered.status).toBe(503);
    expect(answered.body.type).toBe('not-caught-up');
    const exit = await svc.exited;
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    await expect(fetch(`${svc.url}/health`)).rejects.toThrow();
    // The last connection to close checkpoints the WAL into the database and removes it.
    expect(existsSync(join(dir, 'events.sqlite-wal'))).toBe(false);

    const again = await startService(dir);
    try {
      const read = await fetch(`${again.url}/v1/partners/G1?minPosition=${position}`, { headers: auth });
      expect(read.status).toBe(200);
      expect(((await read.json()) as { domain: string }).domain).toBe('graceful.example');
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  }, 120_000);

  it('refuses to start in production without configured keys, and says why', async () => {
    const env = { NODE_ENV: 'production', LEDGER_API_KEYS: '' };
    await expect(startService(dir, env)).rejects.toThrow(/API key|LEDGER_API_KEYS/i);
  }, 30_000);

  it('creates an admin key on first start without keys, prints it once, and accepts it', async () => {
    const first = await startService(dir, { LEDGER_API_KEYS: '' });
    const printed = /created an admin key[^\n]*: (\S+)/i.exec(first.stderr());
    expect(printed).not.toBeNull();
    const key = printed![1]!;
    expect((await fetch(`${first.url}/v1/partners`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    first.child.kill('SIGTERM');
    await first.exited;
    const second = await startService(dir, { LEDGER_API_KEYS: '' });
    try {
      expect(second.stderr()).not.toContain(key);
      expect((await fetch(`${second.url}/v1/partners`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 120_000);
});
