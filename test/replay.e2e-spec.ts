import { DEFAULT_PROGRAM } from '#libs/program/program.js';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
const { version: _v, ...defaults } = DEFAULT_PROGRAM;
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

/** The money and tier read models, replayed as of past record times, answer what the live endpoints answered then. */
describe('as-of replay of attribution, MDF funds and tier standings', () => {
  let t: TestApp;
  const clock = new TestClock(Date.parse('2026-03-02T09:00:00Z'));
  async function must(method: string, path: string, body?: unknown): Promise<Body> {
    const r = await t.request(method, path, { body });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  }
  beforeAll(async () => {
    t = await startApp({ clock });
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  const queries: [live: string, replay: string][] = [
    ['/v1/attribution?groupBy=quarter', 'projection=attribution&groupBy=quarter'],
    ['/v1/attribution?partnerId=P1&from=2026-01-01&to=2026-12-31', 'projection=attribution&partnerId=P1&from=2026-01-01&to=2026-12-31'],
    ['/v1/mdf/funds', 'projection=mdf-funds'],
    ['/v1/mdf/funds?partnerId=P1&period=2026-Q1', 'projection=mdf-funds&partnerId=P1&period=2026-Q1'],
    // A standing answers what was known at its asOf (tier program v2): a business date after these record times.
    ['/v1/tier-standings?asOf=2026-03-31', 'projection=tier-standings&standingAsOf=2026-03-31'],
    ['/v1/tier-standings/P1?asOf=2026-03-31', 'projection=tier-standings&partnerId=P1&standingAsOf=2026-03-31'],
    ['/v1/tier-standings/P2', 'projection=tier-standings&partnerId=P2'],
    // Commission balances at a business date, and now (the replay's moment), per partner.
    ['/v1/commissions/balances?asOf=2026-02-10', 'projection=commission-balances&balancesAsOf=2026-02-10'],
    ['/v1/commissions/balances?partnerId=P1', 'projection=commission-balances&partnerId=P1'],
  ];

  it('equals the live answers captured at three moments, with later history present', async () => {
    const captured: { asOf: string; answers: { live: string; replay: string; body: unknown; position: string | null }[] }[] = [];
    const capture = async () => {
      const head = (await t.store.headPosition()).toString();
      const answers = [];
      for (const [live, replay] of queries) {
        const r = await t.request('GET', `${live}${live.includes('?') ? '&' : '?'}minPosition=${head}`, { key: KEYS.admin });
        expect({ live, status: r.status }).toEqual({ live, status: 200 });
        answers.push({ live, replay, body: r.body, position: r.headers.get('ledger-position') });
      }
      captured.push({ asOf: clock.now().toISOString(), answers });
    };

    await must('PUT', '/v1/tier-program', { ...defaults, tiers: defaults.tiers.map((x) => ({ ...x, mdfEligible: true })) });
    await must('PUT', '/v1/commission-plan', { holdDays: 30, rules: [{ creditType: 'sourced', rateBps: 1000 }] });
    for (const id of ['P1', 'P2']) {
      await must('POST', '/v1/partners', { partnerId: id, name: id, type: 'msp', domain: `${id.toLowerCase()}-replay.example` });
      await must('POST', `/v1/partners/${id}/activate`);
    }
    await must('POST', '/v1/partners/P1/certifications', { sellerId: 's1', certification: 'c', earnedAt: '2025-06-01' });
    clock.advance(3_600_000);
    await must('POST', '/v1/revenue-attributions', { attributionId: 'RA1', amount: usd(1_000_001), recognizedAt: '2026-01-15', credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 6000 }, { partnerId: 'P2', type: 'sourced', shareBps: 4000 }] });
    await must('POST', '/v1/mdf/allocations', { partnerId: 'P1', period: '2026-Q1', amount: usd(500_000) });
    await must('POST', '/v1/mdf/requests', { requestId: 'RR1', partnerId: 'P1', period: '2026-Q1', activity: 'Webinar', amount: usd(200_000) });
    await must('POST', '/v1/mdf/requests/RR1/approve', {});
    await capture();
    clock.advance(3_600_000);
    await must('POST', '/v1/revenue-attributions/RA1/reverse', { amountMinor: 300_000, reason: 'refund', reversedAt: '2026-01-20' });
    await must('POST', '/v1/revenue-attributions', { attributionId: 'RA2', amount: { amountMinor: 90_000, currency: 'EUR' }, reportingAmountMinor: 99_000, recognizedAt: '2026-01-25', credits: [{ partnerId: 'P1', type: 'influenced', shareBps: 10_000 }] });
    await must('POST', '/v1/mdf/requests', { requestId: 'RR2', partnerId: 'P1', period: '2026-Q1', activity: 'Event', amount: usd(100_000) });
    await must('POST', '/v1/mdf/requests/RR2/approve', { amount: usd(50_000) });
    await must('POST', '/v1/partners/P1/certifications', { sellerId: 's2', certification: 'c', earnedAt: '2025-07-01', expiresAt: '2026-12-31' });
    await capture();
    clock.advance(3_600_000);
    await must('POST', '/v1/tier-evaluations', { asOf: '2026-02-01' });
    await capture();
    clock.advance(3_600_000);
    // Later history that no replay above may see.
    await must('POST', '/v1/revenue-attributions', { attributionId: 'RA3', amount: usd(7), recognizedAt: '2026-01-16', credits: [{ partnerId: 'P2', type: 'sourced', shareBps: 10_000 }] });
    await must('POST', '/v1/mdf/allocations', { partnerId: 'P2', period: '2026-Q1', amount: usd(1) });

    // The captures differ from each other, so an equal replay proves it stopped at the right moment.
    expect(captured[0]!.answers[2]!.body).not.toEqual(captured[1]!.answers[2]!.body);
    expect(captured[1]!.answers[0]!.body).not.toEqual(captured[0]!.answers[0]!.body);
    for (const { asOf, answers } of captured) {
      for (const { live, replay, body, position } of answers) {
        const r = await t.request('GET', `/v1/audit/replay?${replay}&asOf=${asOf}`, { key: KEYS.auditor });
        expect({ asOf, live, status: r.status, body: r.body, position: r.headers.get('ledger-position') }).toEqual({ asOf, live, status: 200, body, position });
      }
    }
  });
});
