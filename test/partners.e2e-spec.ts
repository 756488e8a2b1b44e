import { commandContext } from '#libs/ledger/context.js';
import { EnrollPartnerCommand } from '#libs/ledger/partners.commands.js';
import { CommandBus } from '@nestjs/cqrs';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
const enroll = (partnerId: string, domain: string, extra: Body = {}) => ({ partnerId, name: `Partner ${partnerId}`, type: 'reseller', domain, ...extra });

describe('partners, end to end', () => {
  let t: TestApp;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await startApp({ clock });
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('walks the lifecycle and reads it back with read-your-writes', async () => {
    const created = await t.request('POST', '/v1/partners', { body: enroll('L1', 'https://EU.Lifecycle.co.uk/path'), key: KEYS.ops });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ partnerId: 'L1', status: 'pending', domain: 'lifecycle.co.uk' });
    expect(created.body.position).toMatch(/^\d+$/);
    const events = created.body.events as Body[];
    expect(events.map((e) => e.type)).toEqual(['PartnerDomainClaimed', 'PartnerEnrolled']);
    expect(events[1]).toMatchObject({ streamId: 'partner-L1', revision: '0' });

    for (const [path, body, status] of [
      ['activate', undefined, 'active'],
      ['suspend', { reason: 'late payments' }, 'suspended'],
      ['reinstate', {}, 'active'],
    ] as const) {
      const r = await t.request('POST', `/v1/partners/L1/${path}`, { body, key: KEYS.ops });
      expect(r.status).toBe(200);
      expect(r.body.status).toBe(status);
    }
    const cert = await t.request('POST', '/v1/partners/L1/certifications', {
      body: { sellerId: 's1', certification: 'Architect', earnedAt: '2026-01-10', expiresAt: '2027-01-10' },
    });
    expect(cert.status).toBe(201);
    const read = await t.request('GET', `/v1/partners/L1?minPosition=${cert.body.position}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('ledger-position')).toBe(cert.body.position);
    expect(read.body).toMatchObject({ partnerId: 'L1', status: 'active', tier: 'Registered', certifiedSellers: 1, domain: 'lifecycle.co.uk', enrolledAt: '2026-03-02T09:00:00.000Z' });
  });

  it('refuses text and domains that must not enter the immutable log (issue #17), appending nothing', async () => {
    const refused = async (path: string, body: Body, field: string) => {
      const head = await t.store.headPosition();
      const r = await t.request<Body>('POST', path, { body, key: KEYS.ops });
      expect({ body, status: r.status, type: r.body.type }).toEqual({ body, status: 400, type: 'validation-failed' });
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(r.body.errors)).toContain(field);
      expect(await t.store.headPosition()).toBe(head);
    };
    // Text of a NUL only, a lone surrogate, a control character: not text.
    for (const name of ['\u0000', '\ud800', 'Acme \udc00 Ltd', 'Acme\u0007']) await refused('/v1/partners', enroll('TX1', 'text.example.com', { name }), 'name');
    // Credentials in the spelling given would stay in the log for ever.
    for (const domain of ['http://user:pass@creds.example.com', 'user:pass@creds.example.com', 'admin@creds.example.com']) await refused('/v1/partners', enroll('TX1', domain), 'domain');
    // A homoglyph: a Cyrillic о in a Latin label, given in Unicode or as punycode.
    for (const domain of ['normtest.c\u043em', `normtest.${new URL('http://c\u043em').hostname}`]) await refused('/v1/partners', enroll('TX1', domain), 'domain');
    expect((await t.request('POST', '/v1/partners', { body: enroll('TX1', 'normtest.com'), key: KEYS.ops })).status).toBe(201);
    expect((await t.request('POST', '/v1/partners/TX1/activate', { key: KEYS.ops })).status).toBe(200);
    const deal = (domain: string, name = 'Customer') => ({
      dealId: 'D-TX1',
      partnerId: 'TX1',
      customer: { name, domain },
      products: ['X'],
      estimatedValue: { amountMinor: 100, currency: 'USD' },
      expectedCloseDate: '2027-10-01',
    });
    for (const domain of ['http://user:pass@customer.example.com', 'p\u0430ypal.com']) await refused('/v1/deals', deal(domain), 'customer.domain');
    await refused('/v1/deals', deal('customer.example.com', '\u0000'), 'name');
    // Single-script IDNs stay welcome.
    expect((await t.request('POST', '/v1/partners', { body: enroll('TX2', 'пример.рф'), key: KEYS.ops })).status).toBe(201);
  });

  it('refuses transitions the lifecycle does not allow, appending nothing', async () => {
    await t.request('POST', '/v1/partners', { body: enroll('L2', 'refused.example') });
    const head = await t.store.headPosition();
    const r = await t.request('POST', '/v1/partners/L2/suspend', { body: { reason: 'x' } });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ type: 'rule-violation', status: 422 });
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const missing = await t.request('POST', '/v1/partners/NOPE/activate');
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe('not-found');
    await t.request('POST', '/v1/partners/L2/terminate', { body: { reason: 'closed' } });
    const after = await t.request('POST', '/v1/partners/L2/reinstate', { body: {} });
    expect(after.status).toBe(422);
    expect(await t.store.headPosition()).toBe(head + 1n);
  });

  it('keeps a domain unique among live partners, whatever the spelling and the concurrency', async () => {
    const spellings = ['unique.co.uk', 'www.unique.co.uk', 'https://Shop.UNIQUE.co.uk/x', 'http://unique.co.uk:8080', 'UNIQUE.co.uk'];
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => t.request('POST', '/v1/partners', { body: enroll(`U${i}`, spellings[i % spellings.length]!) })));
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.type).toBe('already-exists');
    }
    const winner = won[0]!.body.partnerId as string;
    // A terminated partner frees its domain.
    expect((await t.request('POST', `/v1/partners/${winner}/terminate`, { body: { reason: 'left the program' } })).status).toBe(200);
    const again = await t.request('POST', '/v1/partners', { body: enroll('U-next', 'unique.co.uk') });
    expect(again.status).toBe(201);
    // Re-using a partner id is a conflict, never an overwrite.
    const dup = await t.request('POST', '/v1/partners', { body: enroll('U-next', 'other-domain.example') });
    expect(dup.status).toBe(409);
    expect(dup.body.type).toBe('already-exists');
  });

  it('answers a retried command with the same Idempotency-Key with the first response, appending nothing', async () => {
    const headers = { 'idempotency-key': 'enroll-I1-attempt' };
    const first = await t.request('POST', '/v1/partners', { body: enroll('I1', 'idem.example'), headers });
    expect(first.status).toBe(201);
    const head = await t.store.headPosition();
    const second = await t.request('POST', '/v1/partners', { body: enroll('I1', 'idem.example'), headers });
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(await t.store.headPosition()).toBe(head);
    const reused = await t.request('POST', '/v1/partners', { body: enroll('I1', 'idem-other.example'), headers });
    expect(reused.status).toBe(422);
    expect(reused.body.type).toBe('idempotency-key-reused');
    // The same key from another caller is another command.
    const other = await t.request('POST', '/v1/partners', { body: enroll('I2', 'idem2.example'), headers, key: KEYS.ops });
    expect(other.status).toBe(201);
    const lifecycle = { 'idempotency-key': 'activate-I1' };
    const a1 = await t.request('POST', '/v1/partners/I1/activate', { headers: lifecycle });
    const a2 = await t.request('POST', '/v1/partners/I1/activate', { headers: lifecycle });
    expect(a1.status).toBe(200);
    expect(a2.status).toBe(200);
    expect(a2.text).toBe(a1.text);
  });

  it('finds an earlier run in the log when the answer was lost (crash between append and answer)', async () => {
    // As if a previous process appended this command's events and died before answering.
    const body = enroll('C1', 'crashed.example');
    const bus = t.app.get(CommandBus);
    const ctx = commandContext({ id: 'admin', role: 'admin' }, { idempotencyKey: 'lost-answer', method: 'POST', path: '/v1/partners', body });
    await bus.execute(new EnrollPartnerCommand(ctx, body as never));
    const head = await t.store.headPosition();
    const retry = await t.request('POST', '/v1/partners', { body, headers: { 'idempotency-key': 'lost-answer' } });
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ partnerId: 'C1', status: 'pending', domain: 'crashed.example' });
    expect((retry.body.events as Body[]).map((e) => e.type)).toEqual(['PartnerDomainClaimed', 'PartnerEnrolled']);
    expect(await t.store.headPosition()).toBe(head);
  });

  it('scopes partner keys to their own partner', async () => {
    await t.request('POST', '/v1/partners', { body: enroll('P1', 'partner-one.example') });
    await t.request('POST', '/v1/partners', { body: enroll('P2', 'partner-two.example') });
    expect((await t.request('GET', '/v1/partners/P1', { key: KEYS.p1 })).status).toBe(200);
    const other = await t.request('GET', '/v1/partners/P2', { key: KEYS.p1 });
    expect([403, 404]).toContain(other.status);
    expect(other.text).not.toContain('partner-two');
    const list = await t.request<{ items: Body[] }>('GET', '/v1/partners?limit=1000', { key: KEYS.p1 });
    expect(list.status).toBe(200);
    expect(list.body.items.map((p) => p.partnerId)).toEqual(['P1']);
    const enrollAsPartner = await t.request('POST', '/v1/partners', { body: enroll('P9', 'p9.example'), key: KEYS.p1 });
    expect(enrollAsPartner.status).toBe(403);
    expect(enrollAsPartner.body.type).toBe('forbidden');
  });

  it('enforces roles: finance and auditors read, only channel-ops and admin command, subscribers see nothing here', async () => {
    expect((await t.request('GET', '/v1/partners', { key: KEYS.finance })).status).toBe(200);
    expect((await t.request('GET', '/v1/partners', { key: KEYS.auditor })).status).toBe(200);
    expect((await t.request('GET', '/v1/partners', { key: KEYS.subscriber })).status).toBe(403);
    for (const key of [KEYS.finance, KEYS.auditor, KEYS.subscriber]) {
      const r = await t.request('POST', '/v1/partners', { body: enroll('R1', 'roles.example'), key });
      expect(r.status).toBe(403);
    }
    expect((await t.request('GET', '/v1/partners', { key: null })).status).toBe(401);
    expect((await t.request('GET', '/v1/partners', { key: 'not-a-key-at-all-0000000' })).status).toBe(401);
  });

  it('validates input with problem details naming the field, and appends nothing', async () => {
    const head = await t.store.headPosition();
    const cases: [Body | string, string][] = [
      [enroll('bad id!', 'a.example'), 'partnerId'],
      [enroll('V1', 'a.example', { type: 'wholesaler' }), 'type'],
      [enroll('V1', 'a.example', { country: 'Germany' }), 'country'],
      [enroll('V1', 'a.example', { extra: 1 }), 'extra'],
      [enroll('V1', 'a.example', { name: '' }), 'name'],
      [enroll('V1', 'a.example', { name: 'x'.repeat(501) }), 'name'],
      [enroll('V1', '127.0.0.1'), 'domain'],
      [enroll('V1', 'co.uk'), 'domain'],
    ];
    for (const [body, path] of cases) {
      const r = await t.request('POST', '/v1/partners', { body });
      expect(r.status).toBe(400);
      expect(r.body.type).toBe('validation-failed');
      expect((r.body.errors as { path: string }[]).map((e) => e.path)).toContain(path);
    }
    const dates = await t.request('POST', '/v1/partners/L1/certifications', { body: { sellerId: 's2', certification: 'c', earnedAt: '2026-02-30' } });
    expect(dates.status).toBe(400);
    const order = await t.request('POST', '/v1/partners/L1/certifications', { body: { sellerId: 's2', certification: 'c', earnedAt: '2026-02-01', expiresAt: '2026-01-01' } });
    expect(order.status).toBe(400);
    expect((await t.request('POST', '/v1/partners', { raw: '{"partnerId":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await t.request('POST', '/v1/partners', { raw: 'partnerId=1', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await t.request('POST', '/v1/partners', { raw: JSON.stringify({ name: 'x'.repeat(1_100_000) }), headers: { 'content-type': 'application/json' } })).status).toBe(413);
    expect((await t.request('GET', '/v1/partners?limit=5000')).status).toBe(400);
    expect((await t.request('GET', '/v1/partners?minPosition=abc')).status).toBe(400);
    expect(await t.store.headPosition()).toBe(head);
  });

  it('pages the list with a cursor and filters by status', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/partners?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await t.request<{ items: Body[]; nextCursor: string | null }>('GET', q);
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.items.map((p) => p.partnerId as string));
      cursor = r.body.nextCursor;
    } while (cursor);
    const all = await t.request<{ items: Body[] }>('GET', '/v1/partners?limit=1000');
    expect(seen).toEqual(all.body.items.map((p) => p.partnerId));
    expect(new Set(seen).size).toBe(seen.length);
    const terminated = await t.request<{ items: Body[] }>('GET', '/v1/partners?status=terminated');
    expect(terminated.body.items.length).toBeGreaterThan(0);
    expect(terminated.body.items.every((p) => p.status === 'terminated')).toBe(true);
  });

  it('answers 503 not-caught-up when minPosition is not reached in time', async () => {
    const far = (await t.store.headPosition()) + 1000n;
    const r = await t.request('GET', `/v1/partners?minPosition=${far}`, {});
    expect(r.status).toBe(503);
    expect(r.body.type).toBe('not-caught-up');
  }, 15000);
});

describe('restart on the same data', () => {
  it('keeps everything acknowledged and the read models continue from their checkpoints', async () => {
    const first = await startApp();
    const r = await first.request('POST', '/v1/partners', { body: enroll('S1', 'restart.example') });
    expect(r.status).toBe(201);
    await first.close();
    const second = await startApp({ dataDir: first.dataDir });
    try {
      const read = await second.request('GET', `/v1/partners/S1?minPosition=${r.body.position}`);
      expect(read.status).toBe(200);
      expect(read.body.domain).toBe('restart.example');
      const dup = await second.request('POST', '/v1/partners', { body: enroll('S2', 'restart.example') });
      expect(dup.status).toBe(409);
    } finally {
      await second.close();
      removeDir(first.dataDir);
    }
  });
});
