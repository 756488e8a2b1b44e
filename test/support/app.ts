import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { createApp } from '#api/bootstrap.js';
import { EVENT_STORE, type Clock } from '#libs/ledger/tokens.js';
import { loadConfig } from '#libs/ledger/config.js';
import type { EventStore } from '#libs/event-store/port.js';
import { checkAndReport, CONTRACT_STRICT, recordExchanges, summarize } from './contract.js';

export const KEYS = {
  admin: 'admin-key-0123456789abcdef',
  ops: 'ops-key-0123456789abcdef',
  finance: 'finance-key-0123456789abcdef',
  auditor: 'auditor-key-0123456789abcdef',
  subscriber: 'subscriber-key-0123456789abcdef',
  p1: 'partner-p1-key-0123456789abcdef',
  p2: 'partner-p2-key-0123456789abcdef',
} as const;

export const KEY_CONFIG = [
  { key: KEYS.admin, role: 'admin', id: 'admin' },
  { key: KEYS.ops, role: 'channel-ops', id: 'ops' },
  { key: KEYS.finance, role: 'finance', id: 'finance' },
  { key: KEYS.auditor, role: 'auditor', id: 'auditor' },
  { key: KEYS.subscriber, role: 'subscriber', id: 'subscriber' },
  { key: KEYS.p1, role: 'partner', partnerId: 'P1', id: 'partner-p1' },
  { key: KEYS.p2, role: 'partner', partnerId: 'P2', id: 'partner-p2' },
];

/** A clock the test moves by hand. */
export class TestClock implements Clock {
  constructor(private t = Date.parse('2026-03-02T09:00:00Z')) {}
  now(): Date {
    return new Date(this.t);
  }
  set(iso: string): void {
    this.t = Date.parse(iso);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Response<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
  readonly text: string;
}

export interface TestApp {
  readonly url: string;
  readonly app: NestFastifyApplication;
  readonly store: EventStore;
  readonly dataDir: string;
  request<T = Record<string, unknown>>(method: string, path: string, options?: { key?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<Response<T>>;
  close(): Promise<void>;
}

/**
 * The real service on a temporary data directory, listening on a free port of 127.0.0.1 (Fastify's
 * `inject()` does not load under native-ESM Jest, so tests go through `fetch`).
 */
export async function startApp(options: { dataDir?: string; clock?: Clock; env?: Record<string, string> } = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ledger-e2e-'));
  const config = loadConfig({ LEDGER_DATA_DIR: dataDir, LEDGER_API_KEYS: JSON.stringify(KEY_CONFIG), LOG_LEVEL: 'silent', PORT: '0', ...storeEnv(dataDir), ...options.env });
  const app = await createApp({ config, core: options.clock ? { clock: options.clock } : {} });
  // Every answer this app sends is checked against its own /docs-json when it closes (test/support/contract.ts).
  const exchanges = recordExchanges(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const store = app.get<EventStore>(EVENT_STORE);
  return {
    url,
    app,
    store,
    dataDir,
    async request<T>(method: string, path: string, o: { key?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string } = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const key = o.key === undefined ? KEYS.admin : o.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined = o.raw;
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
        // Non-JSON bodies (CSV, HTML) stay text.
      }
      return { status: res.status, body: parsed as T, headers: res.headers, text };
    },
    async close() {
      const served = await fetch(`${url}/docs-json`).then((r) => (r.ok ? r.json() : undefined)).catch(() => undefined);
      await app.close();
      if (served === undefined) return;
      const violations = checkAndReport(served as OpenAPIObject, exchanges, expect.getState().testPath);
      if (CONTRACT_STRICT && violations.length > 0) {
        throw new Error(`${violations.length} answers do not match the OpenAPI document (CONTRACT_STRICT=0 only reports them):\n${summarize(violations)}`);
      }
    },
  };
}

/**
 * `LEDGER_STORE=esdb` (with EVENTSTORE_CONNECTION_STRING) runs every end-to-end test on EventStoreDB. The
 * server is shared by all tests, so each data directory gets a stream namespace of its own (the same one
 * when a test restarts the service on its data directory): each app sees only its own log, as on SQLite.
 */
export function storeEnv(dataDir: string): Record<string, string> {
  if (process.env.LEDGER_STORE !== 'esdb') return {};
  const connection = process.env.EVENTSTORE_CONNECTION_STRING;
  if (!connection) throw new Error('LEDGER_STORE=esdb needs EVENTSTORE_CONNECTION_STRING');
  const namespace = `e2e${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}.`;
  return { LEDGER_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: `${connection}${connection.includes('?') ? '&' : '?'}ledgerNamespace=${namespace}` };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
