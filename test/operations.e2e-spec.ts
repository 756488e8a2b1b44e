import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { createApp } from '#api/bootstrap.js';
import { backupDataDir, type BackupManifest } from '#cli/backup.js';
import { EVENT_STORE } from '#libs/ledger/tokens.js';
import { Metrics } from '#api/metrics/metrics.service.js';
import { loadConfig } from '#libs/ledger/config.js';
import type { EventMetadata } from '#events/envelope.js';
import { digestAt, verifyLog } from '#libs/event-store/integrity.js';
import type { EventStore, NewEvent } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { partnersProjection } from '#projections/partners/partners.projection.js';
import { listPartners } from '#projections/partners/partners.queries.js';
import { openReadModels, ProjectionRunner } from '#projections/runner/runner.js';
import { WorkerProjectionRunner } from '#projections/runner/worker-runner.js';
import { KEY_CONFIG, KEYS, removeDir, startApp, TestClock, type Response, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;

/**
 * nestjs-pino builds one root logger per process, from the first app created: the app of the first `describe`
 * below is created with this capture as its destination, and every later app of this file logs here too.
 */
const logLines: string[] = [];

async function startOpsApp(clock: TestClock, env: Record<string, string>): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-ops-'));
  const config = loadConfig({ LEDGER_DATA_DIR: dataDir, LEDGER_API_KEYS: JSON.stringify(KEY_CONFIG), LOG_LEVEL: 'info', PORT: '0', ...env });
  const app = await createApp({ config, core: { clock }, platform: { logDestination: { write: (line: string) => void logLines.push(line) } } });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    url,
    app,
    store: app.get<EventStore>(EVENT_STORE),
    dataDir,
    async request<T>(method: string, path: string, o: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const key = o.key === undefined ? KEYS.admin : o.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${url}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // Prometheus text stays text.
      }
      return { status: res.status, body: parsed as T, headers: res.headers, text } satisfies Response<T>;
    },
    close: () => app.close(),
  };
}

/** One sample of the Prometheus text: name plus labels in a canonical order. */
function sampleKey(name: string, labels: Record<string, string> = {}): string {
  const sorted = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return `${name}${JSON.stringify(sorted)}`;
}

function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    samples.set(sampleKey(m[1]!, labels), Number(m[3]));
  }
  return samples;
}

async function scrape(t: TestApp): Promise<{ samples: Map<string, number>; text: string }> {
  const r = await t.request('GET', '/metrics');
  expect(r.status).toBe(200);
  return { samples: parseMetrics(r.text), text: r.text };
}

const value = (samples: Map<string, number>, name: string, labels?: Record<string, string>) => samples.get(sampleKey(name, labels)) ?? 0;

function metadataAt(clock: TestClock, commandId: string): EventMetadata {
  return { schemaVersion: 1, actor: { id: 'ops-test', role: 'admin' }, commandId, correlationId: commandId, causationId: commandId, recordedAt: clock.now().toISOString() };
}

