import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
interface Line {
  partnerId: string;
  amountMinor: number;
  accruals: { attributionId: string; creditType: string }[];
  status: string;
}
interface Run {
  payoutId: string;
  status: string;
  lines: Line[];
  carriedForward: { partnerId: string; amountMinor: number; reason: string }[];
}
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

/**
 * Commissions and payouts (DOMAIN.md, "Commissions and payouts (v2)"), end to end: accruals and clawbacks in the
 * attribution's own append, hold periods, balances, payout runs with the minimum and carry-forward, a clawback
 * after payment netted by the next run, a concurrent double run refused, a line paid twice refused, and partner
 * keys reading only their own.
 */
describe('commissions and payouts (v2), end to end', () => {
  let t: TestApp;
  let winnerId = '';
  const clock = new TestClock(Date.parse('2026-06-01T09:00:00Z'));
  async function must(method: string, path: string, body?: unknown, key: string = KEYS.finance): Promise<Body> {
    const r = await t.request(method, path, { body, key });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  }
  const attribute = (attributionId: string, amountMinor: number, recognizedAt: string, partnerId: string) =>
    must('POST', '/v1/revenue-attributions', { attributionId, amount: usd(amountMinor), recognizedAt, credits: [{ partnerId, type: 'sourced', shareBps: 10_000 }] });
  const balance = async (partnerId: string, asOf: string) => {
    const r = await t.request<{ items: Body[] }>('GET', `/v1/commissions/balances?partnerId=${partnerId}&asOf=${asOf}&minPosition=${await t.store.headPosition()}`, { key: KEYS.finance });
    expect(r.status).toBe(200);
    return r.body.items[0];
  };
  const run = async (payoutId: string) => (await t.request<Run>('GET', `/v1/payouts/${payoutId}`, { key: KEYS.finance })).body;

  beforeAll(async () => {
    t = await startApp({ clock });
    for (const [id, type] of [['P1', 'reseller'], ['P2', 'msp'], ['P3', 'referral']] as const) {
      await must('POST', '/v1/partners', { partnerId: id, name: id, type, domain: `${id.toLowerCase()}-payouts.example` }, KEYS.admin);
      await must('POST', `/v1/partners/${id}/activate`, {}, KEYS.admin);
    }
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('accrues nothing while no plan is defined', async () => {
    const r = await attribute('RA0', 1_000_000, '2026-02-01', 'P3');
    expect((r.events as { type: string }[]).map((e) => e.type)).toEqual(['RevenueAttributed']);
  });

  it('accrues in the same append as the attribution, held until recognizedAt + holdDays', async () => {
    await must('PUT', '/v1/commission-plan', { holdDays: 30, minimumPayoutMinor: 5000, rules: [{ creditType: 'sourced', rateBps: 1000 }] });
    const r = await attribute('RA1', 1_000_000, '2026-03-01', 'P1');
    const events = r.events as { type: string; streamId: string; position: string }[];
    expect(events.map((e) => [e.type, e.streamId])).toEqual([
      ['RevenueAttributed', 'attribution-RA1'],
      ['CommissionAccrued', 'attribution-RA1'],
    ]);
    expect(BigInt(events[1]!.position)).toBe(BigInt(events[0]!.position) + 1n);
    const list = await t.request<{ items: Body[] }>('GET', `/v1/commissions?partnerId=P1&minPosition=${r.position as string}`, { key: KEYS.finance });
    expect(list.body.items).toEqual([
      expect.objectContaining({ partnerId: 'P1', attributionId: 'RA1', kind: 'accrued', amountMinor: 100_000, currency: 'USD', payableFrom: '2026-03-31T00:00:00.000Z', planVersion: 1, rateBps: 1000, baseMinor: 1_000_000 }),
    ]);
    expect(await balance('P1', '2026-03-15')).toMatchObject({ accruedMinor: 100_000, heldMinor: 100_000, payableMinor: 0, balanceMinor: 100_000 });
    expect(await balance('P1', '2026-03-31')).toMatchObject({ heldMinor: 0, payableMinor: 100_000 });
  });

  it('claws back in the same append as a reversal before payment', async () => {
    const r = await must('POST', '/v1/revenue-attributions/RA1/reverse', { amountMinor: 200_000, reason: 'partial refund', reversedAt: '2026-03-10' });
    expect((r.events as { type: string }[]).map((e) => e.type)).toEqual(['RevenueAttributionReversed', 'CommissionClawedBack']);
    expect(await balance('P1', '2026-04-01')).toMatchObject({ accruedMinor: 100_000, clawedBackMinor: 20_000, payableMinor: 80_000, paidMinor: 0, balanceMinor: 80_000 });
    // `from`/`to` (API.md) bound each line's business time: the accrual at recognizedAt, the clawback at reversedAt.
    const kinds = async (query: string) =>
      (await t.request<{ items: { kind: string }[] }>('GET', `/v1/commissions?partnerId=P1&${query}`, { key: KEYS.finance })).body.items.map((i) => i.kind);
    expect(await kinds('from=2026-03-05')).toEqual(['clawed-back']);
    expect(await kinds('to=2026-03-05')).toEqual(['accrued']);
    expect(await kinds('from=2026-03-01&to=2026-03-10')).toEqual(['accrued', 'clawed-back']);
  });

  it('refuses a concurrent double run (64 in flight): exactly one live run holds each accrual; below the minimum carries forward', async () => {
    await attribute('RA2', 30_000, '2026-03-01', 'P2'); // accrues 3,000: below the minimum of 5,000
    const head = await t.store.headPosition();
    const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => t.request('POST', '/v1/payouts', { body: { payoutId: `PO-C${i}`, asOf: '2026-04-01' }, key: KEYS.finance })));
    const created = answers.filter((a) => a.status === 201);
    expect(created).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 201)) expect([a.status, a.body.type]).toEqual([409, 'payout-run-pending']);
    expect((await t.store.headPosition()) - head).toBe(1n);
    const winner = (created[0]!.body.run as Run);
    expect(winner).toMatchObject({
      status: 'created',
      lines: [{ partnerId: 'P1', amountMinor: 80_000, currency: 'USD', accruals: [{ attributionId: 'RA1', creditType: 'sourced' }], status: 'unpaid' }],
      carriedForward: [{ partnerId: 'P2', amountMinor: 3000, currency: 'USD', reason: 'below-minimum' }],
    });
    const live = (await t.request<{ items: Run[] }>('GET', '/v1/payouts', { key: KEYS.finance })).body.items.filter((x) => x.status !== 'cancelled');
    expect(live.map((x) => x.payoutId)).toEqual([winner.payoutId]);
    // Approved, the first run no longer blocks; the next one pays nothing twice.
    await must('POST', `/v1/payouts/${winner.payoutId}/approve`, {});
    const again = await must('POST', '/v1/payouts', { payoutId: 'PO-AGAIN', asOf: '2026-04-01' });
    expect(again.run).toMatchObject({ lines: [], carriedForward: [{ partnerId: 'P2', amountMinor: 3000 }] });
    const cancelled = await must('POST', '/v1/payouts/PO-AGAIN/cancel', { reason: 'nothing to pay' });
    expect(cancelled.run).toMatchObject({ status: 'cancelled', cancelReason: 'nothing to pay' });
    expect(((await must('POST', '/v1/payouts/PO-AGAIN/cancel', { reason: 'again' })).events as unknown[]).length).toBe(0);
    expect((await t.request('GET', '/v1/payouts?status=approved', { key: KEYS.auditor })).body).toMatchObject({ items: [{ payoutId: winner.payoutId }] });
    winnerId = winner.payoutId;
  });

  it('pays a line once (twice → 409), and a run once approved cannot be cancelled', async () => {
    const id = winnerId;
    const paid = await must('POST', `/v1/payouts/${id}/lines/P1/paid`, { paidAt: '2026-04-05', reference: 'WIRE-1' });
    expect(paid.run).toMatchObject({ status: 'paid', lines: [{ partnerId: 'P1', status: 'paid', paidAt: '2026-04-05T00:00:00.000Z', reference: 'WIRE-1' }] });
    const head = await t.store.headPosition();
    const twice = await t.request('POST', `/v1/payouts/${id}/lines/P1/paid`, { body: { paidAt: '2026-04-06', reference: 'WIRE-2' }, key: KEYS.finance });
    expect([twice.status, twice.body.type]).toEqual([409, 'already-paid']);
    const cancel = await t.request('POST', `/v1/payouts/${id}/cancel`, { body: { reason: 'too late' }, key: KEYS.finance });
    expect(cancel.status).toBe(422);
    expect(await t.store.headPosition()).toBe(head);
    expect(await balance('P1', '2026-04-05')).toMatchObject({ paidMinor: 80_000, payableMinor: 0, balanceMinor: 0 });
    const csv = await t.request('GET', `/v1/payouts/${id}`, { key: KEYS.finance, headers: { accept: 'text/csv' } });
    expect([csv.status, csv.headers.get('content-type')]).toEqual([200, 'text/csv; charset=utf-8']);
    expect(csv.text.split('\r\n')).toEqual([
      'payoutId,asOf,runStatus,partnerId,kind,amountMinor,currency,status,paidAt,reference',
      `${id},2026-04-01T00:00:00.000Z,paid,P1,line,80000,USD,paid,2026-04-05T00:00:00.000Z,WIRE-1`,
      `${id},2026-04-01T00:00:00.000Z,paid,P2,carried-forward,3000,USD,below-minimum,,`,
      '',
    ]);
  });

  it('a clawback after payment makes the balance negative and the next run nets it', async () => {
    await must('POST', '/v1/revenue-attributions/RA1/reverse', { reason: 'refund', reversedAt: '2026-04-10' });
    expect(await balance('P1', '2026-04-10')).toMatchObject({ accruedMinor: 100_000, clawedBackMinor: 100_000, paidMinor: 80_000, payableMinor: -80_000, balanceMinor: -80_000 });
    await attribute('RA3', 1_500_000, '2026-04-15', 'P1'); // 150,000 payable from 2026-05-15
    await attribute('RA4', 40_000, '2026-04-15', 'P2'); // 4,000: with RA2's 3,000 above the minimum
    const r = await must('POST', '/v1/payouts', { payoutId: 'PO-2', asOf: '2026-05-20' });
    expect(r.run).toMatchObject({
      lines: [
        { partnerId: 'P1', amountMinor: 70_000, accruals: [{ attributionId: 'RA3', creditType: 'sourced' }] },
        { partnerId: 'P2', amountMinor: 7000, accruals: [{ attributionId: 'RA2' }, { attributionId: 'RA4' }] },
      ],
      carriedForward: [],
    });
  });

  it('partner keys read only their own commissions, balances and payout lines', async () => {
    const mine = await t.request<{ items: { partnerId: string }[] }>('GET', '/v1/commissions', { key: KEYS.p1 });
    expect(mine.status).toBe(200);
    expect(mine.body.items.length).toBeGreaterThan(0);
    expect(mine.body.items.every((i) => i.partnerId === 'P1')).toBe(true);
    const balances = await t.request<{ items: { partnerId: string }[] }>('GET', '/v1/commissions/balances', { key: KEYS.p2 });
    expect(balances.body.items.map((i) => i.partnerId)).toEqual(['P2']);
    const p1Runs = await t.request<{ items: Run[] }>('GET', '/v1/payouts?partnerId=P1', { key: KEYS.finance });
    expect(p1Runs.body.items.map((r) => [r.payoutId, r.lines.map((l) => l.partnerId)])).toEqual([[winnerId, ['P1']], ['PO-2', ['P1']]]);
    const first = await t.request<{ items: Run[]; nextCursor: string | null }>('GET', '/v1/payouts?partnerId=P1&limit=1', { key: KEYS.finance });
    expect(first.body.items.map((r) => r.payoutId)).toEqual([winnerId]);
    const second = await t.request<{ items: Run[]; nextCursor: string | null }>('GET', `/v1/payouts?partnerId=P1&limit=1&cursor=${first.body.nextCursor!}`, { key: KEYS.finance });
    expect([second.body.items.map((r) => r.payoutId), second.body.nextCursor]).toEqual([['PO-2'], null]);
    const commissions = await t.request<{ items: Body[]; nextCursor: string | null }>('GET', '/v1/commissions?partnerId=P1&limit=2', { key: KEYS.finance });
    expect(commissions.body.items).toHaveLength(2);
    expect(commissions.body.nextCursor).not.toBeNull();
    for (const path of ['/v1/commissions?partnerId=P2', '/v1/commissions/balances?partnerId=P2', '/v1/payouts?partnerId=P2']) expect((await t.request('GET', path, { key: KEYS.p1 })).status).toBe(403);
    const runs = await t.request<{ items: Run[] }>('GET', '/v1/payouts', { key: KEYS.p2 });
    expect(runs.body.items.length).toBeGreaterThan(0);
    for (const r of runs.body.items) {
      expect(r.lines.every((l) => l.partnerId === 'P2')).toBe(true);
      expect(r.carriedForward.every((l) => l.partnerId === 'P2')).toBe(true);
    }
    expect((await t.request<Run>('GET', '/v1/payouts/PO-2', { key: KEYS.p1 })).body.lines.map((l) => l.partnerId)).toEqual(['P1']);
    // P1 has no line nor carry-forward in the cancelled run: it answers as unknown.
    expect((await t.request('GET', '/v1/payouts/PO-AGAIN', { key: KEYS.p1 })).status).toBe(404);
    expect((await t.request('POST', '/v1/payouts', { body: { payoutId: 'PO-P', asOf: '2026-05-20' }, key: KEYS.p1 })).status).toBe(403);
    expect((await run('PO-2')).lines).toHaveLength(2);
  });

  it('bad input is a 400 problem, a refused command appends nothing', async () => {
    const head = await t.store.headPosition();
    const cases: [string, string, unknown, number][] = [
      ['POST', '/v1/payouts', { payoutId: 'bad id', asOf: '2026-05-20' }, 400],
      ['POST', '/v1/payouts', { payoutId: 'PO-X', asOf: '2026-02-30' }, 400],
      ['POST', '/v1/payouts', { payoutId: 'PO-X' }, 400],
      ['POST', '/v1/payouts', { payoutId: 'PO-X', asOf: '2026-05-20', extra: 1 }, 400],
      ['POST', '/v1/payouts', { payoutId: 'PO-2', asOf: '2026-05-20' }, 409],
      ['POST', '/v1/payouts/PO-2/lines/P1/paid', { paidAt: '2026-05-21', reference: 'W' }, 422],
      ['POST', '/v1/payouts/PO-2/lines/P1/paid', { paidAt: '2026-05-21' }, 400],
      ['POST', '/v1/payouts/PO-2/lines/P1/paid', { paidAt: 'yesterday', reference: 'W' }, 400],
      ['POST', '/v1/payouts/PO-2/lines/bad%20id/paid', { paidAt: '2026-05-21', reference: 'W' }, 400],
      ['POST', '/v1/payouts/PO-NONE/approve', {}, 404],
      ['POST', '/v1/payouts/PO-2/cancel', {}, 400],
      ['GET', '/v1/payouts?status=open', undefined, 400],
      ['GET', '/v1/commissions?from=2026-13-01', undefined, 400],
      ['GET', '/v1/commissions/balances?asOf=soon', undefined, 400],
      ['GET', '/v1/payouts/PO-NONE', undefined, 404],
      ['GET', '/v1/payouts?cursor=nope', undefined, 400],
      ['GET', '/v1/commissions?cursor=nope', undefined, 400],
      ['GET', '/v1/commissions?limit=0', undefined, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await t.request(method, path, { body, key: KEYS.finance });
      expect({ method, path, status: r.status, problem: r.headers.get('content-type')?.startsWith('application/problem+json') }).toEqual({ method, path, status, problem: true });
    }
    // A run may not look ahead of now: it would pay accruals still held.
    const ahead = await t.request('POST', '/v1/payouts', { body: { payoutId: 'PO-F', asOf: '2026-12-31' }, key: KEYS.finance });
    expect(ahead.status).toBe(422);
    expect(await t.store.headPosition()).toBe(head);
  });
});
