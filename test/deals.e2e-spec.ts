import { StreamDealDirectory } from '#libs/ledger/deal-directory.js';
import { KEYS, removeDir, startApp, TestClock, type Response, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
const DAY = 86_400_000;

const deal = (dealId: string, partnerId: string, domain: string, products: string[] = ['CRM'], extra: Body = {}): Body => ({
  dealId,
  partnerId,
  customer: { name: `Customer of ${domain}`, domain },
  products,
  estimatedValue: { amountMinor: 2_500_000, currency: 'USD' },
  expectedCloseDate: '2026-09-30',
  ...extra,
});

const maxPosition = (responses: readonly Response[]): string =>
  responses.map((r) => BigInt((r.body as Body).position as string)).reduce((a, b) => (a > b ? a : b), 0n).toString();

describe('deal registration, end to end', () => {
  let t: TestApp;
  const clock = new TestClock();

  const register = (body: Body, key: string = KEYS.ops, headers: Record<string, string> = {}) => t.request('POST', '/v1/deals', { body, key, headers });
  const action = (dealId: string, verb: string, body: Body = {}, key: string = KEYS.ops) => t.request('POST', `/v1/deals/${dealId}/${verb}`, { body, key });
  const getDeal = (dealId: string, position?: string, key: string = KEYS.ops) =>
    t.request('GET', `/v1/deals/${dealId}${position ? `?minPosition=${position}` : ''}`, { key });

  async function enroll(partnerId: string, domain: string, lifecycle: string[] = ['activate']): Promise<void> {
    expect((await t.request('POST', '/v1/partners', { body: { partnerId, name: `Partner ${partnerId}`, type: 'reseller', domain } })).status).toBe(201);
    for (const step of lifecycle) {
      expect((await t.request('POST', `/v1/partners/${partnerId}/${step}`, { body: step === 'activate' ? {} : { reason: 'test' } })).status).toBe(200);
    }
  }

  beforeAll(async () => {
    t = await startApp({ clock });
    for (let i = 1; i <= 5; i++) await enroll(`P${i}`, `partner-${i}.example`);
    await enroll('PENDING', 'pending-partner.example', []);
    await enroll('SUSPENDED', 'suspended-partner.example', ['activate', 'suspend']);
    await enroll('TERMINATED', 'terminated-partner.example', ['activate', 'terminate']);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('50 concurrent registrations of one customer from 5 partners: one submitted, 49 conflicted; 10 concurrent approvals: one wins', async () => {
    const spellings = ['race.co.uk', 'www.race.co.uk', 'https://EU.Race.co.uk/x', 'RACE.CO.UK', 'http://shop.race.co.uk:8080/deal?q=1'];
    const registrations = await Promise.all(
      Array.from({ length: 50 }, (_, i) => register(deal(`R${String(i).padStart(2, '0')}`, `P${(i % 5) + 1}`, spellings[i % spellings.length]!, i % 2 ? ['CRM', 'BI'] : ['CRM']))),
    );
    for (const r of registrations) {
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ customerKey: 'race.co.uk' });
    }
    const submitted = registrations.filter((r) => r.body.status === 'submitted');
    const conflicted = registrations.filter((r) => r.body.status === 'conflicted');
    expect(submitted).toHaveLength(1);
    expect(conflicted).toHaveLength(49);
    const first = submitted[0]!.body.dealId as string;
    expect(submitted[0]!.body.conflictsWith).toEqual([]);
    for (const r of conflicted) expect(r.body.conflictsWith).toContain(first);
    // Every registration was decided against one stream: the conflicted ones name exactly those before them.
    const byRevision = [...registrations].sort((a, b) => Number(BigInt(last(a).revision) - BigInt(last(b).revision)));
    byRevision.forEach((r, i) => expect((r.body.conflictsWith as string[]).length).toBe(i));
    expect(last(registrations[0]!).streamId).toBe('customer-race.co.uk');

    const afterRegistrations = maxPosition(registrations);
    const open = await t.request<{ items: Body[] }>('GET', `/v1/registration-conflicts?status=open&minPosition=${afterRegistrations}`);
    expect(open.status).toBe(200);
    expect(BigInt(open.headers.get('ledger-position')!)).toBeGreaterThanOrEqual(BigInt(afterRegistrations));
    const mine = open.body.items.filter((c) => c.customerKey === 'race.co.uk');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ status: 'open', products: ['BI', 'CRM'] });
    expect([...(mine[0]!.dealIds as string[])].sort()).toEqual(registrations.map((r) => r.body.dealId as string).sort());
    const conflictId = mine[0]!.conflictId as string;
    expect(conflictId.startsWith(`${first}/`)).toBe(true);

    const candidates = registrations.slice(10, 20).map((r) => r.body.dealId as string);
    const head = await t.store.headPosition();
    // Each candidate registered after R00 (still pending): approving it sets first-to-register aside, recorded.
    const approvals = await Promise.all(candidates.map((id) => action(id, 'approve', { override: { reason: 'the customer chose this partner' } })));
    const won = approvals.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    // A refused approval either saw the winner approved (409) or its own registration already rejected by it (422).
    for (const r of approvals.filter((x) => x.status !== 200)) {
      expect([
        [409, 'registration-conflict'],
        [422, 'registration-not-active'],
      ]).toContainEqual([r.status, r.body.type]);
    }
    const winner = won[0]!.body.dealId as string;
    expect(won[0]!.body).toMatchObject({ status: 'approved', programVersion: 0, resolvedConflicts: [{ conflictId, winnerDealId: winner }] });
    expect((won[0]!.body.rejected as string[]).sort()).toEqual(registrations.map((r) => r.body.dealId as string).filter((id) => id !== winner).sort());
    // One atomic append: the approval and its 49 rejections, nothing from the nine refused approvals.
    expect(await t.store.headPosition()).toBe(head + 50n);
    expect(new Set((won[0]!.body.events as Body[]).map((e) => e.revision)).size).toBe(50);

    const p = maxPosition(won);
    const deals = await t.request<{ items: Body[] }>('GET', `/v1/deals?customer=https://www.RACE.co.uk/&limit=1000&minPosition=${p}`);
    expect(deals.status).toBe(200);
    expect(deals.body.items).toHaveLength(50);
    for (const d of deals.body.items) {
      if (d.dealId === winner) expect(d).toMatchObject({ status: 'approved', protectedUntil: new Date(clock.now().getTime() + 90 * DAY).toISOString() });
      else expect(d).toMatchObject({ status: 'rejected', reason: 'conflict-lost', winnerDealId: winner });
    }
    const resolved = await t.request<{ items: Body[] }>('GET', `/v1/registration-conflicts?status=resolved&minPosition=${p}`);
    expect(resolved.body.items.find((c) => c.conflictId === conflictId)).toMatchObject({ status: 'resolved', winnerDealId: winner, customerKey: 'race.co.uk' });
    const stillOpen = await t.request<{ items: Body[] }>('GET', `/v1/registration-conflicts?status=open&minPosition=${p}`);
    expect(stillOpen.body.items.find((c) => c.conflictId === conflictId)).toBeUndefined();

    // Approving a registration over the approved holder is a 409, whatever its state.
    const newcomer = await register(deal('R-late', 'P3', 'race.co.uk', ['CRM']));
    expect(newcomer.body).toMatchObject({ status: 'conflicted', conflictsWith: [winner] });
    const refused = await action('R-late', 'approve');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: 'registration-conflict', conflictsWith: [winner] });
  });

  it('protects for protectionDays, extends once within policy, expires on the run after protectedUntil, then registers again', async () => {
    clock.set('2026-04-01T10:00:00Z');
    const r = await register(deal('X1', 'P1', 'protected.com', ['CRM', 'ERP']));
    expect(r.status).toBe(201);
    const approved = await action('X1', 'approve');
    expect(approved.status).toBe(200);
    const until = '2026-06-30T10:00:00.000Z';
    expect(approved.body).toMatchObject({ dealId: 'X1', status: 'approved', protectedUntil: until, programVersion: 0 });

    const head = await t.store.headPosition();
    const beyond = await action('X1', 'extend', { days: 61 });
    expect(beyond.status).toBe(422);
    expect(beyond.body.type).toBe('rule-violation');
    expect(await t.store.headPosition()).toBe(head);
    const extended = await action('X1', 'extend', { days: 30 });
    expect(extended.status).toBe(200);
    const extendedUntil = '2026-07-30T10:00:00.000Z';
    expect(extended.body).toMatchObject({ status: 'approved', days: 30, protectedUntil: extendedUntil });
    const again = await action('X1', 'extend', { days: 1 });
    expect(again.status).toBe(422);
    expect(again.body.detail).toMatch(/one extension/);

    // A win must have closed while protected.
    const late = await action('X1', 'won', { amount: { amountMinor: 100, currency: 'USD' }, closedAt: '2026-07-30T10:00:01Z' });
    expect(late.status).toBe(422);

    clock.set('2026-07-30T10:00:00Z');
    const early = await t.request('POST', '/v1/deal-expirations', { body: { asOf: extendedUntil } });
    expect(early.status).toBe(200);
    // (the holder of the first test, approved in March, is due by now; X1 is not, at protectedUntil itself)
    expect((early.body.expired as Body[]).map((e) => e.dealId)).not.toContain('X1');
    clock.set('2026-07-30T10:00:01Z');
    const run = await t.request('POST', '/v1/deal-expirations', { body: { asOf: '2026-07-30T10:00:01Z' } });
    expect(run.status).toBe(200);
    expect(run.body.expired).toEqual([{ dealId: 'X1', reason: 'protection-ended' }]);
    expect((run.body.events as Body[])[0]).toMatchObject({ type: 'DealRegistrationExpired', streamId: 'customer-protected.com' });
    const read = await getDeal('X1', run.body.position as string);
    expect(read.body).toMatchObject({ status: 'expired', protectedUntil: extendedUntil, extendedDays: 30 });
    const rerun = await t.request('POST', '/v1/deal-expirations', { body: { asOf: '2026-08-01' } });
    expect(rerun.body.expired).toEqual([]);

    const fresh = await register(deal('X2', 'P2', 'www.protected.com', ['ERP']));
    expect(fresh.status).toBe(201);
    expect(fresh.body).toMatchObject({ status: 'submitted', conflictsWith: [], customerKey: 'protected.com' });
    const reused = await register(deal('X1', 'P2', 'protected.com', ['ERP']));
    expect(reused.status).toBe(409);
    expect(reused.body.type).toBe('already-exists');
  });

  it('records wins and losses; the deal directory answers from the log', async () => {
    clock.set('2026-05-01T00:00:00Z');
    await register(deal('W1', 'P1', 'winner.com'));
    await action('W1', 'approve');
    const win = await action('W1', 'won', { amount: { amountMinor: 4_200_000, currency: 'EUR' }, closedAt: '2026-05-20' });
    expect(win.status).toBe(200);
    expect(win.body).toMatchObject({ dealId: 'W1', status: 'won' });
    const directory = t.app.get(StreamDealDirectory);
    expect(await directory.find('W1')).toEqual({
      dealId: 'W1',
      partnerId: 'P1',
      customerKey: 'winner.com',
      streamId: 'customer-winner.com',
      status: 'won',
      protectedUntil: '2026-07-30T00:00:00.000Z',
      closedAt: '2026-05-20T00:00:00.000Z',
      wonAmount: { amountMinor: 4_200_000, currency: 'EUR' },
    });
    expect(await directory.find('never-registered')).toBeUndefined();
    expect((await action('W1', 'won', { amount: { amountMinor: 1, currency: 'EUR' }, closedAt: '2026-05-21' })).status).toBe(422);

    await register(deal('L1', 'P2', 'loser.com'));
    const lost = await action('L1', 'lost', { reason: 'went with a competitor' });
    expect(lost.status).toBe(200);
    expect(lost.body.status).toBe('lost');
    expect((await action('L1', 'lost', { reason: 'again' })).status).toBe(422);
    expect((await directory.find('L1'))?.status).toBe('lost');

    await register(deal('J1', 'P2', 'rejected.com'));
    const rejected = await action('J1', 'reject', { reason: 'duplicate of an existing opportunity' });
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe('rejected');
    const read = await getDeal('J1', rejected.body.position as string);
    expect(read.body).toMatchObject({ status: 'rejected', reason: 'duplicate of an existing opportunity' });

    expect((await action('NOPE', 'approve')).status).toBe(404);
  });

  it('keeps deal ids unique across customers, also when they race', async () => {
    const results = await Promise.all(['one.com', 'two.com', 'three.com', 'four.com'].map((d) => register(deal('SAME-ID', 'P1', d))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) expect(r.body.type).toBe('already-exists');
    const head = await t.store.headPosition();
    expect((await register(deal('SAME-ID', 'P1', 'five.com'))).status).toBe(409);
    expect(await t.store.headPosition()).toBe(head);
  });

  it('scopes partner keys to their own deals', async () => {
    const own = await register(deal('S1', 'P1', 'scoped.com'), KEYS.p1);
    expect(own.status).toBe(201);
    await register(deal('S2', 'P2', 'scoped-other.com'), KEYS.p2);
    const head = await t.store.headPosition();
    const forOther = await register(deal('S3', 'P2', 'scoped.com'), KEYS.p1);
    expect(forOther.status).toBe(403);
    expect(forOther.body.type).toBe('forbidden');
    expect((await getDeal('S1', own.body.position as string, KEYS.p1)).status).toBe(200);
    const hidden = await getDeal('S2', undefined, KEYS.p1);
    expect(hidden.status).toBe(404);
    expect(hidden.text).not.toContain('scoped-other');
    const list = await t.request<{ items: Body[] }>('GET', `/v1/deals?limit=1000&minPosition=${head}`, { key: KEYS.p1 });
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBeGreaterThan(0);
    expect(list.body.items.every((d) => d.partnerId === 'P1')).toBe(true);
    expect((await t.request('GET', '/v1/deals?partnerId=P1', { key: KEYS.p1 })).status).toBe(200);
    expect((await t.request('GET', '/v1/deals?partnerId=P2', { key: KEYS.p1 })).status).toBe(403);
    for (const [verb, body] of [['approve', {}], ['reject', { reason: 'x' }], ['extend', { days: 1 }], ['lost', { reason: 'x' }], ['won', { amount: { amountMinor: 1, currency: 'USD' }, closedAt: '2026-05-01' }]] as const) {
      expect((await action('S1', verb, body, KEYS.p1)).status).toBe(403);
    }
    expect((await t.request('POST', '/v1/deal-expirations', { body: { asOf: '2026-05-01' }, key: KEYS.p1 })).status).toBe(403);
    expect((await t.request('GET', '/v1/registration-conflicts', { key: KEYS.p1 })).status).toBe(403);
    expect(await t.store.headPosition()).toBe(head);
  });

  it('refuses registrations of partners that are not active, appending nothing', async () => {
    const head = await t.store.headPosition();
    for (const partnerId of ['PENDING', 'SUSPENDED', 'TERMINATED', 'UNKNOWN']) {
      const r = await register(deal(`N-${partnerId}`, partnerId, 'inactive.com'));
      expect(r.status).toBe(422);
      expect(r.body.type).toBe('partner-not-active');
    }
    expect(await t.store.headPosition()).toBe(head);
  });

  it('enforces roles: channel ops decide, auditors read, finance and subscribers do not see deals', async () => {
    const head = await t.store.headPosition();
    expect((await t.request('GET', '/v1/deals', { key: KEYS.auditor })).status).toBe(200);
    expect((await t.request('GET', '/v1/deals/W1', { key: KEYS.auditor })).status).toBe(200);
    expect((await t.request('GET', '/v1/registration-conflicts', { key: KEYS.auditor })).status).toBe(200);
    for (const key of [KEYS.finance, KEYS.subscriber]) {
      expect((await t.request('GET', '/v1/deals', { key })).status).toBe(403);
      expect((await t.request('GET', '/v1/deals/W1', { key })).status).toBe(403);
      expect((await t.request('GET', '/v1/registration-conflicts', { key })).status).toBe(403);
    }
    for (const key of [KEYS.finance, KEYS.auditor, KEYS.subscriber]) {
      expect((await register(deal('ROLE-1', 'P1', 'roles.com'), key)).status).toBe(403);
      expect((await action('S1', 'approve', {}, key)).status).toBe(403);
      expect((await t.request('POST', '/v1/deal-expirations', { body: { asOf: '2026-05-01' }, key })).status).toBe(403);
    }
    expect((await t.request('GET', '/v1/deals', { key: null })).status).toBe(401);
    expect(await t.store.headPosition()).toBe(head);
  });

  it('validates input with problem details naming the field, and appends nothing', async () => {
    const head = await t.store.headPosition();
    const cases: [Body, string][] = [
      [deal('bad id!', 'P1', 'valid.com'), 'dealId'],
      [deal('V1', 'P1', 'valid.com', []), 'products'],
      [deal('V1', 'P1', 'valid.com', Array.from({ length: 51 }, (_, i) => `SKU-${i}`)), 'products'],
      [deal('V1', 'P1', 'valid.com', ['CRM', 'CRM']), 'products'],
      [deal('V1', 'P1', 'valid.com', ['not a code']), 'products'],
      [deal('V1', 'P1', 'valid.com', ['CRM'], { estimatedValue: { amountMinor: 10.5, currency: 'USD' } }), 'estimatedValue'],
      [deal('V1', 'P1', 'valid.com', ['CRM'], { estimatedValue: { amountMinor: '100', currency: 'USD' } }), 'estimatedValue'],
      [deal('V1', 'P1', 'valid.com', ['CRM'], { estimatedValue: { amountMinor: 100, currency: 'usd' } }), 'estimatedValue'],
      [deal('V1', 'P1', 'valid.com', ['CRM'], { expectedCloseDate: '2026-02-30' }), 'expectedCloseDate'],
      [deal('V1', 'P1', 'valid.com', ['CRM'], { extra: true }), 'extra'],
      [{ ...deal('V1', 'P1', 'valid.com'), customer: { name: 'x', domain: 'valid.com', country: 'Germany' } }, 'customer.country'],
      [{ ...deal('V1', 'P1', 'valid.com'), customer: undefined }, 'customer'],
      [deal('V1', 'P1', '127.0.0.1'), 'customer.domain'],
      [deal('V1', 'P1', 'co.uk'), 'customer.domain'],
    ];
    for (const [body, path] of cases) {
      const r = await register(body);
      expect(r.status).toBe(400);
      expect(r.body.type).toBe('validation-failed');
      expect((r.body.errors as { path: string }[]).map((e) => e.path)).toContain(path);
    }
    for (const days of [0, 3661, 1.5, '10']) expect((await action('S1', 'extend', { days })).status).toBe(400);
    expect((await action('S1', 'won', { amount: { amountMinor: 1, currency: 'USD' }, closedAt: 'yesterday' })).status).toBe(400);
    expect((await action('S1', 'reject', {})).status).toBe(400);
    expect((await action('S1', 'approve', { extra: 1 })).status).toBe(400);
    expect((await action('bad id!', 'approve')).status).toBe(400);
    expect((await t.request('POST', '/v1/deal-expirations', { body: { asOf: '2026-13-01' } })).status).toBe(400);
    expect((await t.request('GET', '/v1/deals?customer=localhost')).status).toBe(400);
    expect((await t.request('GET', '/v1/deals?status=open')).status).toBe(400);
    expect((await t.request('GET', '/v1/deals?limit=5000')).status).toBe(400);
    expect((await t.request('GET', '/v1/registration-conflicts?status=closed')).status).toBe(400);
    expect(await t.store.headPosition()).toBe(head);
  });

  it('answers a retried registration with the same Idempotency-Key with the first response, appending nothing', async () => {
    const headers = { 'idempotency-key': 'register-I1' };
    const first = await register(deal('I1', 'P1', 'idempotent.com'), KEYS.ops, headers);
    expect(first.status).toBe(201);
    const head = await t.store.headPosition();
    const second = await register(deal('I1', 'P1', 'idempotent.com'), KEYS.ops, headers);
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(await t.store.headPosition()).toBe(head);
    const reused = await register(deal('I1', 'P1', 'idempotent.com', ['OTHER']), KEYS.ops, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.type).toBe('idempotency-key-reused');
    const withoutKey = await register(deal('I1', 'P1', 'idempotent.com'));
    expect(withoutKey.status).toBe(409);
    expect(await t.store.headPosition()).toBe(head);
  });

  it('lists with filters and a cursor, answering Ledger-Position', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/deals?partnerId=P1&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await t.request<{ items: Body[]; nextCursor: string | null }>('GET', q);
      expect(r.status).toBe(200);
      expect(r.headers.get('ledger-position')).toMatch(/^\d+$/);
      seen.push(...r.body.items.map((d) => d.dealId as string));
      cursor = r.body.nextCursor;
    } while (cursor);
    const all = await t.request<{ items: Body[] }>('GET', '/v1/deals?partnerId=P1&limit=1000');
    expect(seen).toEqual(all.body.items.map((d) => d.dealId));
    const expired = await t.request<{ items: Body[] }>('GET', '/v1/deals?status=expired');
    expect(expired.body.items.map((d) => d.dealId)).toContain('X1');
    expect(expired.body.items.every((d) => d.status === 'expired')).toBe(true);
  });
});

