import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import Database from 'better-sqlite3';
import { AuditService } from '#api/audit/audit.service.js';
import { importLog } from '#cli/import.js';
import type { RecordedEvent } from '#events/envelope.js';
import { eventsFile, readModelsFile } from '#libs/event-store/open.js';
import { openNote, parseCheckpoint } from '#libs/event-store/checkpoint.js';
import { digestAt, verifyLog } from '#libs/event-store/integrity.js';
import { verifyConsistency, verifyInclusion } from '#libs/event-store/merkle.js';
import { ScanningMerkleLog } from '#libs/event-store/merkle-log.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { newEvent } from '#libs/event-store/testing/fixtures.js';
import { REPLAYABLE_READ_MODELS } from '#projections/replay/read-models.js';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
type Page = { items: Body[]; nextPosition: string | null };

const enroll = (partnerId: string, domain: string) => ({ partnerId, name: `Partner ${partnerId}`, type: 'reseller', domain });

async function must(t: TestApp, method: string, path: string, body?: unknown): Promise<Body> {
  const r = await t.request(method, path, { body, key: KEYS.admin });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

/** Every table of a read-model database except the checkpoints, rows sorted: "the read model" as data. */
function dumpReadModels(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'projection_checkpoints' ORDER BY name").all();
    const out: Record<string, unknown[]> = {};
    for (const { name } of tables) {
      const rows = db.prepare(`SELECT * FROM "${name}"`).all().map((r) => JSON.stringify(r));
      out[name] = rows.sort();
    }
    return out;
  } finally {
    db.close();
  }
}

