import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { eventsFile, readModelsFile } from '#libs/event-store/open.js';
import { openNote, parseCheckpoint, parseSignerKey, verifierKey } from '#libs/event-store/checkpoint.js';
import { digestAt } from '#libs/event-store/integrity.js';
import { verifyConsistency, verifyInclusion } from '#libs/event-store/merkle.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { REPLAYABLE_READ_MODELS } from '#projections/replay/read-models.js';
import { KEYS, removeDir, startApp, TestClock } from './support/app.js';

/** `ledger` as users run it: the compiled CLI in dist/, as a child process. */
const CLI = resolve('dist/apps/cli/src/main.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function ledger(dataDir: string, args: readonly string[], stdin?: string): Promise<Run> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, LEDGER_DATA_DIR: dataDir, LEDGER_STORE: 'sqlite', LOG_LEVEL: 'silent' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

function tables(file: string): Record<string, string[]> {
  const db = new Database(file, { readonly: true });
  try {
    const names = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    return Object.fromEntries(names.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all().map((r) => JSON.stringify(r)).sort()]));
  } finally {
    db.close();
  }
}

/** What every replayable read model's query answers on a read-model database, with its default parameters. */
function answers(file: string, now: Date): Record<string, unknown> {
  const db = new Database(file, { readonly: true });
  try {
    return Object.fromEntries(REPLAYABLE_READ_MODELS.map((r) => [r.name, r.query(db, r.parse({}), now)]));
  } finally {
    db.close();
  }
}

