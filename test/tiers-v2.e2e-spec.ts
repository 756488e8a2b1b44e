import { DEFAULT_PROGRAM } from '#libs/program/program.js';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
const { version: _v, ...defaults } = DEFAULT_PROGRAM;
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

/** Issue 20: tracks per partner type, the certification catalog, revocation, one seller one partner, overrides, active-only promotion. */
describe('tier program v2, end to end', () => {
  let t: TestApp;
  const clock = new TestClock(Date.parse('2026-01-05T09:00:00Z'));
  async function ok(method: string, path: string, body?: unknown): Promise<Body> {
    const r = await t.request(method, path, { body, key: KEYS.ops });
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
    return r.body;
  }
  async function refused(method: string, path: string, body: unknown, status: number, type: string): Promise<Body> {
    const head = await t.store.headPosition();
    const r = await t.request<Body>(method, path, { body, key: KEYS.ops });
    expect({ status: r.status, type: r.body.type }).toEqual({ status, type });
    expect(await t.store.headPosition()).toBe(head);
    return r.body;
  }
  const standing = async (id: string, asOf: string) => (await t.request<Body>('GET', `/v1/tier-standings/${id}?asOf=${asOf}`, { key: KEYS.finance })).body;
  const revenue = (id: string, attributionId: string, amountMinor: number) =>
    ok('POST', '/v1/revenue-attributions', { attributionId, amount: usd(amountMinor), recognizedAt: '2026-01-02', credits: [{ partnerId: id, type: 'sourced', shareBps: 10_000 }] });

  // Two tracks: resellers climb Silver and Gold; technology partners climb Select, which needs two integration engineers.
  const tiers = [
    { name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: false },
    { name: 'Silver', rank: 1, minSourcedRevenueMinor: 1_000_000, minCertifiedSellers: 1, minWonDeals: 0, discountBps: 1500, mdfEligible: true, partnerTypes: ['reseller', 'distributor', 'msp', 'referral'] },
    { name: 'Gold', rank: 2, minSourcedRevenueMinor: 50_000_000, minCertifiedSellers: 5, minWonDeals: 5, discountBps: 2000, mdfEligible: true, partnerTypes: ['reseller', 'distributor', 'msp', 'referral'] },
    { name: 'Select', rank: 1, minSourcedRevenueMinor: 1_000_000, minCertifiedSellers: 1, minWonDeals: 0, discountBps: 1200, mdfEligible: true, partnerTypes: ['technology'], requiredCertifications: [{ certification: 'integration-engineer', minSellers: 2 }] },
  ];

  beforeAll(async () => {
    t = await startApp({ clock });
    await ok('PUT', '/v1/tier-program', { ...defaults, tiers });
    for (const [id, type] of [['R1', 'reseller'], ['R2', 'reseller'], ['T1', 'technology']] as const) {
      await ok('POST', '/v1/partners', { partnerId: id, name: id, type, domain: `${id.toLowerCase()}-v2.example` });
      await ok('POST', `/v1/partners/${id}/activate`, {});
    }
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('keeps a catalog: once it has an entry, unknown names are refused; its validity bounds the expiry', async () => {
    expect((await ok('POST', '/v1/partners/R1/certifications', { sellerId: 'legacy-1', certification: 'Anything Goes', earnedAt: '2025-12-01' })).events).toHaveLength(2);
    const defined = await t.request<Body>('PUT', '/v1/certifications/sales-accreditation', { body: { title: 'Sales Accreditation', validityDays: 365 }, key: KEYS.ops });
    expect(defined.status).toBe(200);
    expect(defined.body).toMatchObject({ name: 'sales-accreditation', events: [{ type: 'CertificationDefined' }] });
    expect((await ok('PUT', '/v1/certifications/sales-accreditation', { title: 'Sales Accreditation', validityDays: 365 })).events).toEqual([]);
    await ok('PUT', '/v1/certifications/integration-engineer', { title: 'Integration Engineer', validityDays: 730 });
    const catalog = await t.request<{ items: Body[] }>('GET', '/v1/certifications', { key: KEYS.finance });
    expect(catalog.body.items.map((c) => [c.name, c.validityDays])).toEqual([
      ['integration-engineer', 730],
      ['sales-accreditation', 365],
    ]);
    const problem = await refused('POST', '/v1/partners/R1/certifications', { sellerId: 's-x', certification: 'Anything Goes', earnedAt: '2026-01-01' }, 422, 'unknown-certification');
    expect(problem.detail).toContain('Anything Goes');
    await refused('POST', '/v1/partners/R1/certifications', { sellerId: 's-x', certification: 'sales-accreditation', earnedAt: '2026-01-01', expiresAt: '2028-01-01' }, 422, 'rule-violation');
    const certified = await ok('POST', '/v1/partners/R1/certifications', { sellerId: 'r1-s1', certification: 'sales-accreditation', earnedAt: '2026-01-01' });
    const event = (certified.events as { type: string; eventId: string }[]).find((e) => e.type === 'SellerCertified')!;
    const stream = await t.request<{ items: { eventId: string; data: Body }[] }>('GET', '/v1/audit/streams/partner-R1', { key: KEYS.auditor });
    expect(stream.body.items.find((e) => e.eventId === event.eventId)!.data.expiresAt).toBe('2027-01-01T00:00:00.000Z');
    expect((await t.request('PUT', '/v1/certifications/X', { body: { title: 'X', validityDays: 0 }, key: KEYS.ops })).status).toBe(400);
    // A program can only require certifications the catalog names, now that it has entries.
    const misnamed = tiers.map((x) => (x.name === 'Select' ? { ...x, requiredCertifications: [{ certification: 'integration-enginer', minSellers: 2 }] } : x));
    const unknown = await refused('PUT', '/v1/tier-program', { ...defaults, tiers: misnamed }, 422, 'unknown-certification');
    expect(unknown.errors).toEqual([{ path: 'tiers.3.requiredCertifications.0.certification', message: '"integration-enginer" is not in the certification catalog' }]);
  });

  it('counts a seller for one partner at a time, race-free; a revoked seller can move', async () => {
    await refused('POST', '/v1/partners/R2/certifications', { sellerId: 'r1-s1', certification: 'sales-accreditation', earnedAt: '2026-01-02' }, 409, 'seller-held-by-another-partner');
    // Two partners certify one new seller at once: exactly one wins.
    const race = await Promise.all(
      ['R1', 'R2'].map((id) => t.request('POST', `/v1/partners/${id}/certifications`, { body: { sellerId: 'contested', certification: 'sales-accreditation', earnedAt: '2026-01-02' }, key: KEYS.ops })),
    );
    expect(race.map((r) => r.status).sort()).toEqual([201, 409]);
    const winner = race[0]!.status === 201 ? 'R1' : 'R2';
    const loser = winner === 'R1' ? 'R2' : 'R1';
    clock.set('2026-01-10T09:00:00Z');
    const revoked = await ok('POST', `/v1/partners/${winner}/certifications/contested/sales-accreditation/revoke`, { reason: 'left the company' });
    expect(revoked.events).toMatchObject([{ type: 'SellerCertificationRevoked' }]);
    expect((await ok('POST', `/v1/partners/${winner}/certifications/contested/sales-accreditation/revoke`, { reason: 'again' })).events).toEqual([]);
    await refused('POST', `/v1/partners/${winner}/certifications/nobody/sales-accreditation/revoke`, { reason: 'r' }, 404, 'not-found');
    // Revoked at its holder: the seller may now count for the other partner.
    expect((await ok('POST', `/v1/partners/${loser}/certifications`, { sellerId: 'contested', certification: 'sales-accreditation', earnedAt: '2026-01-10' })).events).toMatchObject([{ type: 'SellerClaimed' }, { type: 'SellerCertified' }]);
    // The standing as of before the revocation still counts the seller for its first partner; after, it does not.
    const before = await standing(winner, '2026-01-06');
    const after = await standing(winner, '2026-01-11');
    expect((before.certifiedSellers as number) - (after.certifiedSellers as number)).toBe(1);
    const partner = await t.request<Body>('GET', `/v1/partners/${winner}?minPosition=${(await t.store.headPosition()).toString()}`, { key: KEYS.finance });
    expect(partner.body.certifiedSellers).toBe(after.certifiedSellers);
  });

  it('counts one seller for one partner with 64 certifications in flight from three partners', async () => {
    const partners = ['R1', 'R2', 'T1'];
    const answers = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        t.request<Body>('POST', `/v1/partners/${partners[i % 3]!}/certifications`, { body: { sellerId: 'burst-seller', certification: 'sales-accreditation', earnedAt: '2026-01-09' }, key: KEYS.ops }).then((r) => ({ partner: partners[i % 3]!, r })),
      ),
    );
    const won = new Set(answers.filter((a) => a.r.status === 201).map((a) => a.partner));
    expect(won.size).toBe(1);
    const refused = answers.filter((a) => a.r.status !== 201);
    expect(refused.every((a) => !won.has(a.partner) && a.r.status === 409 && a.r.body.type === 'seller-held-by-another-partner')).toBe(true);
    const claims = await t.request<{ items: { type: string; data: Body }[] }>('GET', '/v1/audit/streams/seller-burst-seller', { key: KEYS.auditor });
    expect(claims.body.items.filter((e) => e.type === 'SellerClaimed').map((e) => e.data.partnerId)).toEqual([...won]);
  });

  it('climbs the ladder of the partner type and names the missing certifications in the shortfall', async () => {
    await revenue('T1', 'AT1', 2_000_000);
    await ok('POST', '/v1/partners/T1/certifications', { sellerId: 't1-s1', certification: 'integration-engineer', earnedAt: '2026-01-03' });
    clock.set('2026-01-15T09:00:00Z');
    expect(await standing('T1', '2026-01-15')).toMatchObject({
      partnerType: 'technology',
      currentTier: 'Registered',
      qualifyingTier: 'Registered',
      nextTier: 'Select',
      shortfall: { revenueMinor: 0, certifiedSellers: 0, certifications: [{ certification: 'integration-engineer', minSellers: 2, missingSellers: 1 }] },
    });
    await ok('POST', '/v1/partners/T1/certifications', { sellerId: 't1-s2', certification: 'integration-engineer', earnedAt: '2026-01-03' });
    const evaluated = await ok('POST', '/v1/tier-evaluations', { asOf: '2026-01-15T10:00:00Z' });
    expect(evaluated.changes).toContainEqual({ partnerId: 'T1', from: 'Registered', to: 'Select', kind: 'promotion' });
    expect(evaluated.changes).not.toContainEqual(expect.objectContaining({ partnerId: 'T1', to: 'Silver' }));
  });

  it('promotes only active partners', async () => {
    clock.set('2026-01-20T09:00:00Z');
    await revenue('R2', 'AR2', 2_000_000);
    await ok('POST', '/v1/partners/R2/suspend', { reason: 'compliance review' });
    const held = await ok('POST', '/v1/tier-evaluations', { asOf: '2026-01-20T10:00:00Z' });
    expect(held.changes).not.toContainEqual(expect.objectContaining({ partnerId: 'R2' }));
    expect(await standing('R2', '2026-01-20T10:00:00Z')).toMatchObject({ currentTier: 'Registered', qualifyingTier: 'Silver' });
    await ok('POST', '/v1/partners/R2/reinstate', { reason: 'review completed' });
    clock.set('2026-01-21T09:00:00Z');
    expect((await ok('POST', '/v1/tier-evaluations', { asOf: '2026-01-21T10:00:00Z' })).changes).toContainEqual({ partnerId: 'R2', from: 'Registered', to: 'Silver', kind: 'promotion' });
  });

  it('overrides a tier with a reason until a date: evaluations do not move the partner meanwhile; standings show it', async () => {
    clock.set('2026-02-01T09:00:00Z');
    await refused('POST', '/v1/partners/R2/tier-override', { tier: 'Select', reason: 'launch', until: '2026-03-01' }, 422, 'rule-violation');
    await refused('POST', '/v1/partners/R2/tier-override', { tier: 'Gold', reason: 'launch', until: '2026-01-01' }, 400, 'validation-failed');
    await refused('POST', '/v1/partners/R2/tier-override/end', { reason: 'nothing to end' }, 422, 'rule-violation');
    const o = await ok('POST', '/v1/partners/R2/tier-override', { tier: 'Gold', reason: 'strategic launch partner', until: '2026-03-01' });
    expect(o.events).toMatchObject([{ type: 'PartnerTierOverridden' }]);
    clock.set('2026-02-02T09:00:00Z');
    expect(await standing('R2', '2026-02-02')).toMatchObject({ currentTier: 'Gold', qualifyingTier: 'Silver', override: { tier: 'Gold', reason: 'strategic launch partner', until: '2026-03-01T00:00:00.000Z' }, programVersion: 1 });
    expect((await t.request<Body>('GET', `/v1/partners/R2?minPosition=${(await t.store.headPosition()).toString()}`)).body.tier).toBe('Gold');
    // Evaluations do not move it, but record what it qualifies for meanwhile (first, then only when it changes).
    const during = await ok('POST', '/v1/tier-evaluations', { asOf: '2026-02-02T10:00:00Z' });
    expect(during.changes).not.toContainEqual(expect.objectContaining({ partnerId: 'R2' }));
    expect(during.held).toContainEqual({ partnerId: 'R2', tier: 'Gold', qualifyingTier: 'Silver', until: '2026-03-01T00:00:00.000Z' });
    expect(during.events).toContainEqual(expect.objectContaining({ type: 'PartnerTierQualificationRecorded', streamId: 'partner-R2' }));
    clock.set('2026-02-10T09:00:00Z');
    const again = await ok('POST', '/v1/tier-evaluations', { asOf: '2026-02-10T10:00:00Z' });
    expect(again.changes).not.toContainEqual(expect.objectContaining({ partnerId: 'R2' }));
    expect(again.held).not.toContainEqual(expect.objectContaining({ partnerId: 'R2' }));
    // At its end date an evaluation ends the override, and the partner is back on its own tier.
    clock.set('2026-03-01T09:00:00Z');
    expect((await ok('POST', '/v1/tier-evaluations', { asOf: '2026-03-01T10:00:00Z' })).changes).toContainEqual({ partnerId: 'R2', from: 'Gold', to: 'Silver', kind: 'override-ended' });
    expect(await standing('R2', '2026-03-01T11:00:00Z')).toMatchObject({ currentTier: 'Silver' });
    expect((await standing('R2', '2026-03-01T11:00:00Z')).override).toBeUndefined();
    // Ended by channel ops before its date.
    await ok('POST', '/v1/partners/R1/tier-override', { tier: 'Gold', reason: 'pilot', until: '2026-06-01' });
    const ended = await ok('POST', '/v1/partners/R1/tier-override/end', { reason: 'pilot cancelled' });
    expect(ended).toMatchObject({ tier: 'Registered', events: [{ type: 'PartnerTierOverrideEnded' }] });
  });
  it('leaves unregistered attributions out of tier revenue while the version in force says countUnregisteredRevenue: false', async () => {
    clock.set('2026-03-10T09:00:00Z');
    await ok('POST', '/v1/partners', { partnerId: 'U1', name: 'U1', type: 'reseller', domain: 'u1-v2.example' });
    await ok('POST', '/v1/partners/U1/activate', {});
    await ok('POST', '/v1/partners/U1/certifications', { sellerId: 'u1-s1', certification: 'sales-accreditation', earnedAt: '2026-03-01' });
    const a = await ok('POST', '/v1/revenue-attributions', { attributionId: 'AU1', amount: usd(2_000_000), recognizedAt: '2026-03-05', credits: [{ partnerId: 'U1', type: 'sourced', shareBps: 10_000 }] });
    expect(a.unregistered).toBe(true);
    await ok('PUT', '/v1/tier-program', { ...defaults, tiers, countUnregisteredRevenue: false, effectiveFrom: '2026-04-01T00:00:00Z' });
    clock.set('2026-04-02T09:00:00Z');
    // Before the version that leaves them out is effective, they count; from its effectiveFrom on, they do not.
    expect(await standing('U1', '2026-03-20')).toMatchObject({ trailingSourcedRevenueMinor: 2_000_000, qualifyingTier: 'Silver', programVersion: 1 });
    expect(await standing('U1', '2026-04-02')).toMatchObject({ trailingSourcedRevenueMinor: 0, qualifyingTier: 'Registered', programVersion: 2 });
    const evaluated = await ok('POST', '/v1/tier-evaluations', { asOf: '2026-04-02T08:00:00Z' });
    expect(evaluated.changes).not.toContainEqual(expect.objectContaining({ partnerId: 'U1' }));
    const replay = await t.request<Body>('GET', '/v1/audit/replay?projection=tier-standings&partnerId=U1&asOf=2026-04-02T08:00:00Z', { key: KEYS.auditor });
    expect(JSON.stringify(replay.body)).toContain('"trailingSourcedRevenueMinor":0');
  });
});
