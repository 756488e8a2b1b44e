import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { eventsFile } from '#libs/event-store/open.js';
import { eventHash } from '#libs/event-store/hashing.js';
import { KEYS, removeDir, startApp, type TestApp } from './support/app.js';

/** The standalone verifier, run as an auditor would: a plain Node process, no ledger code loaded. */
const VERIFIER = resolve('tools/verifier/verify.mjs');

function verifier(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [VERIFIER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

const enroll = async (t: TestApp, id: string) => {
  const r = await t.request('POST', '/v1/partners', { key: KEYS.admin, body: { partnerId: id, name: `Partner ${id}`, type: 'reseller', domain: `${id.toLowerCase()}.example` } });
  if (r.status !== 201) throw new Error(r.text);
};

describe('standalone verifier (tools/verifier/verify.mjs)', () => {
  const dirs: string[] = [];
  let work: string;
  let keyFile: string;
  let kept: string;
  let keptSize: number;
  let exportFile: string;
  let t: TestApp;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ledger-verifier-'));
    dirs.push(work);
    t = await startApp();
    dirs.push(t.dataDir);
    for (const id of ['VA', 'VB', 'VC', 'VD', 'VE']) await enroll(t, id);
    const d = await t.request('GET', '/v1/audit/digest', { key: KEYS.auditor });
    keptSize = d.body.size as number;
    kept = join(work, 'kept.checkpoint');
    writeFileSync(kept, d.body.checkpoint as string);
    keyFile = join(work, 'ledger.vkey');
    writeFileSync(keyFile, (await t.request('GET', '/v1/audit/public-key', { key: KEYS.auditor })).body.verifierKey as string);
    for (const id of ['VF', 'VG', 'VH']) await enroll(t, id);
    exportFile = join(work, 'log.ndjson');
    writeFileSync(exportFile, (await t.request('GET', '/v1/audit/export', { key: KEYS.auditor })).text);
  }, 60_000);

  afterAll(async () => {
    await t.close();
    for (const d of dirs) removeDir(d);
  });

  it('checks the kept checkpoint against the running service with a consistency proof, and every event on request', async () => {
    const r = await verifier(['--checkpoint', kept, '--key', keyFile, '--url', t.url, '--token', KEYS.auditor]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ ok: true, fromSize: keptSize, toSize: Number(await t.store.headPosition()) });
    expect(out.toSize).toBeGreaterThan(keptSize);
    expect(out.proofHashes).toBeGreaterThan(0);
    const all = await verifier(['--checkpoint', kept, '--key', keyFile, '--url', t.url, '--token', KEYS.auditor, '--events']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ ok: true, eventsChecked: out.toSize });
  });

  it('checks an export file against the kept checkpoint, and refuses a cut or altered one', async () => {
    const ok = await verifier(['--checkpoint', kept, '--key', keyFile, '--export', exportFile]);
    expect({ code: ok.code, stderr: ok.stderr }).toMatchObject({ code: 0 });
    const lines = (await t.request('GET', '/v1/audit/export', { key: KEYS.auditor })).text.trim().split('\n');
    const cut = join(work, 'cut.ndjson');
    writeFileSync(cut, `${lines.slice(0, -1).join('\n')}\n`);
    expect(await verifier(['--checkpoint', kept, '--key', keyFile, '--export', cut])).toMatchObject({ code: 1, stderr: expect.stringMatching(/no trailer line/) });
    const altered = join(work, 'altered.ndjson');
    const target = lines.findIndex((l) => l.includes('"Partner VB"'));
    expect(target).toBeGreaterThan(0);
    writeFileSync(altered, lines.map((l, i) => (i === target ? l.replace('"Partner VB"', '"Partner XX"') : l)).join('\n') + '\n');
    expect(await verifier(['--checkpoint', kept, '--key', keyFile, '--export', altered])).toMatchObject({ code: 1, stderr: expect.stringMatching(/content does not match its hash/) });
  });

  it('fails on a tampered copy of the data directory served by another instance, even with hashes and tree recomputed', async () => {
    // The attacker's copy: event 2 edited, its hash recomputed (it is the only event of its stream), the
    // Merkle tree deleted so that the service recomputes it on start, and signed with the same key.
    const copy = mkdtempSync(join(tmpdir(), 'ledger-tampered-'));
    dirs.push(copy);
    cpSync(t.dataDir, copy, { recursive: true });
    const db = new Database(eventsFile(copy));
    db.exec('DROP TRIGGER events_append_only_update; DROP TRIGGER merkle_runs_append_only_delete; DROP TRIGGER merkle_subtrees_append_only_delete; DROP TRIGGER merkle_last_leaf_append_only_delete');
    const row = db.prepare<[], Record<string, string | number>>('SELECT * FROM events WHERE position = 2').get()!;
    const data = { ...(JSON.parse(row.data as string) as Record<string, unknown>), name: 'Someone else' };
    const metadata = JSON.parse(row.metadata as string) as never;
    const hash = eventHash(row.prev_hash as string, { eventId: row.event_id as string, type: row.type as string, streamId: row.stream_id as string, revision: BigInt(row.revision), data, metadata });
    db.prepare('UPDATE events SET data = ?, hash = ? WHERE position = 2').run(JSON.stringify(data), hash);
    db.exec('DELETE FROM merkle_runs; DELETE FROM merkle_subtrees; DELETE FROM merkle_last_leaf');
    db.close();
    const forged = await startApp({ dataDir: copy });
    try {
      // The copy is self-consistent: its own verify passes...
      expect((await forged.request('POST', '/v1/audit/verify', { key: KEYS.auditor })).body).toMatchObject({ ok: true });
      // ... but not with the checkpoint the auditor kept.
      const r = await verifier(['--checkpoint', kept, '--key', keyFile, '--url', forged.url, '--token', KEYS.auditor]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^NOT VERIFIED: the consistency proof from \d+ to \d+ events does not hold/);
    } finally {
      await forged.close();
    }
  });

  it('refuses a checkpoint not signed by the key, and reports usage errors with exit 2', async () => {
    const other = join(work, 'other.checkpoint');
    writeFileSync(other, (await import('node:fs')).readFileSync(kept, 'utf8').replace(/\n(\d+)\n/, (_m, n: string) => `\n${Number(n) - 1}\n`));
    expect(await verifier(['--checkpoint', other, '--key', keyFile, '--url', t.url, '--token', KEYS.auditor])).toMatchObject({ code: 1, stderr: expect.stringMatching(/signature does not verify/) });
    expect((await verifier(['--checkpoint', kept])).code).toBe(2);
    expect((await verifier(['--checkpoint', kept, '--key', keyFile, '--url', 'http://127.0.0.1:1', '--token', 'x'])).code).toBe(2);
  });
});