describe('ledger CLI (compiled, as a child process)', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
    dirs.push(d);
    return d;
  };
  let source: string;
  let head: bigint;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error('run `npm run build` first: this suite runs the compiled CLI in dist/');
    const clock = new TestClock();
    const t = await startApp({ clock });
    source = t.dataDir;
    dirs.push(source);
    const post = async (path: string, body?: unknown) => {
      const r = await t.request('POST', path, { body, key: KEYS.admin });
      if (r.status >= 300) throw new Error(`${path}: ${r.text}`);
    };
    for (const id of ['C1', 'C2', 'C3', 'C4']) {
      await post('/v1/partners', { partnerId: id, name: `Partner ${id}`, type: 'distributor', domain: `${id.toLowerCase()}.example` });
      clock.advance(60_000);
    }
    await post('/v1/partners/C1/activate');
    await post('/v1/partners/C1/certifications', { sellerId: 's1', certification: 'Sales', earnedAt: '2026-01-01' });
    await post('/v1/partners/C2/terminate', { reason: 'gone' });
    head = await t.store.headPosition();
    await t.close();
  }, 60_000);

  afterAll(() => {
    for (const d of dirs) removeDir(d);
  });

  it('verify passes and digest prints the signed tree head to keep; verify compares a kept head or digest; prove answers proofs', async () => {
    const v = await ledger(source, ['verify']);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, checkedEvents: Number(head), position: head.toString(), size: Number(head) });
    const d = await ledger(source, ['digest', '--position', '4']);
    expect(d.code).toBe(0);
    const digest = JSON.parse(d.stdout) as { position: string; size: number; rootHash: string; algorithm: string; checkpoint: string };
    const store = SqliteEventStore.open(eventsFile(source));
    let v1: string;
    try {
      expect(digest).toMatchObject({ position: '4', size: 4, rootHash: (await store.merkle.treeHead(4)).rootHash, algorithm: 'rfc9162-sha256' });
      v1 = (await digestAt(store, 4n)).digest;
    } finally {
      await store.close();
    }
    const key = readFileSync(join(source, 'checkpoint.key'), 'utf8');
    expect(parseCheckpoint(openNote(digest.checkpoint, verifierKey(parseSignerKey(key))))).toMatchObject({ size: 4, rootHash: digest.rootHash });
    const kept = await ledger(source, ['verify', '--size', '4', '--root', digest.rootHash]);
    expect(kept.code).toBe(0);
    expect(JSON.parse(kept.stdout)).toMatchObject({ ok: true, rootMatches: true, checkedEvents: Number(head) });
    const base64Root = digest.checkpoint.split('\n')[2]!;
    expect((await ledger(source, ['verify', '--size', '4', '--root', base64Root])).code).toBe(0);
    const wrong = await ledger(source, ['verify', '--size', '3', '--root', digest.rootHash]);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, rootMatches: false });
    expect(wrong.stderr).toMatch(/^verify: FAILED: the root of the first 3 events differs/m);
    expect((await ledger(source, ['verify', '--position', '4', '--digest', v1])).code).toBe(0);
    const other = await ledger(source, ['verify', '--digest', v1]);
    expect(other.code).toBe(1);
    expect(JSON.parse(other.stdout)).toMatchObject({ ok: true, digestMatches: false });

    const c = JSON.parse((await ledger(source, ['prove', '--from', '4'])).stdout) as { fromSize: number; toSize: number; proof: string[]; fromRootHash: string; toRootHash: string };
    const hex = (x: string) => Buffer.from(x, 'hex');
    expect(c.fromRootHash).toBe(digest.rootHash);
    expect(verifyConsistency(4, Number(head), c.proof.map(hex), hex(digest.rootHash), hex(c.toRootHash))).toBe(true);
    const i = JSON.parse((await ledger(source, ['prove', '--position', '2', '--size', '4'])).stdout) as { leafIndex: number; leafHash: string; auditPath: string[] };
    expect(verifyInclusion(i.leafIndex, 4, hex(i.leafHash), i.auditPath.map(hex), hex(digest.rootHash))).toBe(true);
    // Usage errors: one line, exit 2.
    for (const args of [['verify', '--size', 'x'], ['verify', '--root', digest.rootHash], ['prove'], ['prove', '--from', '99999'], ['digest', '--size', '1', '--position', '1']]) {
      const r = await ledger(source, args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 240_000);

  it('verify exits 1 naming the position of a row altered in the SQLite file', async () => {
    const dir = fresh();
    const out = join(dir, 'log.ndjson');
    expect((await ledger(source, ['export', '--out', out])).code).toBe(0);
    expect((await ledger(dir, ['import', out])).code).toBe(0);
    const db = new Database(eventsFile(dir));
    try {
      // What it takes to alter the append-only table: drop its trigger first.
      db.exec('DROP TRIGGER events_append_only_update');
      db.prepare("UPDATE events SET metadata = json_set(metadata, '$.recordedAt', '2020-01-01T00:00:00.000Z') WHERE position = 5").run();
    } finally {
      db.close();
    }
    const v = await ledger(dir, ['verify']);
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: false, firstInvalidPosition: '5', checkedEvents: 4 });
    const before = await ledger(dir, ['verify', '--position', '4']);
    expect(before.code).toBe(0);
  }, 180_000);

  it('export, import into a fresh store, verify: same hashes, same digest, and every read model rebuilds to the same answers', async () => {
    const target = fresh();
    const file = join(target, '..', `${target.split('/').pop()}-export.ndjson`);
    dirs.push(file);
    const exported = await ledger(source, ['export', '--out', file]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain(`${head} events`);
    const text = readFileSync(file, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ format: 'channel-ledger-export', version: 2, fromPosition: '0', head: head.toString() });
    const store = SqliteEventStore.open(eventsFile(source));
    const tree = await store.merkle.treeHead();
    await store.close();
    expect(lines[lines.length - 1]).toEqual({ count: Number(head), size: tree.size, rootHash: tree.rootHash, head: head.toString() });
    expect(lines.slice(1, -1).map((l) => l.position)).toEqual(Array.from({ length: Number(head) }, (_, i) => String(i + 1)));
    // stdout carries the same bytes; --from-position is exclusive.
    expect((await ledger(source, ['export'])).stdout).toBe(text);
    const tail = (await ledger(source, ['export', '--from-position', String(head - 2n)])).stdout.trim().split('\n');
    expect(tail.slice(1, -1)).toEqual(text.trim().split('\n').slice(-3, -1));
    expect(JSON.parse(tail[tail.length - 1]!)).toMatchObject({ count: 2, size: tree.size, rootHash: tree.rootHash });

    const imported = await ledger(target, ['import', file]);
    expect({ code: imported.code, stderr: imported.stderr }).toMatchObject({ code: 0 });
    expect(imported.stderr).toContain(`${head} events imported`);
    const verified = await ledger(target, ['verify']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, checkedEvents: Number(head) });
    // The same tree head; each data directory signs it with its own key.
    const headOf = async (dir: string) => {
      const { position, size, rootHash } = JSON.parse((await ledger(dir, ['digest'])).stdout) as Record<string, unknown>;
      return { position, size, rootHash };
    };
    expect(await headOf(target)).toEqual(await headOf(source));

    // A second import into the now non-empty store is refused, and appends nothing.
    const again = await ledger(target, ['import', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty/);
    expect(JSON.parse((await ledger(target, ['verify'])).stdout)).toMatchObject({ checkedEvents: Number(head) });

    expect((await ledger(source, ['rebuild'])).code).toBe(0);
    expect((await ledger(target, ['rebuild'])).code).toBe(0);
    expect(tables(readModelsFile(target))).toEqual(tables(readModelsFile(source)));
    const now = new Date('2026-06-01T00:00:00Z');
    expect(answers(readModelsFile(target), now)).toEqual(answers(readModelsFile(source), now));
  }, 180_000);

  it('import refuses an export cut at a line boundary and leaves the target as it was; export --out refuses to overwrite anything', async () => {
    const text = (await ledger(source, ['export'])).stdout;
    const lines = text.trim().split('\n');
    const target = fresh();
    // Cut after 3 of the events: every line whole, the trailer missing.
    const cut = join(target, '..', `${target.split('/').pop()}-cut.ndjson`);
    dirs.push(cut);
    writeFileSync(cut, `${lines.slice(0, 4).join('\n')}\n`);
    const r = await ledger(target, ['import', cut]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^import: the export has no trailer line after its 3 events: it was cut short; nothing imported$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Nothing of it was kept: the same file whole imports into the same target.
    const whole = join(target, '..', `${target.split('/').pop()}-whole.ndjson`);
    dirs.push(whole);
    writeFileSync(whole, text);
    // A trailer that does not match what was imported (another log's root) is refused too, and rolled back.
    const trailer = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
    writeFileSync(cut, `${lines.slice(0, -1).join('\n')}\n${JSON.stringify({ ...trailer, rootHash: 'ab'.repeat(32) })}\n`);
    const forged = await ledger(target, ['import', cut]);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toMatch(/is not the trailer's .*nothing imported/);
    expect((await ledger(target, ['import', whole])).code).toBe(0);
    expect(JSON.parse((await ledger(target, ['verify'])).stdout)).toMatchObject({ ok: true, checkedEvents: Number(head) });

    // export --out: never over an existing path (the live log, a device), never into the data directory.
    const before = readFileSync(eventsFile(source));
    for (const [out, message] of [
      [eventsFile(source), /already exists/],
      ['/dev/null', /already exists/],
      [join(source, 'new-export.ndjson'), /inside the data directory/],
      [join(target, 'no-such-dir', 'x.ndjson'), /does not exist/],
    ] as const) {
      const e = await ledger(source, ['export', '--out', out]);
      expect({ out, code: e.code }).toEqual({ out, code: 2 });
      expect(e.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
    }
    expect(readFileSync(eventsFile(source)).equals(before)).toBe(true);
    expect(existsSync(join(source, 'new-export.ndjson'))).toBe(false);
  }, 240_000);

  it('import reads stdin, and refuses a broken file naming the line', async () => {
    const text = (await ledger(source, ['export'])).stdout;
    const viaStdin = fresh();
    const r = await ledger(viaStdin, ['import', '-'], text);
    expect(r.code).toBe(0);
    expect(JSON.parse((await ledger(viaStdin, ['verify'])).stdout)).toMatchObject({ ok: true, checkedEvents: Number(head) });

    const lines = text.trim().split('\n');
    const broken = fresh();
    const file = join(broken, 'broken.ndjson');
    writeFileSync(file, `${lines[0]}\n${lines[1]!.slice(0, 40)}\n`);
    const refused = await ledger(broken, ['import', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/line 2/);

    const reordered = fresh();
    const swapped = join(reordered, 'swapped.ndjson');
    writeFileSync(swapped, `${lines[1]}\n${lines[0]}\n`);
    const out = await ledger(reordered, ['import', swapped]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/line/);
  }, 180_000);
});