describe('audit API', () => {
  let t: TestApp;
  const clock = new TestClock(Date.parse('2026-03-02T09:00:00Z'));
  beforeAll(async () => {
    t = await startApp({ clock });
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('replays the partners read model as of a past record time exactly as the live endpoint answered then', async () => {
    const live = async (path: string) => {
      const head = (await t.store.headPosition()).toString();
      const r = await t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${head}`, { key: KEYS.ops });
      expect(r.status).toBe(200);
      return { body: r.body, position: r.headers.get('ledger-position') };
    };
    const captured: { asOf: string; queries: Record<string, { body: unknown; position: string | null }> }[] = [];
    const capture = async () => {
      const asOf = clock.now().toISOString();
      captured.push({
        asOf,
        queries: {
          '': await live('/v1/partners?limit=1000'),
          'status=active': await live('/v1/partners?status=active'),
          'limit=1': await live('/v1/partners?limit=1'),
          'partnerId=RA': await live('/v1/partners/RA'),
        },
      });
    };

    await must(t, 'POST', '/v1/partners', enroll('RA', 'replay-a.example'));
    await must(t, 'POST', '/v1/partners', enroll('RB', 'replay-b.example'));
    await must(t, 'POST', '/v1/partners/RA/activate');
    // Certified sellers count at the query's `now`: this one lapses at 11:30, without an event.
    await must(t, 'POST', '/v1/partners/RA/certifications', { sellerId: 's1', certification: 'Sales', earnedAt: '2026-03-01', expiresAt: '2026-03-02T11:30:00Z' });
    await capture();

    clock.advance(60 * 60 * 1000);
    await must(t, 'POST', '/v1/partners/RA/certifications', { sellerId: 's2', certification: 'Architect', earnedAt: '2026-03-01' });
    await must(t, 'POST', '/v1/partners/RB/terminate', { reason: 'left the program' });
    await must(t, 'POST', '/v1/partners', enroll('RC', 'replay-c.example'));
    await capture();

    clock.advance(2 * 60 * 60 * 1000);
    await must(t, 'POST', '/v1/partners/RA/suspend', { reason: 'audit' });
    await capture();

    // Later history that the replays must not see.
    clock.advance(60 * 60 * 1000);
    await must(t, 'POST', '/v1/partners/RA/reinstate', {});
    await must(t, 'POST', '/v1/partners', enroll('RD', 'replay-d.example'));

    for (const { asOf, queries } of captured) {
      for (const [params, expected] of Object.entries(queries)) {
        const r = await t.request('GET', `/v1/audit/replay?projection=partners&asOf=${asOf}${params ? `&${params}` : ''}`, { key: KEYS.auditor });
        expect({ asOf, params, status: r.status, body: r.body, position: r.headers.get('ledger-position') }).toEqual({ asOf, params, status: 200, body: expected.body, position: expected.position });
      }
    }
    expect(captured[0]!.queries['partnerId=RA']!.body).toMatchObject({ status: 'active', certifiedSellers: 1 });
    expect(captured[2]!.queries['partnerId=RA']!.body).toMatchObject({ status: 'suspended', certifiedSellers: 1 });

    // Before RC was enrolled, RC did not exist: the live endpoint's 404.
    const before = await t.request('GET', `/v1/audit/replay?projection=partners&asOf=${captured[0]!.asOf}&partnerId=RC`, { key: KEYS.auditor });
    expect(before.status).toBe(404);
    expect(before.body.type).toBe('not-found');
    // A date means 00:00 UTC: nothing was recorded yet.
    const empty = await t.request('GET', '/v1/audit/replay?projection=partners&asOf=2026-03-02', { key: KEYS.auditor });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ items: [], nextCursor: null });
    expect(empty.headers.get('ledger-position')).toBe('0');
  });

  it('replays deals and registration conflicts as of past record times too', async () => {
    const deal = (dealId: string, partnerId: string) => ({
      dealId,
      partnerId,
      customer: { name: 'Replay Corp', domain: 'https://www.replay-corp.co.uk' },
      products: ['CRM'],
      estimatedValue: { amountMinor: 2_500_000, currency: 'USD' },
      expectedCloseDate: '2026-09-30',
    });
    for (const id of ['DP1', 'DP2']) {
      await must(t, 'POST', '/v1/partners', enroll(id, `${id.toLowerCase()}.example`));
      await must(t, 'POST', `/v1/partners/${id}/activate`);
    }
    const queries = ['/v1/deals?limit=1000', '/v1/deals/DR2', '/v1/registration-conflicts', '/v1/registration-conflicts?status=open', '/v1/deals?customer=replay-corp.co.uk&status=conflicted'];
    const toReplay = (path: string): string => {
      const [route, query] = path.split('?');
      const [, , name, id] = route!.split('/');
      const params = [query, id === undefined ? undefined : `dealId=${id}`].filter(Boolean).join('&');
      return `projection=${name === 'deals' ? 'deals' : 'registration-conflicts'}${params ? `&${params}` : ''}`;
    };
    const captured: { asOf: string; answers: { path: string; body: unknown; position: string | null }[] }[] = [];
    const capture = async () => {
      const head = (await t.store.headPosition()).toString();
      const answers = [];
      for (const path of queries) {
        const r = await t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${head}`, { key: KEYS.ops });
        expect({ path, status: r.status }).toEqual({ path, status: 200 });
        answers.push({ path, body: r.body, position: r.headers.get('ledger-position') });
      }
      captured.push({ asOf: clock.now().toISOString(), answers });
    };
    clock.advance(60 * 60 * 1000);
    await must(t, 'POST', '/v1/deals', deal('DR1', 'DP1'));
    await must(t, 'POST', '/v1/deals', deal('DR2', 'DP2'));
    await capture();
    clock.advance(60 * 60 * 1000);
    await must(t, 'POST', '/v1/deals/DR1/approve', {});
    await capture();
    clock.advance(60 * 60 * 1000);
    await must(t, 'POST', '/v1/deals', { ...deal('DR3', 'DP1'), customer: { name: 'Later', domain: 'later-corp.example' } });

    expect((captured[0]!.answers[3]!.body as { items: unknown[] }).items).toHaveLength(1);
    expect((captured[1]!.answers[3]!.body as { items: unknown[] }).items).toHaveLength(0);
    for (const { asOf, answers } of captured) {
      for (const { path, body, position } of answers) {
        const r = await t.request('GET', `/v1/audit/replay?${toReplay(path)}&asOf=${asOf}`, { key: KEYS.auditor });
        expect({ asOf, path, status: r.status, body: r.body, position: r.headers.get('ledger-position') }).toEqual({ asOf, path, status: 200, body, position });
      }
    }
  });

  it('refuses an unknown or unregistered projection with a 400 naming the known ones, and bad parameters', async () => {
    const known = REPLAYABLE_READ_MODELS.map((r) => r.name);
    for (const projection of ['nope', 'registration-conflicts-v0']) {
      const r = await t.request('GET', `/v1/audit/replay?projection=${projection}&asOf=2026-03-02`, { key: KEYS.auditor });
      expect(r.status).toBe(400);
      expect(r.body.type).toBe('validation-failed');
      expect(r.body.knownProjections).toEqual(known);
      expect((r.body.errors as { path: string; message: string }[])[0]).toMatchObject({ path: 'projection' });
      for (const name of known) expect(r.body.detail).toContain(name);
    }
    const cases: [string, string][] = [
      ['/v1/audit/replay?asOf=2026-03-02', 'projection'],
      ['/v1/audit/replay?projection=partners', 'asOf'],
      ['/v1/audit/replay?projection=partners&asOf=2026-02-30', 'asOf'],
      ['/v1/audit/replay?projection=partners&asOf=yesterday', 'asOf'],
      ['/v1/audit/replay?projection=partners&asOf=2026-03-02&minPosition=three', 'minPosition'],
      ['/v1/audit/replay?projection=partners&asOf=2026-03-02&limit=0', 'limit'],
      ['/v1/audit/replay?projection=partners&asOf=2026-03-02&status=dormant', 'status'],
      ['/v1/audit/replay?projection=partners&asOf=2026-03-02&asOf=2026-03-03', 'asOf'],
    ];
    for (const [path, field] of cases) {
      const r = await t.request('GET', path, { key: KEYS.auditor });
      expect({ path, status: r.status, type: r.body.type }).toEqual({ path, status: 400, type: 'validation-failed' });
      expect((r.body.errors as { path: string }[]).map((e) => e.path)).toContain(field);
    }
  });

  it('lets admin and auditors in and keeps everyone else out of /v1/audit/*', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/audit/events'],
      ['GET', '/v1/audit/streams/partner-RA'],
      ['GET', '/v1/audit/digest'],
      ['GET', '/v1/audit/proofs/inclusion?position=1'],
      ['GET', '/v1/audit/proofs/consistency?from=1'],
      ['GET', '/v1/audit/public-key'],
      ['POST', '/v1/audit/verify', {}],
      ['GET', '/v1/audit/replay?projection=partners&asOf=2026-03-02'],
      ['GET', '/v1/audit/export'],
    ];
    for (const [method, path, body] of routes) {
      for (const [key, status] of [
        [KEYS.auditor, 200],
        [KEYS.admin, 200],
        [KEYS.ops, 403],
        [KEYS.finance, 403],
        [KEYS.subscriber, 403],
        [KEYS.p1, 403],
        [null, 401],
      ] as const) {
        const r = await t.request(method, path, { key, body });
        expect({ method, path, key, status: r.status }).toEqual({ method, path, key, status });
        if (status === 403) expect(r.body.type).toBe('forbidden');
      }
    }
  });

  it('lists events in log order with the full envelope, paged by position and filtered by type and stream', async () => {
    await must(t, 'POST', '/v1/partners', enroll('S1', 's1.example'));
    await must(t, 'POST', '/v1/partners', enroll('S10', 's10.example'));
    const head = (await t.store.headPosition()).toString();
    const all: Body[] = [];
    let from = '0';
    for (;;) {
      const r = await t.request<Page>('GET', `/v1/audit/events?fromPosition=${from}&limit=4`, { key: KEYS.auditor });
      expect(r.status).toBe(200);
      expect(r.headers.get('ledger-position')).toBe(head);
      expect(r.body.items.length).toBeLessThanOrEqual(4);
      all.push(...r.body.items);
      if (r.body.nextPosition === null) break;
      expect(r.body.nextPosition).toBe(r.body.items[r.body.items.length - 1]!.position);
      from = r.body.nextPosition;
    }
    expect(all.map((e) => BigInt(e.position as string))).toEqual(Array.from({ length: Number(head) }, (_, i) => BigInt(i + 1)));
    const stored = (await t.store.readAll()[Symbol.asyncIterator]().next()).value as RecordedEvent;
    expect(all[0]).toEqual({ ...stored, revision: stored.revision.toString(), position: stored.position.toString() });
    expect(Object.keys(all[0]!).sort()).toEqual(['data', 'eventId', 'hash', 'metadata', 'position', 'prevHash', 'revision', 'streamId', 'type']);

    const typed = await t.request<Page>('GET', '/v1/audit/events?type=PartnerEnrolled,PartnerTerminated&limit=1000', { key: KEYS.auditor });
    expect(new Set(typed.body.items.map((e) => e.type))).toEqual(new Set(['PartnerEnrolled', 'PartnerTerminated']));
    expect(typed.body.items.length).toBe(all.filter((e) => e.type === 'PartnerEnrolled' || e.type === 'PartnerTerminated').length);
    const stream = await t.request<Page>('GET', '/v1/audit/events?streamId=partner-S1', { key: KEYS.auditor });
    expect(stream.body.items.map((e) => e.streamId)).toEqual(['partner-S1']);
    expect(stream.body.nextPosition).toBeNull();
    for (const bad of ['fromPosition=-1', 'limit=1001', 'limit=x', 'type=not a type', 'streamId=%20x', 'other=1']) {
      const r = await t.request('GET', `/v1/audit/events?${bad}`, { key: KEYS.auditor });
      expect({ bad, status: r.status, type: r.body.type }).toEqual({ bad, status: 400, type: 'validation-failed' });
    }
  });

  it("pages one stream's events in revision order, 404 for a stream that does not exist", async () => {
    const first = await t.request<{ streamId: string; items: Body[]; nextCursor: string | null }>('GET', '/v1/audit/streams/partner-RA?limit=2', { key: KEYS.auditor });
    expect(first.status).toBe(200);
    expect(first.body.streamId).toBe('partner-RA');
    expect(first.body.items.map((e) => e.revision)).toEqual(['0', '1']);
    expect(first.body.nextCursor).toBe('2');
    const rest = await t.request<{ items: Body[]; nextCursor: string | null }>('GET', `/v1/audit/streams/partner-RA?cursor=${first.body.nextCursor}&limit=1000`, { key: KEYS.auditor });
    expect(rest.body.items.map((e) => e.type)).toEqual(['SellerCertified', 'SellerCertified', 'PartnerSuspended', 'PartnerReinstated']);
    expect(rest.body.nextCursor).toBeNull();
    expect((await t.request('GET', '/v1/audit/streams/partner-NOBODY', { key: KEYS.auditor })).status).toBe(404);
    expect((await t.request('GET', '/v1/audit/streams/bad%20id', { key: KEYS.auditor })).status).toBe(400);
  });

  it('gives a signed tree head to keep outside the ledger and verifies the chain and the tree against it', async () => {
    const head = await t.store.headPosition();
    const d = await t.request('GET', '/v1/audit/digest', { key: KEYS.auditor });
    expect(d.status).toBe(200);
    const tree = new ScanningMerkleLog(t.store);
    const expected = await tree.treeHead();
    expect(d.body).toMatchObject({ position: head.toString(), size: expected.size, rootHash: expected.rootHash, algorithm: 'rfc9162-sha256' });
    const key = await t.request('GET', '/v1/audit/public-key', { key: KEYS.auditor });
    expect(key.body).toMatchObject({ algorithm: 'Ed25519', jwk: { kty: 'OKP', crv: 'Ed25519' } });
    expect(parseCheckpoint(openNote(d.body.checkpoint as string, key.body.verifierKey as string))).toEqual({ origin: key.body.origin, size: expected.size, rootHash: expected.rootHash });
    const mid = await t.request('GET', '/v1/audit/digest?position=3', { key: KEYS.auditor });
    expect(mid.body).toMatchObject({ position: '3', size: await tree.sizeAt(3n), rootHash: (await tree.treeHead(await tree.sizeAt(3n))).rootHash });
    const bySize = await t.request('GET', '/v1/audit/digest?size=2', { key: KEYS.auditor });
    expect(bySize.body).toMatchObject({ size: 2, rootHash: (await tree.treeHead(2)).rootHash });
    const v1 = await digestAt(t.store, head);

    await must(t, 'POST', '/v1/partners', enroll('V1', 'v1.example'));
    const kept = await t.request('POST', '/v1/audit/verify', { key: KEYS.auditor, body: { size: String(d.body.size), rootHash: d.body.rootHash } });
    expect(kept.body).toMatchObject({ ok: true, rootMatches: true });
    const wrongRoot = await t.request('POST', '/v1/audit/verify', { key: KEYS.auditor, body: { size: '2', rootHash: d.body.rootHash } });
    expect(wrongRoot.body).toMatchObject({ ok: false, rootMatches: false });
    const v = await t.request('POST', '/v1/audit/verify', { key: KEYS.auditor, body: { position: head.toString(), digest: v1.digest } });
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({ ok: true, checkedEvents: Number(head), digestMatches: true, position: head.toString() });
    expect(v.body.firstInvalidPosition).toBeUndefined();
    const whole = await t.request('POST', '/v1/audit/verify', { key: KEYS.auditor });
    expect(whole.body).toMatchObject({ ok: true, checkedEvents: Number(await t.store.headPosition()) });
    const other = await t.request('POST', '/v1/audit/verify', { key: KEYS.auditor, body: { digest: v1.digest } });
    expect(other.body).toMatchObject({ ok: true, digestMatches: false });
    for (const body of [{ position: 'x' }, { digest: 'abc' }, { position: '99999' }, { extra: true }, { size: '-1' }, { rootHash: 'AB' }]) {
      const r = await t.request('POST', '/v1/audit/verify', { key: KEYS.auditor, body });
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
    }
    for (const path of ['digest?position=99999', 'digest?size=99999', 'digest?size=1&position=1', 'digest?size=x', 'proofs/inclusion', 'proofs/inclusion?position=1&size=99999', 'proofs/consistency?from=5&to=2', 'proofs/consistency?from=99999']) {
      const r = await t.request('GET', `/v1/audit/${path}`, { key: KEYS.auditor });
      expect({ path, status: r.status, type: r.headers.get('content-type') }).toEqual({ path, status: 400, type: expect.stringMatching(/^application\/problem\+json/) });
    }
    expect((await t.request('GET', '/v1/audit/proofs/inclusion?position=99999', { key: KEYS.auditor })).status).toBe(404);
  });

  it('serves inclusion and consistency proofs that check against its signed heads (RFC 9162)', async () => {
    const old = (await t.request('GET', '/v1/audit/digest?size=3', { key: KEYS.auditor })).body;
    await must(t, 'POST', '/v1/partners', enroll('V2', 'v2.example'));
    const now = (await t.request('GET', '/v1/audit/digest', { key: KEYS.auditor })).body;
    const hex = (x: string) => Buffer.from(x, 'hex');
    const c = (await t.request('GET', `/v1/audit/proofs/consistency?from=3&to=${now.size}`, { key: KEYS.auditor })).body;
    expect(c).toMatchObject({ fromSize: 3, toSize: now.size });
    expect(verifyConsistency(3, now.size as number, (c.proof as string[]).map(hex), hex(old.rootHash as string), hex(now.rootHash as string))).toBe(true);
    expect(verifyConsistency(3, now.size as number, (c.proof as string[]).map(hex), hex((await t.request('GET', '/v1/audit/digest?size=2', { key: KEYS.auditor })).body.rootHash as string), hex(now.rootHash as string))).toBe(false);
    const i = (await t.request('GET', `/v1/audit/proofs/inclusion?position=2&size=${now.size}`, { key: KEYS.auditor })).body;
    expect(i).toMatchObject({ position: '2', size: now.size });
    expect(verifyInclusion(i.leafIndex as number, now.size as number, hex(i.leafHash as string), (i.auditPath as string[]).map(hex), hex(now.rootHash as string))).toBe(true);
  });

  it('describes every recorded event with the AsyncAPI document it serves publicly at /docs/events', async () => {
    const served = await t.request('GET', '/docs/events', { key: null });
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^application\/json/);
    // The committed document, with its `{host}` variable filled in with where the request reached the service.
    const committed = JSON.parse(readFileSync('events/asyncapi.json', 'utf8')) as { servers: { ledger: { host: string; variables?: unknown } } };
    const servedDoc = served.body as typeof committed;
    expect(committed.servers.ledger.host).toBe('{host}');
    expect(servedDoc.servers.ledger.host).toBe(new URL(t.url).host);
    expect({ ...servedDoc, servers: undefined }).toEqual({ ...committed, servers: undefined });
    type AjvClass = typeof AjvModule.default;
    const Ajv = ((AjvModule as unknown as { default?: AjvClass }).default ?? AjvModule) as AjvClass;
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ ...(served.body as object), $id: 'asyncapi' });
    const events = await t.request<Page>('GET', '/v1/audit/events?limit=1000', { key: KEYS.auditor });
    expect(events.body.items.length).toBeGreaterThan(10);
    for (const e of events.body.items) {
      const validate = ajv.getSchema(`asyncapi#/components/messages/${e.type as string}/payload`);
      expect({ type: e.type, documented: validate !== undefined }).toEqual({ type: e.type, documented: true });
      expect({ position: e.position, valid: validate!(e), errors: validate!.errors ?? null }).toEqual({ position: e.position, valid: true, errors: null });
    }
  });

  it('exports the log as NDJSON that imports into a fresh store with the same hashes and the same read models', async () => {
    const head = (await t.store.headPosition()).toString();
    const res = await fetch(`${t.url}/v1/audit/export`, { headers: { authorization: `Bearer ${KEYS.auditor}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('ledger-position')).toBe(head);
    const text = await res.text();
    const all = text.split('\n');
    expect(all.pop()).toBe('');
    // A header line, the events, a trailer with the tree head at the export's end.
    expect(JSON.parse(all[0]!)).toEqual({ format: 'channel-ledger-export', version: 2, fromPosition: '0', head });
    const tree = await t.store.merkle!.treeHead();
    expect(JSON.parse(all[all.length - 1]!)).toEqual({ count: Number(head), size: tree.size, rootHash: tree.rootHash, head });
    const lines = all.slice(1, -1);
    expect(lines.map((l) => (JSON.parse(l) as Body).position)).toEqual(Array.from({ length: Number(head) }, (_, i) => String(i + 1)));
    const page = await t.request<Page>('GET', '/v1/audit/events?limit=1000', { key: KEYS.auditor });
    expect(lines.map((l) => JSON.parse(l) as Body)).toEqual(page.body.items);

    const tail = await fetch(`${t.url}/v1/audit/export?fromPosition=${Number(head) - 2}`, { headers: { authorization: `Bearer ${KEYS.auditor}` } });
    expect((await tail.text()).trim().split('\n').slice(1, -1)).toEqual(lines.slice(-2));

    const copyDir = mkdtempSync(join(tmpdir(), 'ledger-import-'));
    const copy = SqliteEventStore.open(eventsFile(copyDir));
    try {
      const r = await importLog(copy, Readable.from([text]), { readModelsFile: readModelsFile(copyDir) });
      expect(r).toEqual({ events: Number(head), lastSourcePosition: BigInt(head), head: BigInt(head) });
      expect(await verifyLog(copy)).toMatchObject({ ok: true, checkedEvents: Number(head) });
      expect((await digestAt(copy)).digest).toBe((await digestAt(t.store, BigInt(head))).digest);
      await expect(importLog(copy, Readable.from([text]))).rejects.toThrow(/not empty/);
      // Run again over its own result (as after a failure part-way): every event is already there, so it passes.
      const again = await importLog(copy, Readable.from([text]), { resume: true });
      expect(again).toEqual(r);
      expect((await digestAt(copy)).digest).toBe((await digestAt(t.store, BigInt(head))).digest);
    } finally {
      await copy.close();
    }
    // The service on the imported data directory rebuilds every read model to the same answers.
    const second = await startApp({ dataDir: copyDir, clock });
    try {
      const a = await t.request('GET', `/v1/partners?limit=1000&minPosition=${head}`);
      const b = await second.request('GET', `/v1/partners?limit=1000&minPosition=${head}`);
      expect(b.status).toBe(200);
      expect(b.body).toEqual(a.body);
      expect((await second.request('GET', '/v1/partners/RA')).body).toEqual((await t.request('GET', '/v1/partners/RA')).body);
      expect(dumpReadModels(readModelsFile(copyDir))).toEqual(dumpReadModels(readModelsFile(t.dataDir)));
    } finally {
      await second.close();
      removeDir(copyDir);
    }
  });
});

describe('audit verify on a tampered log', () => {
  it('names the first position whose hash no longer holds', async () => {
    const t = await startApp();
    try {
      for (const id of ['T1', 'T2', 'T3']) await must(t, 'POST', '/v1/partners', enroll(id, `${id.toLowerCase()}.example`));
      const db = (t.store as SqliteEventStore).database;
      db.exec('DROP TRIGGER events_append_only_update');
      db.prepare("UPDATE events SET data = json_set(data, '$.name', 'Someone else') WHERE position = 4").run();
      const r = await t.request('POST', '/v1/audit/verify', { key: KEYS.auditor });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: false, checkedEvents: 3, firstInvalidPosition: '4' });
      expect(r.body.reason).toMatch(/hash/);
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  });
});

describe('audit export back-pressure', () => {
  it('reads the log only as fast as the client takes the NDJSON', async () => {
    const t = await startApp();
    try {
      const total = 8000;
      const pad = 'z'.repeat(4000);
      for (let i = 0; i < total; i += 500) await t.store.append(`bulk-${i}`, Array.from({ length: 500 }, (_, j) => newEvent('LoadTested', { i: i + j, pad })), 'no_stream');
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest(`${t.url}/v1/audit/export`, { headers: { authorization: `Bearer ${KEYS.auditor}` } });
        req.on('response', (r) => {
          r.pause();
          resolve(r);
        });
        req.on('error', reject);
        req.end();
      });
      expect(res.statusCode).toBe(200);
      const audit = t.app.get(AuditService);
      // However long it takes: the export fills the socket, then stops reading the log.
      await new Promise<void>((resolve) => {
        const poll = (): void => (audit.exportStats()[0]?.backedUp ? resolve() : void setTimeout(poll, 10));
        poll();
      });
      const stalled = audit.exportStats()[0]!;
      expect(stalled.lines).toBeLessThan(total);
      expect(stalled.bufferedBytes).toBeLessThanOrEqual(64 * 1024 + 8 * 1024);

      let received = 0;
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop()!;
        received += parts.length;
      });
      res.resume();
      await new Promise((resolve) => res.on('end', resolve));
      // The events, plus the header and trailer lines.
      expect({ received, rest }).toEqual({ received: total + 2, rest: '' });
      expect(audit.exportStats()).toEqual([]);
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  }, 120_000);
});