let fillerSeq = 0;
/** Events no read model handles, appended behind the API's back (the tests' way to make read models lag). */
async function appendFiller(store: EventStore, clock: TestClock, count: number, padding = 0): Promise<bigint> {
  const commandId = `filler-${process.pid}-${++fillerSeq}`;
  const events: NewEvent[] = Array.from({ length: count }, (_, i) => ({
    eventId: `${commandId}-${i}`,
    type: 'OpsTestFiller',
    data: { i, padding: 'x'.repeat(padding) },
    metadata: metadataAt(clock, commandId),
  }));
  return (await store.append(`opsfiller-${commandId}`, events, 'no_stream')).position;
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const enroll = (partnerId: string) => ({ partnerId, name: `Partner ${partnerId}`, type: 'reseller', domain: `${partnerId.toLowerCase()}-ops.com` });

describe('operations: metrics, readiness and logs', () => {
  let t: TestApp;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await startOpsApp(clock, { LEDGER_READY_MAX_LAG_EVENTS: '5', LEDGER_READY_MAX_LAG_SECONDS: '60' });
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  describe('GET /metrics', () => {
    it('is for admin keys only', async () => {
      expect((await t.request('GET', '/metrics', { key: null })).status).toBe(401);
      expect((await t.request('GET', '/metrics', { key: 'not-a-configured-key-at-all' })).status).toBe(401);
      for (const key of [KEYS.ops, KEYS.finance, KEYS.auditor, KEYS.subscriber, KEYS.p1]) {
        const r = await t.request<Body>('GET', '/metrics', { key });
        expect(r.status).toBe(403);
        expect(r.body.type).toBe('forbidden');
      }
      const ok = await t.request('GET', '/metrics');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    });

    it('exposes the ledger series and the process defaults', async () => {
      const { text } = await scrape(t);
      for (const [name, type] of [
        ['ledger_commands_total', 'counter'],
        ['ledger_command_duration_seconds', 'histogram'],
        ['ledger_idempotent_replays_total', 'counter'],
        ['ledger_event_store_append_duration_seconds', 'histogram'],
        ['ledger_event_store_append_batch_size', 'histogram'],
        ['ledger_events_appended_total', 'counter'],
        ['ledger_event_store_up', 'gauge'],
        ['ledger_event_store_head_position', 'gauge'],
        ['ledger_projection_runner_up', 'gauge'],
        ['ledger_projection_position', 'gauge'],
        ['ledger_projection_lag_events', 'gauge'],
        ['ledger_projection_lag_seconds', 'gauge'],
        ['ledger_projection_events_applied_total', 'counter'],
        ['ledger_projection_batch_duration_seconds', 'histogram'],
        ['ledger_sse_connections', 'gauge'],
        ['ledger_sse_events_sent_total', 'counter'],
        ['process_cpu_seconds_total', 'counter'],
        ['process_resident_memory_bytes', 'gauge'],
        ['nodejs_eventloop_lag_seconds', 'gauge'],
        ['nodejs_heap_size_used_bytes', 'gauge'],
      ]) {
        expect(text).toContain(`# TYPE ${name} ${type}\n`);
      }
    });

    it('moves with commands: outcomes by route, appends, replays, projections, SSE', async () => {
      const before = (await scrape(t)).samples;
      const enrolled = await t.request<Body>('POST', '/v1/partners', { key: KEYS.ops, body: enroll('M1'), headers: { 'idempotency-key': 'metrics-m1' } });
      expect(enrolled.status).toBe(201);
      const replay = await t.request<Body>('POST', '/v1/partners', { key: KEYS.ops, body: enroll('M1'), headers: { 'idempotency-key': 'metrics-m1' } });
      expect(replay.status).toBe(201);
      expect(replay.body).toEqual(enrolled.body);
      const activated = await t.request<Body>('POST', '/v1/partners/M1/activate', { key: KEYS.ops });
      expect(activated.status).toBe(200);
      const again = await t.request<Body>('POST', '/v1/partners/M1/activate', { key: KEYS.ops });
      expect(again.status).toBe(422);
      const invalid = await t.request<Body>('POST', '/v1/partners', { key: KEYS.ops, body: { partnerId: 'M2' } });
      expect(invalid.status).toBe(400);
      // A command the store fails on is an `error`.
      const append = t.store.append.bind(t.store);
      t.store.append = () => Promise.reject(new Error('disk on fire'));
      const failed = await t.request<Body>('POST', '/v1/partners/M1/suspend', { key: KEYS.ops, body: { reason: 'audit' } });
      t.store.append = append;
      expect(failed.status).toBe(500);
      // Read-your-writes, so the runner has applied everything before the scrape.
      const read = await t.request('GET', `/v1/partners/M1?minPosition=${activated.body.position as string}`);
      expect(read.status).toBe(200);

      const metrics = t.app.get(Metrics);
      metrics.sseConnected();
      metrics.sseConnected();
      metrics.sseDisconnected();
      metrics.sseEventsSent(3);

      const after = (await scrape(t)).samples;
      const delta = (name: string, labels?: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
      const enrollRoute = 'POST /v1/partners';
      const activateRoute = 'POST /v1/partners/:id/activate';
      expect(delta('ledger_commands_total', { command: enrollRoute, outcome: 'ok' })).toBe(1);
      expect(delta('ledger_commands_total', { command: enrollRoute, outcome: 'replayed' })).toBe(1);
      expect(delta('ledger_commands_total', { command: enrollRoute, outcome: 'refused-validation-failed' })).toBe(1);
      expect(delta('ledger_commands_total', { command: activateRoute, outcome: 'ok' })).toBe(1);
      expect(delta('ledger_commands_total', { command: activateRoute, outcome: 'refused-rule-violation' })).toBe(1);
      expect(delta('ledger_commands_total', { command: 'POST /v1/partners/:id/suspend', outcome: 'error' })).toBe(1);
      expect(delta('ledger_command_duration_seconds_count', { command: enrollRoute })).toBe(3);
      expect(delta('ledger_command_duration_seconds_count', { command: activateRoute })).toBe(2);
      expect(delta('ledger_idempotent_replays_total')).toBe(1);

      // Enrollment appends a domain claim and the enrollment (two appends), activation one; the failed append is an error.
      expect(delta('ledger_events_appended_total', { type: 'PartnerDomainClaimed' })).toBe(1);
      expect(delta('ledger_events_appended_total', { type: 'PartnerEnrolled' })).toBe(1);
      expect(delta('ledger_events_appended_total', { type: 'PartnerActivated' })).toBe(1);
      expect(delta('ledger_event_store_append_duration_seconds_count', { outcome: 'ok' })).toBe(3);
      expect(delta('ledger_event_store_append_duration_seconds_count', { outcome: 'error' })).toBe(1);
      expect(delta('ledger_event_store_append_batch_size_count')).toBe(3);
      expect(delta('ledger_event_store_append_batch_size_sum')).toBe(3);

      const head = Number(await t.store.headPosition());
      expect(value(after, 'ledger_event_store_up')).toBe(1);
      expect(value(after, 'ledger_event_store_head_position')).toBe(head);
      expect(value(after, 'ledger_projection_runner_up')).toBe(1);
      expect(value(after, 'ledger_projection_position', { projection: 'partners' })).toBe(head);
      expect(value(after, 'ledger_projection_lag_events', { projection: 'partners' })).toBe(0);
      expect(value(after, 'ledger_projection_lag_seconds', { projection: 'partners' })).toBe(0);
      expect(delta('ledger_projection_events_applied_total')).toBe(3);
      expect(value(after, 'ledger_projection_last_applied_event_timestamp_seconds')).toBe(clock.now().getTime() / 1000);
      expect(delta('ledger_sse_connections')).toBe(1);
      expect(delta('ledger_sse_events_sent_total')).toBe(3);
      metrics.sseDisconnected();
    });
  });

  describe('GET /health/ready', () => {
    it('fails while a read model lags more events than allowed, and recovers once it catches up', async () => {
      expect((await t.request('GET', '/health/ready', { key: null })).status).toBe(200);
      const runner = t.app.get(ProjectionRunner);
      await runner.stop();
      try {
        await appendFiller(t.store, clock, 6);
        const lagging = await t.request<Body>('GET', '/health/ready', { key: null });
        expect(lagging.status).toBe(503);
        expect(lagging.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(lagging.body.type).toBe('not-ready');
        expect(lagging.body.detail).toMatch(/^Not ready: projections \(read models lag: ([a-z-]+, )*partners(, [a-z-]+)* 6 events and 0 s behind the log \(limits 5 events, 60 s; head \d+\)\)$/);
        // Liveness does not depend on it: a lagging instance is taken out of rotation, not restarted.
        expect((await t.request('GET', '/health', { key: null })).status).toBe(200);
        const { samples } = await scrape(t);
        expect(value(samples, 'ledger_projection_lag_events', { projection: 'partners' })).toBe(6);
      } finally {
        runner.start();
      }
      await eventually('readiness after catching up', async () => (await t.request('GET', '/health/ready', { key: null })).status === 200);
      const ready = await t.request<Body>('GET', '/health/ready', { key: null });
      expect(ready.body).toMatchObject({ status: 'ready', checks: { projections: { ok: true, detail: 'lag 0 events' } } });
    });

    it('fails while the oldest unapplied event has waited longer than allowed, even a single one', async () => {
      const runner = t.app.get(ProjectionRunner);
      await runner.stop();
      try {
        await appendFiller(t.store, clock, 1);
        expect((await t.request('GET', '/health/ready', { key: null })).status).toBe(200);
        clock.advance(120_000);
        const late = await t.request<Body>('GET', '/health/ready', { key: null });
        expect(late.status).toBe(503);
        expect(late.body.detail).toMatch(/partners(, [a-z-]+)* 1 events and 120 s behind the log/);
        const { samples } = await scrape(t);
        expect(value(samples, 'ledger_projection_lag_seconds', { projection: 'partners' })).toBe(120);
      } finally {
        runner.start();
      }
      await eventually('readiness after catching up', async () => (await t.request('GET', '/health/ready', { key: null })).status === 200);
    });

    it('fails while the projection worker is gone, and recovers when the runner has started a new one', async () => {
      const runner = t.app.get(ProjectionRunner);
      expect(runner).toBeInstanceOf(WorkerProjectionRunner);
      const seen: Response<Body>[] = [];
      await (runner as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      // The runner restarts the worker by itself (first after 100–200 ms): watch readiness until it is back.
      await eventually('readiness after the worker restarted', async () => {
        const r = await t.request<Body>('GET', '/health/ready', { key: null });
        seen.push(r);
        return r.status === 200 && seen.length > 1;
      });
      const down = seen.find((r) => r.status === 503);
      expect(down?.body.detail).toMatch(/projection runner stopped: the projection worker exited \(code 1\); starting it again/);
      const { samples } = await scrape(t);
      expect(value(samples, 'ledger_projection_runner_up')).toBe(1);
      // And it follows the log again.
      await appendFiller(t.store, clock, 1);
      await eventually('the new worker applies', async () => runner.position() === (await t.store.headPosition()));
    });

    it('fails, naming the store, while the event store does not answer', async () => {
      const { ping, headPosition } = t.store;
      t.store.ping = () => Promise.reject(new Error('connection refused'));
      t.store.headPosition = () => Promise.reject(new Error('connection refused'));
      try {
        const down = await t.request<Body>('GET', '/health/ready', { key: null });
        expect(down.status).toBe(503);
        expect(down.body.detail).toMatch(/event-store \(connection refused\)/);
        expect((await t.request('GET', '/health', { key: null })).status).toBe(200);
        const { samples } = await scrape(t);
        expect(value(samples, 'ledger_event_store_up')).toBe(0);
        expect(samples.has(sampleKey('ledger_projection_lag_events', { projection: 'partners' }))).toBe(false);
      } finally {
        t.store.ping = ping;
        t.store.headPosition = headPosition;
      }
      expect((await t.request('GET', '/health/ready', { key: null })).status).toBe(200);
    });
  });

  describe('logs', () => {
    const linesOf = (reqId: string) =>
      logLines.map((l) => JSON.parse(l) as Body).filter((l) => l.reqId === reqId);

    it('puts the command id on every line a command produces', async () => {
      const first = await t.request<Body>('POST', '/v1/partners', { key: KEYS.ops, body: enroll('LOG1'), headers: { 'idempotency-key': 'log-1', 'x-request-id': 'ops-log-1' } });
      expect(first.status).toBe(201);
      const retry = await t.request<Body>('POST', '/v1/partners', { key: KEYS.ops, body: enroll('LOG1'), headers: { 'idempotency-key': 'log-1', 'x-request-id': 'ops-log-2' } });
      expect(retry.status).toBe(201);
      const refused = await t.request<Body>('POST', '/v1/partners/LOG1/suspend', { key: KEYS.ops, body: { reason: 'x' }, headers: { 'x-request-id': 'ops-log-3' } });
      expect(refused.status).toBe(422);
      const append = t.store.append.bind(t.store);
      t.store.append = () => Promise.reject(new Error('disk on fire'));
      const failed = await t.request<Body>('POST', '/v1/partners/LOG1/activate', { key: KEYS.ops, headers: { 'x-request-id': 'ops-log-4' } });
      t.store.append = append;
      expect(failed.status).toBe(500);
      // Lines are written when the response has finished.
      await eventually('the completion lines', async () => ['ops-log-1', 'ops-log-2', 'ops-log-3', 'ops-log-4'].every((id) => linesOf(id).some((l) => l.res !== undefined)));

      const recorded = (await t.store.readStream('partner-LOG1'))[0]!;
      for (const id of ['ops-log-1', 'ops-log-2']) {
        const lines = linesOf(id);
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) expect(line.commandId).toBe(recorded.metadata.commandId);
      }
      for (const id of ['ops-log-3', 'ops-log-4']) {
        const lines = linesOf(id);
        const commandIds = new Set(lines.map((l) => l.commandId));
        expect(commandIds.size).toBe(1);
        expect([...commandIds][0]).toMatch(/^[0-9a-f-]{36}$/);
      }
      // The failure is logged by the exception filter inside the command, then by the completion line.
      const failure = linesOf('ops-log-4');
      expect(failure.some((l) => l.level === 50 && /failed with 500: Error: disk on fire/.test(String(l.msg)))).toBe(true);
      // Each line names the field once (a duplicate key would be invalid for strict JSON consumers).
      for (const raw of logLines.filter((l) => l.includes('"ops-log-1"'))) expect(raw.match(/"commandId"/g)).toHaveLength(1);
    });

    it('never logs API keys, wherever a client puts them', async () => {
      const secret = 'a-key-in-the-wrong-place-0123456789';
      await t.request('GET', '/v1/partners', { key: KEYS.ops, headers: { 'x-request-id': 'ops-keys-1' } });
      await t.request('GET', '/v1/partners', { key: KEYS.p1 });
      await t.request('GET', '/metrics', { key: KEYS.auditor });
      await t.request('GET', '/v1/partners', { key: null, headers: { authorization: `Token ${KEYS.finance}` } });
      await t.request('GET', '/v1/partners', { key: null, headers: { authorization: `bearer   ${KEYS.subscriber}` } });
      await t.request('GET', '/v1/partners', { key: secret });
      await t.request('GET', '/v1/partners', { key: null, headers: { 'x-api-key': KEYS.admin } });
      await t.request('GET', '/v1/partners', { key: null, headers: { 'proxy-authorization': `Bearer ${KEYS.admin}` } });
      await t.request('GET', `/v1/partners?apiKey=${KEYS.ops}`, { key: null });
      await t.request('GET', `/v1/partners?access_token=${KEYS.ops}&status=active`, { key: null });
      await t.request('POST', '/v1/partners', { key: KEYS.ops, body: { ...enroll('KEY1'), key: KEYS.admin, apiKey: KEYS.admin } });
      await eventually('the request lines', async () => linesOf('ops-keys-1').length > 0);
      await new Promise((r) => setTimeout(r, 100));

      const all = logLines.join('\n');
      expect(all).toContain('"ops-keys-1"');
      for (const key of [...Object.values(KEYS), secret]) expect(all).not.toContain(key);
      // Only credentials are cut: the rest of the query stays useful.
      expect(all).toContain('"url":"/v1/partners?access_token=[redacted]&status=active"');
      expect(all).toContain('"query":{"access_token":"[redacted]","status":"active"}');
      for (const line of logLines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    });
  });
});

describe('ledger backup, online under a write load', () => {
  const cli = resolve('dist/apps/cli/src/main.js');
  let t: TestApp;
  let work: string;
  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error('run `npm run build` first: the backup test runs the compiled CLI in a child process');
    work = mkdtempSync(join(tmpdir(), 'ledger-backup-'));
    t = await startApp();
  });
  afterAll(async () => {
    await t?.close();
    removeDir(t.dataDir);
    removeDir(work);
  });

  function run(args: string[], dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, LEDGER_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', fail);
      child.on('exit', (code) => done({ code, stdout, stderr }));
    });
  }

  /** The partners read model, as its tables and as the list query answers it. */
  function dump(db: Database.Database): unknown {
    return {
      partners: db.prepare('SELECT * FROM partners ORDER BY partner_id').all(),
      certifications: db.prepare('SELECT * FROM partner_certifications ORDER BY partner_id, seller_id, certification, earned_at').all(),
      list: listPartners(db, { limit: 1000 }, new Date('2026-06-01T00:00:00Z')),
    };
  }

  /** The partners read model rebuilt from zero from `store` up to `position`. */
  async function rebuiltAt(store: EventStore, position: bigint): Promise<unknown> {
    const view = new Proxy(store, {
      get(target, prop) {
        if (prop === 'headPosition') return async () => position;
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const db = openReadModels(':memory:');
    try {
      const runner = new ProjectionRunner(view, db, [partnersProjection]);
      await runner.catchUp();
      expect(runner.position()).toBe(position);
      return dump(db);
    } finally {
      db.close();
    }
  }

  it('restores to a log that verifies and read models that answer like the live ones at every position it holds', async () => {
    const clock = new TestClock();
    // Enough pages that the copy takes many steps, so writes land between them.
    for (let i = 0; i < 20; i++) await appendFiller(t.store, clock, 50, 1500);
    for (let i = 0; i < 10; i++) expect((await t.request('POST', '/v1/partners', { key: KEYS.ops, body: enroll(`S${i}`) })).status).toBe(201);

    let stop = false;
    let done = 0;
    const failures: string[] = [];
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `W${w}N${i}`;
        const steps: [string, unknown][] = [
          ['/v1/partners', enroll(id)],
          [`/v1/partners/${id}/activate`, {}],
          [`/v1/partners/${id}/certifications`, { sellerId: `${id}-s${i}`, certification: 'Architect', earnedAt: '2026-01-10' }],
          [`/v1/partners/${id}/suspend`, { reason: 'load test' }],
        ];
        for (const [path, body] of steps) {
          const r = await t.request('POST', path, { key: KEYS.ops, body });
          if (r.status >= 300) failures.push(`${path}: ${r.status} ${r.text}`);
          done += 1;
        }
      }
    };
    const load = [0, 1, 2, 3].map(worker);
    try {
      await eventually('the load to start', async () => done >= 20);
      const target = join(work, 'nightly');
      const backup = await run(['backup', target], t.dataDir);
      expect(backup.stderr).toMatch(/backup read models: \d+ pages/);
      expect(backup.stderr).toMatch(/backup events: \d+ pages \([\d.]+ [KM]iB\) copied/);
      expect(backup.stderr).toMatch(/verify backup: \d+ events, hash chain intact/);
      expect(backup.code).toBe(0);
      const written = done;
      await eventually('more writes after the backup', async () => done >= written + 20);
    } finally {
      stop = true;
      await Promise.all(load);
    }
    expect(failures).toEqual([]);

    const target = join(work, 'nightly');
    expect(readdirSync(work)).toEqual(['nightly']);
    expect(readdirSync(target).sort()).toEqual(['backup.json', 'events.sqlite', 'read-models.sqlite']);
    const manifest = JSON.parse(readFileSync(join(target, 'backup.json'), 'utf8')) as {
      events: { head: string; count: number; digest: string; verified: boolean };
      readModels: { checkpoints: { name: string; position: string }[] };
    };
    const head = BigInt(manifest.events.head);
    const liveHead = await t.store.headPosition();
    // Taken while writes went on: it holds more than the seed and less than the end of the load.
    expect(head).toBeGreaterThan(1010n);
    expect(head).toBeLessThan(liveHead);

    // Restore: copy into an empty data directory, then `ledger verify` against the manifest's digest.
    const restored = join(work, 'restored');
    mkdirSync(restored);
    for (const f of ['events.sqlite', 'read-models.sqlite']) copyFileSync(join(target, f), join(restored, f));
    const verified = await run(['verify', '--position', manifest.events.head, '--digest', manifest.events.digest], restored);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, digestMatches: true, checkedEvents: manifest.events.count });

    const store = SqliteEventStore.open(join(restored, 'events.sqlite'));
    const readModels = openReadModels(join(restored, 'read-models.sqlite'));
    try {
      const v = await verifyLog(store);
      expect(v).toMatchObject({ ok: true, position: head, checkedEvents: manifest.events.count });
      expect(v.digest).toBe((await digestAt(t.store, head)).digest);
      expect(await store.headPosition()).toBe(head);
      // The backup's log is exactly the live log up to its head: same events at the same positions.
      const copy = [];
      for await (const e of store.readAll()) copy.push([e.position, e.eventId, e.hash]);
      const live = [];
      for await (const e of t.store.readAll({ toPosition: head })) live.push([e.position, e.eventId, e.hash]);
      expect(copy).toEqual(live);

      // The read models were copied first: never ahead of the copied log, and they catch up on it.
      for (const c of manifest.readModels.checkpoints) expect(BigInt(c.position)).toBeLessThanOrEqual(head);
      const runner = new ProjectionRunner(store, readModels, [partnersProjection]);
      await runner.catchUp();
      expect(runner.position()).toBe(head);
      const restoredModel = dump(readModels);
      expect(restoredModel).toEqual(await rebuiltAt(t.store, head));
      expect((restoredModel as { partners: unknown[] }).partners.length).toBeGreaterThan(10);

      // And at earlier positions the copy answers like the live log did.
      for (const at of [head / 4n, head / 2n, (head * 3n) / 4n]) expect(await rebuiltAt(store, at)).toEqual(await rebuiltAt(t.store, at));
    } finally {
      readModels.close();
      await store.close();
    }
  });

  it('finishes while another connection writes between its steps, copying in one read snapshot', async () => {
    const clock = new TestClock();
    let writing = true;
    let wrote = 0;
    // In this process the backup steps and the writes alternate on the event loop: every step sees the store changed.
    const writer = (async () => {
      while (writing) {
        await appendFiller(t.store, clock, 1, 200);
        wrote += 1;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const output: string[] = [];
    const target = join(work, 'under-writes');
    let manifest: BackupManifest;
    try {
      manifest = await backupDataDir({ dataDir: t.dataDir, target, stream: { write: (s: string) => output.push(s) > 0, isTTY: false } });
    } finally {
      writing = false;
      await writer;
    }
    expect(wrote).toBeGreaterThan(2);
    expect(output.join('')).toMatch(/backup events: the service wrote during the copy; copying the whole database in one read snapshot/);
    const store = SqliteEventStore.open(join(target, 'events.sqlite'));
    try {
      const head = BigInt(manifest.events.head);
      // Whether the writer's last append landed before or after the snapshot is timing: never after the live head.
      expect(head).toBeLessThanOrEqual(await t.store.headPosition());
      expect(await verifyLog(store)).toMatchObject({ ok: true, position: head, checkedEvents: manifest.events.count, digest: manifest.events.digest });
      expect(manifest.events.digest).toBe((await digestAt(t.store, head)).digest);
    } finally {
      await store.close();
    }
  });

  it('refuses to overwrite anything', async () => {
    const target = join(work, 'nightly');
    const again = await run(['backup', target], t.dataDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
    expect(readdirSync(work).filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  it('keeps one registry per app: a second app in the process counts only its own commands', async () => {
    const r = await t.request('GET', '/metrics');
    expect(r.status).toBe(200);
    const samples = parseMetrics(r.text);
    // This app saw the load's enrollments, and none of the first app's refusals or replays.
    expect(value(samples, 'ledger_commands_total', { command: 'POST /v1/partners', outcome: 'ok' })).toBeGreaterThan(10);
    expect(value(samples, 'ledger_commands_total', { command: 'POST /v1/partners', outcome: 'replayed' })).toBe(0);
    expect(value(samples, 'ledger_idempotent_replays_total')).toBe(0);
  });
});
