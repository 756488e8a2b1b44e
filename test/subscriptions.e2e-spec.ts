import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Metrics } from '#api/metrics/metrics.service.js';
import { EventStreams } from '#api/subscriptions/event-streams.js';
import type { WireEvent } from '#events/envelope.js';
import { EsdbEventStore } from '#libs/event-store/esdb/esdb-event-store.js';
import { StoreUnavailableError } from '#libs/event-store/port.js';
import { FakeEsdbClient } from '#libs/event-store/testing/fake-esdb-client.js';
import { newEvent } from '#libs/event-store/testing/fixtures.js';
import { KEYS, removeDir, startApp, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;

interface SseMessage {
  readonly id: string;
  readonly event: string;
  readonly data: WireEvent;
}

/** A minimal EventSource over node:http, so a test can also stop reading the socket (`pause`). */
class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  ended = false;
  private buffer = '';
  private listeners = new Set<() => void>();

  private constructor(
    readonly req: ClientRequest,
    readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.receive(chunk));
    res.on('end', () => this.finish());
    res.on('close', () => this.finish());
    // A stream the server cuts (shutdown of a stalled client) ends with ECONNRESET: that is an end here.
    res.on('error', () => this.finish());
  }

  static connect(url: string, path: string, options: { key?: string; lastEventId?: string; paused?: boolean } = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${options.key ?? KEYS.subscriber}` };
      if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
      const req = httpRequest(`${url}${path}`, { headers });
      req.on('response', (res) => {
        if (options.paused) res.pause();
        resolve(new SseClient(req, res));
      });
      req.on('error', reject);
      req.end();
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  get positions(): string[] {
    return this.messages.map((m) => m.id);
  }

  /** Resolves once `predicate` holds (checked after every chunk); fails the test with what arrived if the stream ends first. */
  until(predicate: (c: SseClient) => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate(this)) {
          this.listeners.delete(check);
          resolve();
        } else if (this.ended) {
          this.listeners.delete(check);
          reject(new Error(`stream ended before ${what}; got ${this.positions.join(',')}`));
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  resume(): void {
    this.res.resume();
  }

  close(): void {
    this.req.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else {
          const colon = line.indexOf(':');
          fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
        }
      }
      if (fields.data !== undefined) this.messages.push({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) as WireEvent });
    }
    for (const l of [...this.listeners]) l();
  }

  private finish(): void {
    this.ended = true;
    for (const l of [...this.listeners]) l();
  }
}

const range = (from: bigint, to: bigint): string[] => {
  const out: string[] = [];
  for (let p = from; p <= to; p++) out.push(p.toString());
  return out;
};

async function enroll(t: TestApp, id: string): Promise<Body> {
  const r = await t.request('POST', '/v1/partners', { body: { partnerId: id, name: `Partner ${id}`, type: 'msp', domain: `${id.toLowerCase()}.example` } });
  if (r.status !== 201) throw new Error(r.text);
  return r.body;
}

describe('GET /v1/events/stream', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('catches up in log order with full envelopes, then delivers live events', async () => {
    for (const id of ['E1', 'E2', 'E3']) await enroll(t, id);
    const head = await t.store.headPosition();
    const c = await SseClient.connect(t.url, '/v1/events/stream?fromPosition=0');
    try {
      expect(c.status).toBe(200);
      expect(c.res.headers['content-type']).toMatch(/^text\/event-stream/);
      await c.until((x) => x.messages.length >= Number(head), 'the catch-up');
      expect(c.positions).toEqual(range(1n, head));
      const audit = await t.request<{ items: Body[] }>('GET', '/v1/audit/events?limit=1000', { key: KEYS.auditor });
      expect(c.messages.map((m) => m.data)).toEqual(audit.body.items);
      for (const m of c.messages) expect(m.event).toBe(m.data.type);

      await t.request('POST', '/v1/partners/E1/activate');
      await enroll(t, 'E4');
      const now = await t.store.headPosition();
      await c.until((x) => x.messages.length >= Number(now), 'the live events');
      expect(c.positions).toEqual(range(1n, now));
      expect(c.messages.slice(Number(head)).map((m) => m.event)).toEqual(['PartnerActivated', 'PartnerDomainClaimed', 'PartnerEnrolled']);
    } finally {
      c.close();
    }
  });

  it('counts its open connections and the events it writes in /metrics (ledger_sse_connections, ledger_sse_events_sent_total)', async () => {
    const metrics = t.app.get(Metrics);
    const streams = t.app.get(EventStreams);
    const sample = async (name: string): Promise<number> => (await metrics.registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);
    // Streams of earlier tests may still be ending: wait until none is open, so every event counted below is ours.
    for (let i = 0; i < 200 && streams.stats().length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(streams.stats()).toEqual([]);
    expect(await sample('ledger_sse_connections')).toBe(0);
    const sentBefore = await sample('ledger_sse_events_sent_total');
    await enroll(t, 'SSEM1');
    const head = await t.store.headPosition();
    const a = await SseClient.connect(t.url, '/v1/events/stream?fromPosition=0');
    const b = await SseClient.connect(t.url, `/v1/events/stream?fromPosition=${head - 1n}`);
    await a.until((x) => x.messages.length >= Number(head), 'the catch-up');
    await b.until((x) => x.messages.length >= 1, 'the last event');
    const ours = streams.stats();
    expect(ours).toHaveLength(2);
    expect(await sample('ledger_sse_connections')).toBe(2);
    expect(ours[0]!.written).toBeGreaterThanOrEqual(Number(head));
    expect(await sample('ledger_sse_events_sent_total')).toBe(sentBefore + ours[0]!.written + ours[1]!.written);
    a.close();
    b.close();
    const gone = () => streams.stats().every((s) => !ours.some((o) => o.id === s.id));
    for (let i = 0; i < 200 && !gone(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(gone()).toBe(true);
    expect(await sample('ledger_sse_connections')).toBe(0);
  });

  it('resumes after Last-Event-ID with nothing missed and nothing repeated', async () => {
    const first = await SseClient.connect(t.url, '/v1/events/stream?fromPosition=2');
    await first.until((x) => x.messages.length >= 3, 'three events');
    const last = first.messages[2]!.id;
    first.close();
    await first.until((x) => x.ended, 'the close');
    const seenBefore = first.messages.map((m) => m.id);

    // Written while the subscriber is away.
    await enroll(t, 'R1');
    await t.request('POST', '/v1/partners/R1/activate');
    // An EventSource reconnects to the same URL and adds the header: the header wins.
    const second = await SseClient.connect(t.url, '/v1/events/stream?fromPosition=2', { lastEventId: last });
    try {
      await enroll(t, 'R2');
      const head = await t.store.headPosition();
      await second.until((x) => x.messages.some((m) => m.id === head.toString()), 'the live tail');
      expect(second.positions).toEqual(range(BigInt(last) + 1n, head));
      const delivered = [...seenBefore.filter((p) => BigInt(p) <= BigInt(last)), ...second.positions];
      expect(delivered).toEqual(range(3n, head));
    } finally {
      second.close();
    }
  });

  it('goes on after the store subscription fails (a leader election): subscribes again after the last event sent', async () => {
    const store = t.store;
    const original = store.subscribe.bind(store);
    const opened: bigint[] = [];
    store.subscribe = (from = 0n, filter) => {
      opened.push(from);
      const inner = original(from, filter);
      if (opened.length > 1) return inner;
      const it = inner[Symbol.asyncIterator]();
      let delivered = 0;
      return {
        [Symbol.asyncIterator]: () => ({
          next: async () => {
            if (delivered === 3) throw new StoreUnavailableError('EventStoreDB unavailable: leader election');
            delivered += 1;
            return it.next();
          },
        }),
        close: () => inner.close(),
      };
    };
    try {
      const c = await SseClient.connect(t.url, '/v1/events/stream?fromPosition=2');
      try {
        await c.until((x) => x.messages.length >= 3, 'three events');
        await enroll(t, 'S1');
        const head = await t.store.headPosition();
        await c.until((x) => x.messages.some((m) => m.id === head.toString()), 'the live tail');
        // Nothing missed, nothing repeated, one connection: the client never noticed.
        expect(c.positions).toEqual(range(3n, head));
        expect(opened).toEqual([2n, 5n]);
        expect(c.ended).toBe(false);
        expect(t.app.get(EventStreams).stats().map((x) => x.resubscribed)).toContain(1);
      } finally {
        c.close();
      }
    } finally {
      delete (store as { subscribe?: unknown }).subscribe;
    }
  });

  it('answers 400, not 500, to a Last-Event-ID the store never issued (a SQLite-era id presented to EventStoreDB)', async () => {
    const store = t.store;
    const esdb = new EsdbEventStore(new FakeEsdbClient().asClient());
    store.subscribe = (from, filter) => esdb.subscribe(from, filter);
    try {
      const r = await t.request('GET', '/v1/events/stream', { key: KEYS.subscriber, headers: { 'last-event-id': '12345' } });
      expect(r.status).toBe(400);
      expect(r.body.type).toBe('validation-failed');
      expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    } finally {
      delete (store as { subscribe?: unknown }).subscribe;
      await esdb.close();
    }
  });

  it('filters by event type and by stream category', async () => {
    const byType = await SseClient.connect(t.url, '/v1/events/stream?types=PartnerActivated,PartnerSuspended');
    const byCategory = await SseClient.connect(t.url, '/v1/events/stream?streams=partnerdomain');
    const partnerStreams = await SseClient.connect(t.url, '/v1/events/stream?streams=partner&types=PartnerEnrolled&fromPosition=0');
    try {
      await t.request('POST', '/v1/partners/E2/activate');
      await t.request('POST', '/v1/partners/E2/suspend', { body: { reason: 'filter test' } });
      const done = (await enroll(t, 'F1')).position as string;
      await byType.until((x) => x.messages.some((m) => m.data.type === 'PartnerSuspended'), 'the suspension');
      const audit = (await t.request<{ items: WireEvent[] }>('GET', '/v1/audit/events?limit=1000', { key: KEYS.auditor })).body.items;
      expect(byType.messages.map((m) => m.data)).toEqual(audit.filter((e) => ['PartnerActivated', 'PartnerSuspended'].includes(e.type)));
      await byCategory.until((x) => x.messages.some((m) => m.id === (BigInt(done) - 1n).toString()), 'the domain claim of F1');
      expect(byCategory.messages.map((m) => m.data)).toEqual(audit.filter((e) => e.streamId.startsWith('partnerdomain-') && BigInt(e.position) <= BigInt(done)));
      await partnerStreams.until((x) => x.messages.some((m) => m.id === done), 'the enrollment of F1');
      expect(partnerStreams.messages.map((m) => m.data)).toEqual(audit.filter((e) => e.type === 'PartnerEnrolled' && e.streamId.startsWith('partner-')));
      expect(partnerStreams.messages.every((m) => !m.data.streamId.startsWith('partnerdomain-'))).toBe(true);
    } finally {
      byType.close();
      byCategory.close();
      partnerStreams.close();
    }
  });

  it('delivers each event as a structured-mode CloudEvent 1.0 with ?format=cloudevents, same ids and names, resumable alike', async () => {
    await enroll(t, 'CE1');
    const head = await t.store.headPosition();
    const envelopes = await SseClient.connect(t.url, '/v1/events/stream?fromPosition=0');
    const cloud = await SseClient.connect(t.url, '/v1/events/stream?fromPosition=0&format=cloudevents');
    try {
      await envelopes.until((x) => x.messages.length >= Number(head), 'the envelopes');
      await cloud.until((x) => x.messages.length >= Number(head), 'the CloudEvents');
      expect(cloud.positions.slice(0, Number(head))).toEqual(envelopes.positions.slice(0, Number(head)));
      cloud.messages.slice(0, Number(head)).forEach((m, i) => {
        const e = envelopes.messages[i]!.data;
        expect(m.event).toBe(e.type);
        expect(m.data).toEqual({
          specversion: '1.0',
          id: e.eventId,
          source: 'urn:channel-ledger',
          type: e.type,
          time: e.metadata.recordedAt,
          subject: e.streamId,
          datacontenttype: 'application/json',
          data: e.data,
          position: e.position,
          revision: e.revision,
          correlationid: e.metadata.correlationId,
          causationid: e.metadata.causationId,
        });
      });
    } finally {
      envelopes.close();
      cloud.close();
    }
    // A reconnect with Last-Event-ID resumes right after it, in the same format.
    const resumed = await SseClient.connect(t.url, '/v1/events/stream?format=cloudevents&types=PartnerEnrolled', { lastEventId: (head - 1n).toString() });
    try {
      await resumed.until((x) => x.messages.length >= 1, 'the enrollment of CE1');
      expect(resumed.messages[0]).toMatchObject({ id: head.toString(), event: 'PartnerEnrolled', data: { specversion: '1.0', type: 'PartnerEnrolled', subject: 'partner-CE1', data: { partnerId: 'CE1' } } });
    } finally {
      resumed.close();
    }
  });

  it('sends comment heartbeats at the configured interval', async () => {
    const streams = t.app.get(EventStreams);
    const before = streams.heartbeatMs;
    streams.heartbeatMs = 20;
    const c = await SseClient.connect(t.url, `/v1/events/stream?fromPosition=${await t.store.headPosition()}`);
    try {
      await c.until((x) => x.comments.filter((m) => m === 'heartbeat').length >= 2, 'two heartbeats');
      expect(c.messages).toEqual([]);
    } finally {
      c.close();
      streams.heartbeatMs = before;
    }
  });

  it('is described in the OpenAPI document, as are the audit routes', async () => {
    const doc = await t.request<{ paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> }>('GET', '/docs-json', { key: null });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths['/v1/events/stream']!.get!.responses['200']!.content!)).toEqual(['text/event-stream']);
    for (const path of ['/v1/audit/events', '/v1/audit/streams/{streamId}', '/v1/audit/digest', '/v1/audit/replay', '/v1/audit/export']) expect(Object.keys(doc.body.paths[path] ?? {})).toContain('get');
    expect(Object.keys(doc.body.paths['/v1/audit/verify'] ?? {})).toContain('post');
  });

  it('is for subscribers, auditors ("GET anything"), channel-ops ("all queries except /v1/audit/*", API.md) and admin, and validates its parameters', async () => {
    for (const [key, status] of [
      [KEYS.subscriber, 200],
      [KEYS.admin, 200],
      [KEYS.auditor, 200],
      [KEYS.ops, 200],
      [KEYS.finance, 403],
      [KEYS.p1, 403],
    ] as const) {
      const c = await SseClient.connect(t.url, '/v1/events/stream', { key });
      expect({ key, status: c.status }).toEqual({ key, status });
      c.close();
    }
    expect((await t.request('GET', '/v1/events/stream', { key: null })).status).toBe(401);
    for (const query of ['fromPosition=abc', 'types=not%20a%20type', 'types=PartnerEnrolled,PartnerEnroled', 'streams=partner-x', 'other=1', 'format=xml', 'format=CloudEvents']) {
      const r = await t.request('GET', `/v1/events/stream?${query}`, { key: KEYS.subscriber });
      expect({ query, status: r.status, type: r.body.type }).toEqual({ query, status: 400, type: 'validation-failed' });
    }
    const badId = await t.request('GET', '/v1/events/stream', { key: KEYS.subscriber, headers: { 'last-event-id': 'yesterday' } });
    expect(badId.status).toBe(400);
  });
});

describe('event stream back-pressure and shutdown', () => {
  it('does not read ahead of a client that stops reading, and delivers everything once it reads again', async () => {
    const t = await startApp();
    try {
      // ~32 MB of events: far more than the kernel's socket buffers (tcp_wmem/tcp_rmem) can absorb.
      const total = 8000;
      const pad = 'x'.repeat(4000);
      for (let i = 0; i < total; i += 500) {
        await t.store.append(`load-${i}`, Array.from({ length: 500 }, (_, j) => newEvent('LoadTested', { i: i + j, pad })), 'no_stream');
      }
      const streams = t.app.get(EventStreams);
      const slow = await SseClient.connect(t.url, '/v1/events/stream', { paused: true });
      const stats = () => streams.stats().find((s) => s.id === Math.max(...streams.stats().map((x) => x.id)))!;
      // Wait (however long it takes) until the server finds the socket full.
      await new Promise<void>((resolve) => {
        const poll = (): void => {
          if (stats()?.waitingForDrain) resolve();
          else setTimeout(poll, 10);
        };
        poll();
      });
      const stalled = stats();
      const frame = Buffer.byteLength(`id: 8000\nevent: LoadTested\ndata: ${JSON.stringify({ pad })}\n\n`) + 1000;
      // Pulled from the store = written to the socket: nothing queued in between.
      expect(stalled.pulled).toBe(stalled.written);
      expect(stalled.pulled).toBeLessThan(total);
      // What the server holds for the socket stays within its high-water mark plus one message.
      expect(stalled.queuedBytes).toBeLessThanOrEqual(16 * 1024 + frame);
      expect(stalled.maxQueuedBytes).toBeLessThanOrEqual(16 * 1024 + frame);
      // More events while it is stalled are not pulled either.
      await t.store.append('load-more', [newEvent('LoadTested', { i: total, pad })], 'no_stream');
      const still = stats();
      expect(still.waitingForDrain).toBe(true);
      expect(still.pulled).toBe(stalled.pulled);

      slow.resume();
      await slow.until((x) => x.messages.length === total + 1, 'every event');
      expect(slow.messages.map((m) => (m.data.data as { i: number }).i)).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
      const after = stats();
      expect(after.pulled).toBe(total + 1);
      expect(after.maxQueuedBytes).toBeLessThanOrEqual(16 * 1024 + frame);
      slow.close();
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  }, 120_000);

  it('ends open streams when the app shuts down, a stalled one included, so close() does not hang', async () => {
    const t = await startApp();
    try {
      const pad = 'y'.repeat(4000);
      for (let i = 0; i < 4000; i += 500) await t.store.append(`stall-${i}`, Array.from({ length: 500 }, () => newEvent('LoadTested', { pad })), 'no_stream');
      const live = await SseClient.connect(t.url, '/v1/events/stream?fromPosition=4000');
      const stalled = await SseClient.connect(t.url, '/v1/events/stream', { paused: true });
      const streams = t.app.get(EventStreams);
      await new Promise<void>((resolve) => {
        const poll = (): void => (streams.stats().some((s) => s.waitingForDrain) && streams.stats().length === 2 ? resolve() : void setTimeout(poll, 10));
        poll();
      });
      await t.close();
      await live.until((x) => x.ended, 'the end of the live stream');
      stalled.resume();
      await stalled.until((x) => x.ended, 'the end of the stalled stream');
      expect(streams.stats()).toEqual([]);
    } finally {
      removeDir(t.dataDir);
    }
  }, 60_000);
});
