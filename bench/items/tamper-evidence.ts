import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApp } from '#api/bootstrap.js';
import { eventsFile } from '#libs/event-store/open.js';
import { progress } from '#cli/progress.js';
import { checkpointText, parseSignerKey, signNote, type NoteSigner } from '#libs/event-store/checkpoint.js';
import { eventHash } from '#libs/event-store/hashing.js';
import type { NewEvent } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { figure, percentile, type Figure } from '../report.js';
import { BENCH_KEYS, benchConfig } from '../service.js';
import { syntheticLog } from '../synthetic-log.js';

function workload(count: number): { streamId: string; event: NewEvent }[] {
  const out: { streamId: string; event: NewEvent }[] = [];
  for (const a of syntheticLog({ events: count + 10, seed: 13 })) {
    for (const e of a.events) if (out.length < count) out.push({ streamId: a.streamId, event: e });
    if (out.length >= count) break;
  }
  return out;
}

async function rate(file: string, work: readonly { streamId: string; event: NewEvent }[], concurrency: number, withoutTree: boolean, label: string): Promise<number> {
  const store = SqliteEventStore.open(file, { withoutTree });
  const bar = progress(label);
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < work.length; i = next++) {
          await store.append(work[i]!.streamId, [work[i]!.event], 'any');
          if (i % 500 === 0) bar.update(i, work.length);
        }
      }),
    );
    const r = work.length / ((performance.now() - started) / 1000);
    bar.finish(`${Math.round(r)} appends/s`);
    return r;
  } finally {
    await store.close();
  }
}

function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/**
 * A tampered copy of the log, as an adversary holding the data directory (and the signing key) would make it:
 * the file copied, the event at leaf `leaf` (under the auditor's kept checkpoint) rewritten with its hash
 * recomputed, and the whole tree recomputed over it (the store's own migration, once the stored tree is gone).
 */
function tamperedCopy(file: string, copy: string, leaf: number): void {
  copyFileSync(file, copy);
  const db = new Database(copy);
  try {
    db.exec(`DROP TRIGGER IF EXISTS events_append_only_update; DROP TRIGGER IF EXISTS merkle_runs_append_only_delete;
      DROP TRIGGER IF EXISTS merkle_subtrees_append_only_delete; DROP TRIGGER IF EXISTS merkle_last_leaf_append_only_delete;
      DELETE FROM merkle_runs; DELETE FROM merkle_subtrees;`);
    // The record of the last leaf too (a file last opened before it existed has none).
    if (db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'merkle_last_leaf'").pluck().get()) db.exec('DELETE FROM merkle_last_leaf');
    const row = db
      .prepare<[number], { position: bigint; event_id: string; stream_id: string; revision: bigint; type: string; data: string; metadata: string; prev_hash: string }>(
        'SELECT position, event_id, stream_id, revision, type, data, metadata, prev_hash FROM events ORDER BY position LIMIT 1 OFFSET ?',
      )
      .safeIntegers(true)
      .get(leaf);
    if (row === undefined) throw new Error(`the log has no leaf ${leaf}`);
    const data = { ...(JSON.parse(row.data) as Record<string, unknown>), tampered: true };
    const hash = eventHash(row.prev_hash, { eventId: row.event_id, type: row.type, streamId: row.stream_id, revision: row.revision, data, metadata: JSON.parse(row.metadata) as never });
    db.prepare('UPDATE events SET data = ?, hash = ? WHERE position = ?').run(JSON.stringify(data), hash, row.position);
  } finally {
    db.close();
  }
}

/** Serves the two audit routes the verifier asks (digest and consistency proof) from a store, signed with `signer`. */
async function serveTree(store: SqliteEventStore, signer: NoteSigner): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body: unknown;
      if (url.pathname === '/v1/audit/digest') {
        const head = await store.merkle.treeHead();
        body = { size: head.size, rootHash: head.rootHash, checkpoint: signNote(checkpointText(signer.name, head.size, head.rootHash), signer) };
      } else if (url.pathname === '/v1/audit/proofs/consistency') {
        body = await store.merkle.consistencyProof(Number(url.searchParams.get('from')), Number(url.searchParams.get('to')));
      }
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
    })().catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, server };
}

/**
 * Item 6: what the Merkle tree costs and what it gives. Appends/s at concurrency N with the tree maintained in
 * the append transaction, against the same appends without it (the same run, alternated); then, on the large
 * log, the standalone verifier checking a checkpoint kept at 1,000 events against the service's head through
 * a consistency proof, and refusing a checkpoint of another history at 1,000 signed with the same key.
 */
