import { KEYS, removeDir, startApp, type TestApp } from './support/app.js';

describe('commission plan (v2), end to end', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('answers the default plan (version 0, no rules) until one is defined', async () => {
    const r = await t.request('GET', '/v1/commission-plan', { key: KEYS.finance });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ version: 0, holdDays: 30, minimumPayoutMinor: 0, rules: [] });
    expect(r.headers.get('ledger-position')).toMatch(/^\d+$/);
  });

  it('defines versions (rules in canonical order), a re-sent plan is a no-op', async () => {
    const rules = [
      { tier: 'Gold', partnerType: 'reseller', creditType: 'sourced', rateBps: 2000 },
      { creditType: 'sourced', rateBps: 1000 },
      { creditType: 'influenced', rateBps: 250 },
    ];
    const v1 = await t.request('PUT', '/v1/commission-plan', { body: { holdDays: 60, minimumPayoutMinor: 5000, rules }, key: KEYS.finance });
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ version: 1 });
    expect((v1.body.events as { type: string }[]).map((e) => e.type)).toEqual(['CommissionPlanDefined']);
    const again = await t.request('PUT', '/v1/commission-plan', { body: { holdDays: 60, minimumPayoutMinor: 5000, rules: [...rules].reverse() }, key: KEYS.finance });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ version: 1, events: [] });
    const read = await t.request('GET', `/v1/commission-plan?minPosition=${v1.body.position}`, { key: KEYS.auditor });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      version: 1,
      holdDays: 60,
      minimumPayoutMinor: 5000,
      rules: [
        { creditType: 'influenced', rateBps: 250 },
        { creditType: 'sourced', rateBps: 1000 },
        { tier: 'Gold', partnerType: 'reseller', creditType: 'sourced', rateBps: 2000 },
      ],
    });
    const v2 = await t.request('PUT', '/v1/commission-plan', { body: { rules: [{ creditType: 'sourced', rateBps: 1500 }] }, key: KEYS.admin });
    expect(v2.body).toMatchObject({ version: 2 });
  });

  it('refuses invalid plans and other roles, appending nothing', async () => {
    const head = await t.store.headPosition();
    for (const body of [
      { rules: [{ creditType: 'sourced', rateBps: 10_001 }] },
      { rules: [{ creditType: 'sourced', rateBps: 1.5 }] },
      { rules: [{ creditType: 'other', rateBps: 1 }] },
      { minimumPayoutMinor: -1, rules: [] },
      { holdDays: null, rules: [] },
      { rules: [{ creditType: 'sourced', rateBps: 1 }, { creditType: 'sourced', rateBps: 2 }] },
    ]) {
      const r = await t.request('PUT', '/v1/commission-plan', { body, key: KEYS.finance });
      expect([r.status, r.body.type]).toEqual([400, 'validation-failed']);
    }
    expect((await t.request('PUT', '/v1/commission-plan', { body: { rules: [] }, key: KEYS.ops })).status).toBe(403);
    expect(await t.store.headPosition()).toBe(head);
  });
});
