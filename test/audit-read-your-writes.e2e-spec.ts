import { KEYS, removeDir, startApp, type TestApp } from './support/app.js';

/**
 * API.md "Conventions": every GET, the /v1/audit/* ones included, takes `?minPosition=` and answers
 * `Ledger-Position`; there the read model is the log itself.
 */
describe('audit routes: minPosition and Ledger-Position', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ env: { LEDGER_CONSISTENCY_TIMEOUT_MS: '300' } });
    const r = await t.request('POST', '/v1/partners', { key: KEYS.ops, body: { partnerId: 'A-1', name: 'Audited', type: 'reseller', domain: 'audited.com' } });
    expect(r.status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  const routes = [
    '/v1/audit/events',
    '/v1/audit/streams/partner-A-1',
    '/v1/audit/digest',
    '/v1/audit/proofs/inclusion?position=1',
    '/v1/audit/proofs/consistency?from=1',
    '/v1/audit/public-key',
    '/v1/audit/replay?projection=partners&asOf=2030-01-01',
    '/v1/audit/export',
  ];

  it.each(routes)('%s answers at a reached minPosition, with Ledger-Position', async (path) => {
    const head = (await t.store.headPosition()).toString();
    const r = await t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${head}`, { key: KEYS.auditor });
    expect(r.status).toBe(200);
    expect(BigInt(r.headers.get('ledger-position') ?? '-1')).toBeGreaterThanOrEqual(BigInt(head));
  });

  it.each(routes)('%s answers 503 not-caught-up for a position the log has not reached', async (path) => {
    const ahead = ((await t.store.headPosition()) + 1000n).toString();
    const r = await t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${ahead}`, { key: KEYS.auditor });
    expect({ status: r.status, type: r.body.type }).toEqual({ status: 503, type: 'not-caught-up' });
    expect(r.headers.get('retry-after')).toBe('1');
  });

  it('refuses a minPosition that is not a position', async () => {
    const r = await t.request('GET', '/v1/audit/events?minPosition=soon', { key: KEYS.auditor });
    expect({ status: r.status, type: r.body.type }).toEqual({ status: 400, type: 'validation-failed' });
  });
});
