import { DEFAULT_PROGRAM } from '#libs/program/program.js';
import { KEYS, removeDir, startApp, type TestApp } from './support/app.js';

const { version: _v, ...defaults } = DEFAULT_PROGRAM;

describe('tier program, end to end', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('answers the default program (version 0) until one is defined', async () => {
    const r = await t.request('GET', '/v1/tier-program', { key: KEYS.finance });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ version: 0, reportingCurrency: 'USD', protectionDays: 90, maxExtensionDays: 60 });
    expect((r.body.tiers as unknown[]).length).toBe(4);
    expect(r.headers.get('ledger-position')).toMatch(/^\d+$/);
  });

  it('defines versions, is a no-op for the program in force, and new partners start at its lowest tier', async () => {
    const tiers = [
      { name: 'Member', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 500, mdfEligible: false },
      { name: 'Elite', rank: 1, minSourcedRevenueMinor: 1_000_000, minCertifiedSellers: 1, minWonDeals: 1, discountBps: 1500, mdfEligible: true },
    ];
    const v1 = await t.request('PUT', '/v1/tier-program', { body: { ...defaults, protectionDays: 30, tiers }, key: KEYS.ops });
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ version: 1 });
    expect((v1.body.events as { type: string }[])[0]!.type).toBe('TierProgramDefined');
    const again = await t.request('PUT', '/v1/tier-program', { body: { ...defaults, protectionDays: 30, tiers } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ version: 1, events: [] });
    const read = await t.request('GET', '/v1/tier-program');
    expect(read.body).toMatchObject({ version: 1, protectionDays: 30 });
    const p = await t.request('POST', '/v1/partners', { body: { partnerId: 'TP1', name: 'x', type: 'msp', domain: 'tp1.example' } });
    expect(p.status).toBe(201);
    const partner = await t.request('GET', `/v1/partners/TP1?minPosition=${p.body.position}`);
    expect(partner.body.tier).toBe('Member');
  });

  it('refuses invalid programs and other roles, appending nothing', async () => {
    const head = await t.store.headPosition();
    expect((await t.request('PUT', '/v1/tier-program', { body: { ...defaults, tiers: [] } })).status).toBe(400);
    expect((await t.request('PUT', '/v1/tier-program', { body: { ...defaults, lookbackDays: 1.5 } })).status).toBe(400);
    const bad = await t.request('PUT', '/v1/tier-program', { body: { ...defaults, tiers: [{ ...defaults.tiers[0], name: 'A' }, { ...defaults.tiers[1], name: 'A' }] } });
    expect(bad.status).toBe(422);
    expect(bad.body.type).toBe('rule-violation');
    expect((await t.request('PUT', '/v1/tier-program', { body: defaults, key: KEYS.finance })).status).toBe(403);
    expect((await t.request('GET', '/v1/tier-program', { key: KEYS.p1 })).status).toBe(403);
    expect(await t.store.headPosition()).toBe(head);
  });
});
