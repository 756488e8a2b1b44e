import { connect } from 'node:net';
import { EventStreams } from '#api/subscriptions/event-streams.js';
import { REPLAYABLE_READ_MODELS } from '#projections/replay/read-models.js';
import { KEYS, removeDir, startApp, type TestApp } from './support/app.js';
import { routeTable, type Route } from './support/routes.js';

/**
 * The service's limits (README "Configuration", docs/operations.md "Limits"): request body size, page size of
 * every list, event streams per key, bounded read-your-writes waits on every query, and the rate limit per key.
 */

interface OpenApi {
  readonly paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
}

const MIB = 1024 * 1024;

function problemOf(r: { status: number; headers: Headers; body: unknown }): { status: number; type: unknown; contentType: string | null } {
  return { status: r.status, type: (r.body as { type?: unknown } | undefined)?.type, contentType: r.headers.get('content-type') };
}

/** Path parameters with some valid id (limits are checked before anything is looked up). */
function concrete(route: Route): string {
  return route.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => (name === 'streamId' ? 'partner-P1' : 'P1'));
}

/** Query parameters a route needs besides the one under test. */
const REQUIRED_QUERY: Readonly<Record<string, string>> = {
  'GET /v1/partners/:id/price-waterfall': 'listPriceMinor=100&currency=USD&',
};