describe('deal registration under a defined program', () => {
  it('uses the protection and extension policy in force and names its version', async () => {
    const clock = new TestClock(Date.parse('2026-03-01T00:00:00Z'));
    const t = await startApp({ clock });
    try {
      const program = await t.request('GET', '/v1/tier-program');
      const put = await t.request('PUT', '/v1/tier-program', { body: { ...(program.body as Body), protectionDays: 30, maxExtensionDays: 10, version: undefined } });
      expect(put.status).toBe(200);
      await t.request('POST', '/v1/partners', { body: { partnerId: 'P1', name: 'P1', type: 'msp', domain: 'p1.example' } });
      await t.request('POST', '/v1/partners/P1/activate');
      await t.request('POST', '/v1/deals', { body: deal('D1', 'P1', 'policy.com') });
      const approved = await t.request('POST', '/v1/deals/D1/approve');
      expect(approved.body).toMatchObject({ protectedUntil: '2026-03-31T00:00:00.000Z', programVersion: put.body.version });
      expect((await t.request('POST', '/v1/deals/D1/extend', { body: { days: 11 } })).status).toBe(422);
      const extended = await t.request('POST', '/v1/deals/D1/extend', { body: { days: 10 } });
      expect(extended.body).toMatchObject({ protectedUntil: '2026-04-10T00:00:00.000Z', programVersion: put.body.version });
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  });
});

function last(r: Response): { revision: string; streamId: string } {
  const events = (r.body as Body).events as { revision: string; streamId: string; type: string }[];
  return events.find((e) => e.type === 'DealRegistered')!;
}
