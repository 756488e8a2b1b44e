import { commandContext } from '#libs/ledger/context.js';
import { CommandPipeline } from '#libs/ledger/pipeline.js';
import { DomainError } from '#libs/kernel/errors.js';
import { fundDecider } from '#libs/mdf/fund.js';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
interface Fund {
  partnerId: string;
  period: string;
  currency: string;
  allocatedMinor: number;
  approvedMinor: number;
  claimedMinor: number;
  paidMinor: number;
  availableMinor: number;
}

const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });
const DEFAULT_TIERS = [
  { name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: false },
  { name: 'Silver', rank: 1, minSourcedRevenueMinor: 10_000_000, minCertifiedSellers: 2, minWonDeals: 0, discountBps: 1500, mdfEligible: true },
];
const program = (registeredEligible: boolean) => ({
  reportingCurrency: 'USD',
  lookbackDays: 365,
  downgradeGraceDays: 90,
  protectionDays: 90,
  maxExtensionDays: 60,
  dealRegistrationDiscountBps: 1000,
  tiers: DEFAULT_TIERS.map((t) => (t.rank === 0 ? { ...t, mdfEligible: registeredEligible } : t)),
});

describe('MDF, end to end', () => {
  let t: TestApp;
  const clock = new TestClock();

  const enrollActive = async (partnerId: string) => {
    expect((await t.request('POST', '/v1/partners', { body: { partnerId, name: `Partner ${partnerId}`, type: 'reseller', domain: `${partnerId.toLowerCase()}.example` } })).status).toBe(201);
    expect((await t.request('POST', `/v1/partners/${partnerId}/activate`)).status).toBe(200);
  };
  const funds = async (query: string, key: string = KEYS.admin) => {
    const head = await t.store.headPosition();
    return t.request<{ items: Fund[]; nextCursor: string | null }>('GET', `/v1/mdf/funds?minPosition=${head}&${query}`, { key });
  };
  const refusesAndAppendsNothing = async (method: string, path: string, body: unknown, status: number, type: string, key: string = KEYS.ops) => {
    const head = await t.store.headPosition();
    const r = await t.request(method, path, { body, key });
    expect({ path, status: r.status, type: r.body.type }).toEqual({ path, status, type });
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await t.store.headPosition()).toBe(head);
    return r;
  };

  beforeAll(async () => {
    t = await startApp({ clock });
    for (const id of ['P1', 'P2', 'M1', 'M2', 'C1']) await enrollActive(id);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('allocates only to an active partner whose tier is MDF eligible under the program in force', async () => {
    await t.request('POST', '/v1/partners', { body: { partnerId: 'PEND', name: 'Pending', type: 'msp', domain: 'pending.example' } });
    // The default program: Registered (where partners start) is not MDF eligible.
    await refusesAndAppendsNothing('POST', '/v1/mdf/allocations', { partnerId: 'P1', period: '2026-Q1', amount: usd(100) }, 422, 'rule-violation');
    expect((await t.request('PUT', '/v1/tier-program', { body: program(true), key: KEYS.ops })).status).toBe(200);
    await refusesAndAppendsNothing('POST', '/v1/mdf/allocations', { partnerId: 'PEND', period: '2026-Q1', amount: usd(100) }, 422, 'rule-violation');
    await refusesAndAppendsNothing('POST', '/v1/mdf/allocations', { partnerId: 'NOBODY', period: '2026-Q1', amount: usd(100) }, 422, 'rule-violation');
    const r = await t.request('POST', '/v1/mdf/allocations', { body: { partnerId: 'P1', period: '2026-Q1', amount: usd(1_000_00) }, key: KEYS.ops });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ partnerId: 'P1', period: '2026-Q1', amount: usd(1_000_00) });
    // v2: the allocation reserves its amount in the period's budget stream first (the budget's boundary).
    expect(r.body.events).toEqual([
      expect.objectContaining({ type: 'MdfAllocationReserved', streamId: 'mdfbudget-2026-Q1' }),
      expect.objectContaining({ type: 'MdfFundsAllocated', streamId: 'mdf-P1.2026-Q1', revision: '0' }),
    ]);
    const [event] = await t.store.readStream('mdf-P1.2026-Q1');
    expect(event!.data).toMatchObject({ tier: 'Registered', programVersion: 1 });
    // One currency per fund: the first allocation's.
    await refusesAndAppendsNothing('POST', '/v1/mdf/allocations', { partnerId: 'P1', period: '2026-Q1', amount: { amountMinor: 5, currency: 'EUR' } }, 422, 'rule-violation');
  });

  it('walks request → partial approval → claims → claim approval → payment, and the funds read model follows', async () => {
    expect((await t.request('POST', '/v1/mdf/allocations', { body: { partnerId: 'P2', period: '2026-Q2', amount: usd(500_00) } })).status).toBe(201);
    const req = await t.request('POST', '/v1/mdf/requests', { body: { requestId: 'REQ-1', partnerId: 'P2', period: '2026-Q2', activity: 'Webinar series', amount: usd(400_00) }, key: KEYS.p2 });
    expect(req.status).toBe(201);
    expect(req.body).toMatchObject({ requestId: 'REQ-1', partnerId: 'P2', period: '2026-Q2', status: 'requested', amount: usd(400_00) });
    expect((req.body.events as Body[]).map((e) => [e.type, e.streamId])).toEqual([
      ['MdfRequestIdReserved', 'mdfrequest-REQ-1'],
      ['MdfRequested', 'mdf-P2.2026-Q2'],
    ]);
    const approved = await t.request('POST', '/v1/mdf/requests/REQ-1/approve', { body: { amount: usd(300_00) } });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ requestId: 'REQ-1', status: 'approved', amount: usd(300_00) });

    const c1 = await t.request('POST', '/v1/mdf/requests/REQ-1/claims', { body: { claimId: 'CLM-1', amount: usd(200_00), proofOfPerformance: ['https://files.example/attendance.pdf'] }, key: KEYS.p2 });
    expect(c1.status).toBe(201);
    expect(c1.body).toMatchObject({ claimId: 'CLM-1', requestId: 'REQ-1', status: 'submitted' });
    const c2 = await t.request('POST', '/v1/mdf/requests/REQ-1/claims', { body: { claimId: 'CLM-2', amount: usd(100_00), proofOfPerformance: ['doc-7'] } });
    expect(c2.status).toBe(201);
    // claimed ≤ approved per request
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/REQ-1/claims', { claimId: 'CLM-3', amount: usd(1), proofOfPerformance: ['doc'] }, 422, 'rule-violation');
    expect((await t.request('POST', '/v1/mdf/claims/CLM-2/reject', { body: { reason: 'no attendance list' } })).body).toMatchObject({ status: 'rejected' });
    expect((await t.request('POST', '/v1/mdf/claims/CLM-1/approve', { body: { amount: usd(150_00) } })).body).toMatchObject({ status: 'approved', amount: usd(150_00) });
    // paid ≤ claim approved: a submitted (or rejected) claim cannot be paid
    await refusesAndAppendsNothing('POST', '/v1/mdf/claims/CLM-2/pay', { paidAt: '2026-05-01', reference: 'W-1' }, 422, 'rule-violation');
    const paid = await t.request('POST', '/v1/mdf/claims/CLM-1/pay', { body: { paidAt: '2026-05-01', reference: 'WIRE-0001' } });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: 'paid', amount: usd(150_00) });

    const r = await funds('partnerId=P2');
    expect(r.status).toBe(200);
    expect(r.headers.get('ledger-position')).toMatch(/^\d+$/);
    expect(r.body.items).toEqual([
      // CLM-1 approved for 150 of its 200: it holds 150, the other 50 may be claimed again (v2).
      { partnerId: 'P2', period: '2026-Q2', currency: 'USD', allocatedMinor: 500_00, approvedMinor: 300_00, claimedMinor: 150_00, paidMinor: 150_00, releasedMinor: 0, availableMinor: 200_00 },
    ]);
  });

  it('refuses requests and approvals above what is available, or above the request, appending nothing', async () => {
    await t.request('POST', '/v1/mdf/allocations', { body: { partnerId: 'M1', period: '2026-Q3', amount: usd(1000) } });
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests', { requestId: 'R-BIG', partnerId: 'M1', period: '2026-Q3', activity: 'x', amount: usd(1001) }, 422, 'rule-violation');
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests', { requestId: 'R-NOFUND', partnerId: 'M1', period: '2027-Q1', activity: 'x', amount: usd(1) }, 422, 'rule-violation');
    expect((await t.request('POST', '/v1/mdf/requests', { body: { requestId: 'R-A', partnerId: 'M1', period: '2026-Q3', activity: 'x', amount: usd(700) } })).status).toBe(201);
    expect((await t.request('POST', '/v1/mdf/requests', { body: { requestId: 'R-B', partnerId: 'M1', period: '2026-Q3', activity: 'y', amount: usd(700) } })).status).toBe(201);
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/R-A/approve', { amount: usd(701) }, 422, 'rule-violation');
    expect((await t.request('POST', '/v1/mdf/requests/R-A/approve', {})).status).toBe(200);
    const over = await refusesAndAppendsNothing('POST', '/v1/mdf/requests/R-B/approve', {}, 422, 'rule-violation');
    expect(over.body).toMatchObject({ availableMinor: 300 });
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/R-A/approve', {}, 422, 'rule-violation');
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/R-A/reject', { reason: 'too late' }, 422, 'rule-violation');
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/R-UNKNOWN/approve', {}, 404, 'not-found');
    await refusesAndAppendsNothing('POST', '/v1/mdf/claims/C-UNKNOWN/approve', {}, 404, 'not-found');
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/R-UNKNOWN/claims', { claimId: 'C-X', amount: usd(1), proofOfPerformance: ['d'] }, 404, 'not-found');
    // a rejected request cannot be claimed
    expect((await t.request('POST', '/v1/mdf/requests/R-B/reject', { body: { reason: 'budget' } })).status).toBe(200);
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/R-B/claims', { claimId: 'C-B', amount: usd(1), proofOfPerformance: ['d'] }, 422, 'rule-violation');
  });

  it('validates money and inputs at the edge (400), appending nothing', async () => {
    const base = { requestId: 'R-V', partnerId: 'M1', period: '2026-Q3', activity: 'x' };
    for (const amount of [{ amountMinor: 1.5, currency: 'USD' }, { amountMinor: '100', currency: 'USD' }, { amountMinor: -1, currency: 'USD' }, { amountMinor: 2 ** 53, currency: 'USD' }, { amountMinor: 1, currency: 'usd' }, { amountMinor: 1, currency: 'USD', fx: 1 }, 100]) {
      await refusesAndAppendsNothing('POST', '/v1/mdf/requests', { ...base, amount }, 400, 'validation-failed');
    }
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests', { ...base, amount: usd(0) }, 400, 'validation-failed');
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests', { ...base, amount: usd(1), extra: true }, 400, 'validation-failed');
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests', { ...base, period: '2026-Q5', amount: usd(1) }, 400, 'validation-failed');
    await refusesAndAppendsNothing('POST', '/v1/mdf/allocations', { partnerId: 'M1', period: '2026-03', amount: usd(1) }, 400, 'validation-failed');
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/R-A/claims', { claimId: 'C-V', amount: usd(1), proofOfPerformance: [] }, 400, 'validation-failed');
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/R-A/claims', { claimId: 'C-V', amount: usd(1), proofOfPerformance: Array.from({ length: 21 }, (_, i) => `d${i}`) }, 400, 'validation-failed');
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/R-A/claims', { claimId: 'C-V', amount: usd(1), proofOfPerformance: [''] }, 400, 'validation-failed');
    await refusesAndAppendsNothing('POST', '/v1/mdf/claims/X/pay', { paidAt: 'yesterday', reference: 'r' }, 400, 'validation-failed');
    expect((await t.request('GET', '/v1/mdf/funds?period=2026-13')).status).toBe(400);
    expect((await t.request('GET', '/v1/mdf/funds?limit=0')).status).toBe(400);
  });

  it('keeps request and claim ids unique across funds, whatever the concurrency (409)', async () => {
    await t.request('POST', '/v1/mdf/allocations', { body: { partnerId: 'M1', period: '2026-Q4', amount: usd(10_000) } });
    await t.request('POST', '/v1/mdf/allocations', { body: { partnerId: 'M2', period: '2026-Q4', amount: usd(10_000) } });
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests', { requestId: 'R-A', partnerId: 'M2', period: '2026-Q4', activity: 'x', amount: usd(1) }, 409, 'already-exists');
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests', { requestId: 'R-A', partnerId: 'M1', period: '2026-Q3', activity: 'x', amount: usd(1) }, 409, 'already-exists');
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.request('POST', '/v1/mdf/requests', { body: { requestId: 'R-RACE', partnerId: i % 2 ? 'M1' : 'M2', period: '2026-Q4', activity: `attempt ${i}`, amount: usd(10) } }),
      ),
    );
    expect(racing.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of racing.filter((x) => x.status !== 201)) expect([r.status, r.body.type]).toEqual([409, 'already-exists']);
    const winner = racing.find((r) => r.status === 201)!.body.partnerId as string;
    const requested = async (partnerId: string) => (await t.store.readStream(`mdf-${partnerId}.2026-Q4`)).filter((e) => e.type === 'MdfRequested' && (e.data as Body).requestId === 'R-RACE');
    expect(await requested(winner)).toHaveLength(1);
    expect(await requested(winner === 'M1' ? 'M2' : 'M1')).toHaveLength(0);
    // the directory routes the id to the winner's fund
    expect((await t.request('POST', '/v1/mdf/requests/R-RACE/approve', {})).body).toMatchObject({ partnerId: winner, status: 'approved' });
    // claim ids too
    expect((await t.request('POST', '/v1/mdf/requests/R-RACE/claims', { body: { claimId: 'CLM-1', amount: usd(1), proofOfPerformance: ['d'] } })).status).toBe(409);
  });

  it('holds approved ≤ allocated under many concurrent approvals, and the read model agrees with the successful ones', async () => {
    const allocated = 1_000_00;
    expect((await t.request('POST', '/v1/mdf/allocations', { body: { partnerId: 'C1', period: '2026-Q1', amount: usd(allocated) } })).status).toBe(201);
    const amounts = Array.from({ length: 40 }, (_, i) => 50_00 + ((i * 7919) % 40) * 100);
    const created = await Promise.all(
      amounts.map((a, i) => t.request('POST', '/v1/mdf/requests', { body: { requestId: `CC-${i}`, partnerId: 'C1', period: '2026-Q1', activity: `campaign ${i}`, amount: usd(a) } })),
    );
    expect(created.map((r) => r.status)).toEqual(amounts.map(() => 201));

    const head = await t.store.headPosition();
    const approvals = await Promise.all(
      amounts.map((_, i) => t.request('POST', `/v1/mdf/requests/CC-${i}/approve`, { body: i % 3 === 0 ? { amount: usd(25_00) } : {}, key: KEYS.ops })),
    );
    for (const r of approvals) {
      // 422: no longer available when decided; 409: the fund kept changing through every retry. Never anything else.
      expect([200, 422, 409]).toContain(r.status);
    }
    const ok = approvals.filter((r) => r.status === 200);
    const approvedSum = ok.reduce((s, r) => s + (r.body.amount as { amountMinor: number }).amountMinor, 0);
    expect(ok.length).toBeGreaterThan(0);
    expect(approvedSum).toBeLessThanOrEqual(allocated);
    // Every refusal for lack of funds was right when it was decided: what was left could not cover it.
    expect(approvals.filter((r) => r.status === 422).every((r) => typeof r.body.availableMinor === 'number')).toBe(true);

    const stream = await t.store.readStream('mdf-C1.2026-Q1');
    const approvedEvents = stream.filter((e) => e.type === 'MdfApproved');
    expect(approvedEvents).toHaveLength(ok.length);
    // At every position of the fund stream, approved ≤ allocated.
    let runningAllocated = 0;
    let runningApproved = 0;
    for (const e of stream) {
      const amount = (e.data as { amount: { amountMinor: number } }).amount.amountMinor;
      if (e.type === 'MdfFundsAllocated') runningAllocated += amount;
      if (e.type === 'MdfApproved') runningApproved += amount;
      expect(runningApproved).toBeLessThanOrEqual(runningAllocated);
    }
    expect(runningApproved).toBe(approvedSum);

    const r = await funds('partnerId=C1&period=2026-Q1');
    expect(BigInt(r.headers.get('ledger-position')!)).toBeGreaterThanOrEqual(head);
    expect(r.body.items).toEqual([
      { partnerId: 'C1', period: '2026-Q1', currency: 'USD', allocatedMinor: allocated, approvedMinor: approvedSum, claimedMinor: 0, paidMinor: 0, releasedMinor: 0, availableMinor: allocated - approvedSum },
    ]);
  });

  it('holds the invariant on the revision alone, as between processes (no in-process queue)', async () => {
    // One pipeline per command, as if each ran in its own process: only the expected revision keeps them apart.
    await t.request('POST', '/v1/mdf/allocations', { body: { partnerId: 'C1', period: '2026-Q3', amount: usd(1_000) } });
    const ids = Array.from({ length: 30 }, (_, i) => `RV-${i}`);
    for (const id of ids) {
      expect((await t.request('POST', '/v1/mdf/requests', { body: { requestId: id, partnerId: 'C1', period: '2026-Q3', activity: 'x', amount: usd(100) } })).status).toBe(201);
    }
    const results = await Promise.allSettled(
      ids.map((requestId) =>
        new CommandPipeline(t.store, { now: () => new Date() }).handle(
          commandContext({ id: 'ops', role: 'channel-ops' }, { method: 'POST', path: `/v1/mdf/requests/${requestId}/approve`, body: {} }),
          'mdf-C1.2026-Q3',
          fundDecider,
          { type: 'ApproveRequest', data: { requestId } },
        ),
      ),
    );
    const approved = results.filter((r) => r.status === 'fulfilled' && r.value.events.length === 1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason instanceof DomainError || (r.reason as { type?: string }).type === 'concurrency-conflict').toBe(true);
    expect(approved.length).toBeLessThanOrEqual(10);
    const stream = await t.store.readStream('mdf-C1.2026-Q3');
    expect(stream.filter((e) => e.type === 'MdfApproved')).toHaveLength(approved.length);
    expect((await funds('partnerId=C1&period=2026-Q3')).body.items[0]).toMatchObject({ allocatedMinor: 1_000, approvedMinor: approved.length * 100, availableMinor: 1_000 - approved.length * 100 });
  });

  it('holds claimed ≤ approved under concurrent claims on one request', async () => {
    await t.request('POST', '/v1/mdf/allocations', { body: { partnerId: 'C1', period: '2026-Q2', amount: usd(10_000) } });
    await t.request('POST', '/v1/mdf/requests', { body: { requestId: 'CL-R', partnerId: 'C1', period: '2026-Q2', activity: 'x', amount: usd(5_000) } });
    await t.request('POST', '/v1/mdf/requests/CL-R/approve', {});
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.request('POST', '/v1/mdf/requests/CL-R/claims', { body: { claimId: `CL-${i}`, amount: usd(400), proofOfPerformance: [`doc-${i}`] } })),
    );
    const ok = claims.filter((r) => r.status === 201);
    expect(ok.length).toBeLessThanOrEqual(12);
    for (const r of claims) expect([201, 422, 409]).toContain(r.status);
    expect((await funds('partnerId=C1&period=2026-Q2')).body.items[0]).toMatchObject({ approvedMinor: 5_000, claimedMinor: ok.length * 400 });
  });

  it('scopes partner keys to their own partner', async () => {
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests', { requestId: 'R-P1', partnerId: 'P2', period: '2026-Q2', activity: 'x', amount: usd(1) }, 403, 'forbidden', KEYS.p1);
    // P2's request: P1 may not claim on it, and is told exactly what it is told of a request id nobody used
    // (issue #17: a 403 here against a 404 for an unknown id told a partner key which ids exist).
    const claim = { claimId: 'C-P1', amount: usd(1), proofOfPerformance: ['d'] };
    const others = await refusesAndAppendsNothing('POST', '/v1/mdf/requests/REQ-1/claims', claim, 404, 'not-found', KEYS.p1);
    const unknown = await refusesAndAppendsNothing('POST', '/v1/mdf/requests/REQ-NOPE/claims', claim, 404, 'not-found', KEYS.p1);
    expect(others.body.detail).toBe(String(unknown.body.detail).replace('REQ-NOPE', 'REQ-1'));
    const read = await t.request('GET', '/v1/mdf/requests/REQ-1', { key: KEYS.p1 });
    const readUnknown = await t.request('GET', '/v1/mdf/requests/REQ-NOPE', { key: KEYS.p1 });
    expect([read.status, readUnknown.status]).toEqual([404, 404]);
    expect(read.body.detail).toBe(String(readUnknown.body.detail).replace('REQ-NOPE', 'REQ-1'));
    // partners neither allocate nor decide
    await refusesAndAppendsNothing('POST', '/v1/mdf/allocations', { partnerId: 'P1', period: '2026-Q1', amount: usd(1) }, 403, 'forbidden', KEYS.p1);
    await refusesAndAppendsNothing('POST', '/v1/mdf/requests/REQ-1/approve', {}, 403, 'forbidden', KEYS.p2);
    const own = await funds('', KEYS.p1);
    expect(own.status).toBe(200);
    expect(own.body.items.map((f) => f.partnerId)).toEqual(['P1']);
    expect((await t.request('GET', '/v1/mdf/funds?partnerId=P2', { key: KEYS.p1 })).status).toBe(403);
    expect((await t.request('GET', '/v1/mdf/funds?partnerId=P1', { key: KEYS.p1 })).status).toBe(200);
  });

  it('gives finance and auditors the funds to read but no MDF command', async () => {
    for (const key of [KEYS.finance, KEYS.auditor]) {
      expect((await t.request('GET', '/v1/mdf/funds', { key })).status).toBe(200);
      await refusesAndAppendsNothing('POST', '/v1/mdf/allocations', { partnerId: 'P1', period: '2026-Q1', amount: usd(1) }, 403, 'forbidden', key);
    }
    expect((await t.request('GET', '/v1/mdf/funds', { key: KEYS.subscriber })).status).toBe(403);
    expect((await t.request('GET', '/v1/mdf/funds', { key: null })).status).toBe(401);
  });

  it('pages the funds with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: Awaited<ReturnType<typeof funds>> = await funds(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...r.body.items.map((f) => `${f.partnerId} ${f.period}`));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual((await funds('limit=1000')).body.items.map((f) => `${f.partnerId} ${f.period}`));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('answers a retried command with the same Idempotency-Key with the first response, appending nothing', async () => {
    const headers = { 'idempotency-key': 'mdf-request-R-IDEM' };
    const body = { requestId: 'R-IDEM', partnerId: 'M2', period: '2026-Q4', activity: 'retry me', amount: usd(5) };
    const first = await t.request('POST', '/v1/mdf/requests', { body, headers });
    expect(first.status).toBe(201);
    const head = await t.store.headPosition();
    const second = await t.request('POST', '/v1/mdf/requests', { body, headers });
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(await t.store.headPosition()).toBe(head);
    const other = await t.request('POST', '/v1/mdf/requests', { body: { ...body, amount: usd(6) }, headers });
    expect(other.body.type).toBe('idempotency-key-reused');
    const a1 = await t.request('POST', '/v1/mdf/requests/R-IDEM/approve', { body: {}, headers: { 'idempotency-key': 'approve-R-IDEM' } });
    const a2 = await t.request('POST', '/v1/mdf/requests/R-IDEM/approve', { body: {}, headers: { 'idempotency-key': 'approve-R-IDEM' } });
    expect(a1.status).toBe(200);
    expect(a2.text).toBe(a1.text);
  });

  it('describes every MDF route in the OpenAPI document', async () => {
    const doc = await t.request<{ paths: Record<string, unknown> }>('GET', '/docs-json', { key: null });
    for (const path of ['/v1/mdf/allocations', '/v1/mdf/requests', '/v1/mdf/requests/{id}/approve', '/v1/mdf/requests/{id}/reject', '/v1/mdf/requests/{id}/claims', '/v1/mdf/claims/{id}/approve', '/v1/mdf/claims/{id}/reject', '/v1/mdf/claims/{id}/pay', '/v1/mdf/funds']) {
      expect(Object.keys(doc.body.paths)).toContain(path);
    }
  });
});