export async function measureTamperEvidence(o: { appends: number; concurrency: number; repeats: number; dataDir?: string; proofRequests?: number }): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-tree-'));
  const figures: Figure[] = [];
  try {
    const work = workload(o.appends);
    const withTree: number[] = [];
    const without: number[] = [];
    for (let r = 1; r <= o.repeats; r++) {
      // Which arm runs first alternates, so that neither always meets the other's leftovers (page cache, GC).
      const arms = [true, false];
      if (r % 2 === 0) arms.reverse();
      for (const off of arms) {
        const rateOf = await rate(join(dir, `${off ? 'without' : 'with'}-${r}.sqlite`), work, o.concurrency, off, `appends ${off ? 'without' : 'with'} the tree, concurrency ${o.concurrency} (${r}/${o.repeats})`);
        (off ? without : withTree).push(rateOf);
      }
    }
    // The pairs run back to back, alternating which arm goes first: a drift of the machine's speed (other work,
    // the page cache) weighs on both arms of a pair, not on one median against the other. So the figure is the
    // pair whose own ratio is the median of the pairs' (with seven pairs in a full run; three at first, when the
    // ratio of the arms' medians read 0.72–0.93× across runs of one build on this VM, one arm moving ±30%).
    const ratios = withTree.map((w, i) => w / without[i]!);
    const m = ratios.map((r, i) => [r, i] as const).sort((a, b) => a[0] - b[0])[Math.floor(ratios.length / 2)]![1];
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    figures.push(
      figure({
        id: `tree.appends.c${o.concurrency}`,
        item: 6,
        name: `store appends with the Merkle tree, concurrency ${o.concurrency} (median of ${o.repeats} alternated pairs)`,
        value: withTree[m]!,
        unit: 'appends/s',
        baseline: { name: 'the same appends without the tree, same pair', value: without[m]!, unit: 'appends/s' },
        target: { ratioAtLeast: 0.9, text: '≥ 0.9× baseline (tree ≤ 10%)' },
        note: `pair ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}; the arms' medians ${Math.round(median(withTree))}/s and ${Math.round(median(without))}/s (${(median(withTree) / median(without)).toFixed(2)}×)`,
        details: {
          appends: o.appends,
          withTree: withTree.map(Math.round),
          withoutTree: without.map(Math.round),
          // Each repeat's own ratio: on a shared machine the spread of these is the noise of the figure.
          pairRatios: withTree.map((w, i) => Math.round((w / without[i]!) * 1000) / 1000),
        },
      }),
    );

    if (o.dataDir !== undefined) {
      // The large log, served by the real app in this process; the verifier is a plain Node child.
      const opened = performance.now();
      const store = SqliteEventStore.open(eventsFile(o.dataDir));
      const migrated = store.treeMigration;
      await store.close();
      // The tampered copy is made now, while no connection holds the file (its WAL was checkpointed on close).
      const copy = join(dir, 'tampered.sqlite');
      const tamperStarted = performance.now();
      tamperedCopy(eventsFile(o.dataDir), copy, 499);
      const app = await createApp({ config: benchConfig(o.dataDir) });
      await app.listen(0, '127.0.0.1');
      try {
        const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
        const get = async (path: string) => (await (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${BENCH_KEYS.admin}` } })).json()) as Record<string, unknown>;
        const kept = await get('/v1/audit/digest?size=1000');
        const asked = performance.now();
        const head = await get('/v1/audit/digest');
        const digestMs = performance.now() - asked;
        const key = await get('/v1/audit/public-key');
        writeFileSync(join(dir, 'kept.checkpoint'), kept.checkpoint as string);
        writeFileSync(join(dir, 'ledger.vkey'), key.verifierKey as string);
        const verifier = resolve('tools/verifier/verify.mjs');
        const args = [verifier, '--checkpoint', join(dir, 'kept.checkpoint'), '--key', join(dir, 'ledger.vkey'), '--url', url, '--token', BENCH_KEYS.admin];
        const ok = await run(args);
        if (ok.code !== 0) throw new Error(`the verifier refused the genuine log: ${ok.stderr.trim()}`);
        const result = JSON.parse(ok.stdout) as { proofHashes: number; proofMs: number; toSize: number };
        // Another history at 1,000 events, signed with the service's own key: the proof to the head must fail.
        const signer = parseSignerKey(readFileSync(join(o.dataDir, 'checkpoint.key'), 'utf8'));
        const forgedRoot = Buffer.from(kept.rootHash as string, 'hex');
        forgedRoot[0]! ^= 1;
        writeFileSync(join(dir, 'kept.checkpoint'), signNote(checkpointText(signer.name, 1000, forgedRoot.toString('hex')), signer));
        const refused = await run(args);
        if (refused.code !== 1) throw new Error(`the verifier did not refuse a checkpoint of another history (exit ${refused.code})`);
        // The genuine kept checkpoint against the tampered copy, served with the service's own key.
        writeFileSync(join(dir, 'kept.checkpoint'), kept.checkpoint as string);
        const tampered = SqliteEventStore.open(copy, { log: () => undefined });
        const served = await serveTree(tampered, signer);
        const tamperSeconds = (performance.now() - tamperStarted) / 1000;
        let caught: Awaited<ReturnType<typeof run>>;
        try {
          caught = await run([verifier, '--checkpoint', join(dir, 'kept.checkpoint'), '--key', join(dir, 'ledger.vkey'), '--url', served.url]);
        } finally {
          served.server.close();
          await tampered.close();
        }
        if (caught.code !== 1) throw new Error(`the verifier did not refuse a tampered copy of the log (exit ${caught.code}): ${caught.stdout}${caught.stderr}`);
        figures.push(...(await proofLatencies(url, head.size as number, o.proofRequests ?? PROOF_REQUESTS)));
        figures.push(
          figure({
            id: 'tree.verifier.consistency',
            item: 6,
            name: `standalone verifier: checkpoint at 1,000 → head at ${head.size as number}`,
            value: result.proofMs,
            unit: 'ms',
            // What the verifier's answer costs beside one signed tree head fetched by this process.
            baseline: { name: 'one GET /v1/audit/digest', value: digestMs, unit: 'ms' },
            target: { valueBelow: 1000, text: '< 1 s; refuses another history and a tampered copy' },
            note:
              `proof of ${result.proofHashes} hashes; the whole child process took ${Math.round(ok.ms)} ms; a checkpoint of another history at 1,000 was refused (exit 1); ` +
              `a tampered copy (event 500 rewritten, its hash and the whole tree recomputed, signed with the service's key) was refused (exit 1: ${caught.stderr.trim().split('\n')[0] ?? ''})`,
            details: {
              toSize: result.toSize,
              proofHashes: result.proofHashes,
              childMs: Math.round(ok.ms),
              refusedExit: refused.code,
              tamperedCopyExit: caught.code,
              tamperedCopySeconds: tamperSeconds,
              treeMigration: migrated ?? null,
              openSeconds: (performance.now() - opened) / 1000,
            },
          }),
        );
      } finally {
        await app.close();
      }
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Proofs of each kind timed by item 6 (concurrency 1, taking turns with the digest baseline). */
const PROOF_REQUESTS = 200;

/**
 * Issue #23's "an inclusion and a consistency proof at 1M events": `GET /v1/audit/proofs/inclusion` at random
 * positions and `GET /v1/audit/proofs/consistency` from random sizes to the head, over HTTP against the service on
 * the large log, beside `GET /v1/audit/digest` (the signed tree head: the floor of any audit answer) taking turns
 * with them. Every answer must be a 200 with a non-empty proof (at 1M events both are ~20 hashes).
 */
async function proofLatencies(url: string, size: number, requests: number): Promise<Figure[]> {
  const timed = async (path: string, check: (body: Record<string, unknown>) => boolean): Promise<number> => {
    const started = performance.now();
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${BENCH_KEYS.admin}` } });
    const body = (await res.json()) as Record<string, unknown>;
    const ms = performance.now() - started;
    if (res.status !== 200 || !check(body)) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
    return ms;
  };
  const nonEmpty = (key: string) => (b: Record<string, unknown>) => Array.isArray(b[key]) && (size < 2 || (b[key] as unknown[]).length > 0);
  const random = (below: number) => 1 + Math.floor(Math.random() * below);
  const inclusion: number[] = [];
  const consistency: number[] = [];
  const digest: number[] = [];
  const bar = progress(`tree proofs over HTTP at ${size.toLocaleString('en-US')} events`);
  for (let i = 0; i < requests; i++) {
    inclusion.push(await timed(`/v1/audit/proofs/inclusion?position=${random(size)}&size=${size}`, nonEmpty('auditPath')));
    consistency.push(await timed(`/v1/audit/proofs/consistency?from=${random(size - 1)}&to=${size}`, nonEmpty('proof')));
    digest.push(await timed('/v1/audit/digest', (b) => typeof b.rootHash === 'string'));
    if (i % 20 === 0) bar.update(i, requests);
  }
  bar.finish(`${requests} of each`);
  for (const xs of [inclusion, consistency, digest]) xs.sort((a, b) => a - b);
  const baseline = (p: number) => ({ name: `GET /v1/audit/digest p${p}`, value: percentile(digest, p), unit: 'ms' });
  const of = (id: string, name: string, xs: number[]): Figure[] =>
    [50, 99].map((p) =>
      figure({
        id: `tree.proof.${id}.p${p}`,
        item: 6,
        name: `${name} proof p${p}, ${size.toLocaleString('en-US')} events (HTTP)`,
        value: percentile(xs, p),
        unit: 'ms',
        baseline: baseline(p),
        details: { requests },
      }),
    );
  return [...of('inclusion', 'inclusion', inclusion), ...of('consistency', 'consistency', consistency)];
}