async function openStream(url: string, key: string): Promise<{ status: number; type?: string; retryAfter: string | null; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(`${url}/v1/events/stream`, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' }, signal: abort.signal });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) return { status: res.status, retryAfter: null, close: () => abort.abort() };
  const body = (await res.json()) as { type?: string };
  return { status: res.status, ...(body.type !== undefined ? { type: body.type } : {}), retryAfter: res.headers.get('retry-after'), close: () => undefined };
}

/** Sends `request` as is on a raw socket (fetch would refuse to send it) and parses the answer. */
async function raw(url: string, request: string): Promise<{ status: number; contentType: string | undefined; body: Record<string, unknown> }> {
  const { hostname, port } = new URL(url);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(data));
  });
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const headers = head.split('\r\n');
  const contentType = headers.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, '');
  return { status: Number(headers[0]?.split(' ')[1]), contentType, body: JSON.parse(body) as Record<string, unknown> };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('limits', () => {
  describe('with the default configuration (a short consistency timeout)', () => {
    let t: TestApp;
    let routes: Route[];
    let doc: OpenApi;
    beforeAll(async () => {
      t = await startApp({ env: { LEDGER_CONSISTENCY_TIMEOUT_MS: '300' } });
      routes = routeTable(t.app);
      doc = (await t.request<OpenApi>('GET', '/docs-json', { key: null })).body;
      expect((await t.request('POST', '/v1/partners', { body: { partnerId: 'P1', name: 'Limits', type: 'msp', domain: 'limits.example.com' } })).status).toBe(201);
    });
    afterAll(async () => {
      await t.close();
      removeDir(t.dataDir);
    });

    const paramsOf = (route: Route): string[] => (doc.paths[route.openApiPath]?.[route.method.toLowerCase()]?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);

    it('answers what the HTTP parser refuses (a NUL in a header, a query string over 16 KiB) with a problem (issue #17)', async () => {
      const { host } = new URL(t.url);
      const nul = await raw(t.url, `GET /v1/partners HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${KEYS.admin}\r\nX-Note: a\0b\r\n\r\n`);
      expect(nul).toMatchObject({ status: 400, contentType: expect.stringMatching(/^application\/problem\+json/), body: { type: 'validation-failed', status: 400 } });
      const long = await raw(t.url, `GET /v1/partners?partnerId=${'x'.repeat(17 * 1024)} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${KEYS.admin}\r\n\r\n`);
      expect(long).toMatchObject({ status: 431, contentType: expect.stringMatching(/^application\/problem\+json/), body: { type: 'request-header-fields-too-large', status: 431 } });
      // The service is still there.
      expect((await t.request('GET', '/v1/partners')).status).toBe(200);
    });

    it('refuses a body over 1 MiB with 413 on every command route, and appends nothing', async () => {
      const head = await t.store.headPosition();
      const commands = routes.filter((r) => r.method !== 'GET');
      expect(commands.length).toBeGreaterThanOrEqual(26);
      for (const route of commands) {
        // One byte over.
        const body = JSON.stringify({ pad: 'x'.repeat(MIB - 9) });
        expect(Buffer.byteLength(body)).toBe(MIB + 1);
        const r = await t.request(route.method, concrete(route), { raw: body, headers: { 'content-type': 'application/json' } });
        expect({ route: route.key, ...problemOf(r) }).toEqual({ route: route.key, status: 413, type: 'payload-too-large', contentType: expect.stringMatching(/^application\/problem\+json/) });
      }
      // At the limit the body is read (and then refused for what it says, not for its size).
      const atLimit = JSON.stringify({ pad: 'x'.repeat(MIB - 10) });
      expect(Buffer.byteLength(atLimit)).toBe(MIB);
      expect((await t.request('POST', '/v1/partners', { raw: atLimit, headers: { 'content-type': 'application/json' } })).status).toBe(400);
      expect(await t.store.headPosition()).toBe(head);
    });

    it('pages every list at most 1000 items: limit=1001 and limit=0 are 400, limit=1000 is served', async () => {
      const lists = routes.filter((r) => r.method === 'GET' && paramsOf(r).includes('limit'));
      // Every list of API.md is found by its `limit` parameter.
      expect(lists.map((r) => r.key)).toEqual(
        expect.arrayContaining([
          'GET /v1/partners',
          'GET /v1/deals',
          'GET /v1/registration-conflicts',
          'GET /v1/tier-standings',
          'GET /v1/attribution',
          'GET /v1/mdf/funds',
          'GET /v1/audit/events',
          'GET /v1/audit/streams/:streamId',
        ]),
      );
      const paths = lists.map((r) => `${concrete(r)}?${REQUIRED_QUERY[r.key] ?? ''}`);
      // The replay of each read model takes the live list's `limit` too.
      for (const m of REPLAYABLE_READ_MODELS.filter((m) => m.params.includes('limit'))) paths.push(`/v1/audit/replay?projection=${m.name}&asOf=2100-01-01&`);
      for (const path of paths) {
        for (const limit of ['1001', '0', '-1', '1.5', '100000']) {
          const r = await t.request('GET', `${path}limit=${limit}`);
          expect({ path, limit, ...problemOf(r) }).toEqual({ path, limit, status: 400, type: 'validation-failed', contentType: expect.stringMatching(/^application\/problem\+json/) });
        }
        const max = await t.request('GET', `${path}limit=1000`);
        // The audit stream of a partner that exists answers 200; lists answer 200 whatever they hold.
        expect({ path, status: max.status }).toEqual({ path, status: 200 });
      }
      // The attribution report as CSV pages the same way when a limit is given.
      const csv = await t.request('GET', '/v1/attribution?limit=1001', { headers: { accept: 'text/csv' } });
      expect(csv.status).toBe(400);
    });

    it('bounds every read-your-writes wait: minPosition beyond the log is a 503 not-caught-up on every query', async () => {
      const queries = routes.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/') && !r.path.startsWith('/v1/audit/') && r.path !== '/v1/events/stream');
      // Every query route takes minPosition (API.md: "A query given ?minPosition=<p> answers only once ...").
      expect(queries.filter((r) => !paramsOf(r).includes('minPosition')).map((r) => r.key)).toEqual([]);
      const beyond = (await t.store.headPosition()) + 1000n;
      for (const route of queries) {
        const path = `${concrete(route)}?${REQUIRED_QUERY[route.key] ?? ''}minPosition=${beyond}`;
        const r = await t.request('GET', path);
        expect({ route: route.key, ...problemOf(r), retryAfter: r.headers.get('retry-after') }).toEqual({
          route: route.key,
          status: 503,
          type: 'not-caught-up',
          contentType: expect.stringMatching(/^application\/problem\+json/),
          retryAfter: '1',
        });
      }
    });

    it('holds at most LEDGER_SSE_MAX_PER_KEY (5) event streams per key, and refuses one more with a 429 problem', async () => {
      const streams = t.app.get(EventStreams);
      expect(streams.maxPerKey).toBe(5);
      const open = [];
      for (let i = 0; i < 5; i++) open.push(await openStream(t.url, KEYS.subscriber));
      expect(open.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
      const refused = await openStream(t.url, KEYS.subscriber);
      expect(refused).toMatchObject({ status: 429, type: 'too-many-requests' });
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      // Per key: another key still gets its own.
      const other = await openStream(t.url, KEYS.auditor);
      expect(other.status).toBe(200);
      other.close();
      // Closing one makes room for one.
      open.pop()!.close();
      await until(() => streams.openFor('subscriber') === 4, 'the server to notice the closed stream');
      const again = await openStream(t.url, KEYS.subscriber);
      expect(again.status).toBe(200);
      for (const s of [...open, again]) s.close();
      await until(() => streams.openFor('subscriber') === 0 && streams.openFor('auditor') === 0, 'every stream to close');
    });
  });

  describe('rate limit per key (LEDGER_RATE_LIMIT=5 per LEDGER_RATE_LIMIT_WINDOW_MS=1000)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({ env: { LEDGER_RATE_LIMIT: '5', LEDGER_RATE_LIMIT_WINDOW_MS: '1000' } });
    });
    afterAll(async () => {
      await t.close();
      removeDir(t.dataDir);
    });

    it('answers the request past the limit with 429 too-many-requests and Retry-After, per key, then serves again', async () => {
      for (let i = 0; i < 5; i++) expect((await t.request('GET', '/v1/partners', { key: KEYS.ops })).status).toBe(200);
      const head = await t.store.headPosition();
      const limited = await t.request('POST', '/v1/partners', { key: KEYS.ops, body: { partnerId: 'RL-1', name: 'Rate', type: 'msp', domain: 'rate.example.com' } });
      expect(problemOf(limited)).toEqual({ status: 429, type: 'too-many-requests', contentType: expect.stringMatching(/^application\/problem\+json/) });
      expect(limited.body).toMatchObject({ title: expect.any(String), status: 429, detail: expect.any(String) });
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
      expect(await t.store.headPosition()).toBe(head);
      // Another key has its own budget.
      expect((await t.request('GET', '/v1/partners', { key: KEYS.finance })).status).toBe(200);
      // Health and docs are never limited.
      for (let i = 0; i < 10; i++) {
        expect((await t.request('GET', '/health', { key: KEYS.ops })).status).toBe(200);
        expect((await t.request('GET', '/docs-json', { key: KEYS.ops })).status).toBe(200);
        expect((await t.request('GET', '/docs/events', { key: KEYS.ops })).status).toBe(200);
      }
      await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
      expect((await t.request('GET', '/v1/partners', { key: KEYS.ops })).status).toBe(200);
    });

    it('counts a key by its actor after authentication: refused requests of a role count against that key', async () => {
      for (let i = 0; i < 5; i++) expect((await t.request('GET', '/v1/partners', { key: KEYS.subscriber })).status).toBe(403);
      expect(problemOf(await t.request('GET', '/v1/events/stream?fromPosition=x', { key: KEYS.subscriber }))).toMatchObject({ status: 429, type: 'too-many-requests' });
    });

    it('counts requests without a valid key by address, apart from the keys used from that address', async () => {
      for (let i = 0; i < 3; i++) expect((await t.request('GET', '/v1/partners', { key: null })).status).toBe(401);
      for (let i = 0; i < 2; i++) expect((await t.request('GET', '/v1/partners', { key: 'not-a-key-0123456789abcdef' })).status).toBe(401);
      const guessing = await t.request('GET', '/v1/partners', { key: 'another-guess-0123456789abcdef' });
      expect(problemOf(guessing)).toMatchObject({ status: 429, type: 'too-many-requests' });
      expect(Number(guessing.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The same address with a valid key is not affected.
      expect((await t.request('GET', '/v1/partners', { key: KEYS.auditor })).status).toBe(200);
    });
  });

  it('LEDGER_RATE_LIMIT=0 turns the limit off', async () => {
    const t = await startApp({ env: { LEDGER_RATE_LIMIT: '0' } });
    try {
      const statuses = await Promise.all(Array.from({ length: 50 }, () => t.request('GET', '/health/ready', { key: KEYS.ops }).then(() => t.request('GET', '/v1/partners', { key: KEYS.ops }))));
      expect(statuses.filter((r) => r.status !== 200)).toEqual([]);
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  });
});
