import { customerAccountDecider, type DealCommand } from '#libs/deals/customer-account.js';
import { dealSlotsDecider } from '#libs/deals/registration.js';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

/**
 * Rules of engagement (issue 18, DOMAIN.md "Rules of engagement (v2)"): each case of the "Why", through
 * HTTP, and the races that must keep the rules at 64 requests in flight.
 */
type Body = Record<string, unknown>;

const deal = (dealId: string, partnerId: string, domain: string, products: string[] = ['CRM'], extra: Body = {}): Body => ({
  dealId,
  partnerId,
  customer: { name: `Customer of ${domain}`, domain },
  products,
  estimatedValue: { amountMinor: 2_500_000, currency: 'USD' },
  expectedCloseDate: '2026-09-30',
  ...extra,
});

describe('rules of engagement, end to end', () => {
  let t: TestApp;
  const clock = new TestClock(Date.parse('2026-01-10T09:00:00Z'));

  const register = (body: Body, key: string = KEYS.ops) => t.request('POST', '/v1/deals', { body, key });
  const action = (dealId: string, verb: string, body: Body = {}, key: string = KEYS.ops) => t.request('POST', `/v1/deals/${dealId}/${verb}`, { body, key });
  const getDeal = (dealId: string, position: unknown) => t.request('GET', `/v1/deals/${dealId}?minPosition=${String(position)}`);

  async function enroll(partnerId: string, lifecycle: string[] = ['activate']): Promise<void> {
    expect((await t.request('POST', '/v1/partners', { body: { partnerId, name: `Partner ${partnerId}`, type: 'reseller', domain: `${partnerId.toLowerCase()}.example` } })).status).toBe(201);
    for (const step of lifecycle) {
      expect((await t.request('POST', `/v1/partners/${partnerId}/${step}`, { body: step === 'activate' ? {} : { reason: 'test' } })).status).toBe(200);
    }
  }

  beforeAll(async () => {
    t = await startApp({ clock });
    const program = await t.request('GET', '/v1/tier-program');
    const put = await t.request('PUT', '/v1/tier-program', {
      body: { ...(program.body as Body), version: undefined, productFamilies: { 'CRM-SUITE': ['CRM-SUITE', 'CRM-SALES', 'CRM-SERVICE'] } },
    });
    expect(put.status).toBe(200);
    for (const p of ['P1', 'P2', 'P3']) await enroll(p);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('first to register wins: approving a later registration while an earlier one is pending is a 409 naming it, unless overridden (recorded)', async () => {
    expect((await register(deal('F1', 'P1', 'first.com', ['CRM'], { registeredAt: '2026-01-01' }))).status).toBe(201);
    const d2 = await register(deal('F2', 'P2', 'first.com', ['CRM'], { registeredAt: '2026-01-05' }));
    expect(d2.body).toMatchObject({ status: 'conflicted', conflictsWith: ['F1'], registeredAt: '2026-01-05T00:00:00.000Z' });

    const head = await t.store.headPosition();
    const refused = await action('F2', 'approve');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: 'earlier-registration-pending', earlierDealIds: ['F1'] });
    expect(await t.store.headPosition()).toBe(head);

    const overridden = await action('F2', 'approve', { override: { reason: 'the customer asked for P2' } });
    expect(overridden.status).toBe(200);
    expect(overridden.body).toMatchObject({ status: 'approved', rejected: ['F1'], precedenceOverride: { reason: 'the customer asked for P2', earlierDealIds: ['F1'] } });
    const loser = await getDeal('F1', overridden.body.position);
    expect(loser.body).toMatchObject({ status: 'rejected', reasonCode: 'conflict-lost', winnerDealId: 'F2' });
    expect((await getDeal('F2', overridden.body.position)).body).toMatchObject({ overrideReason: 'the customer asked for P2' });

    // The loser is no longer active: approving it says so (it no longer "overlaps the approved registration").
    const late = await action('F1', 'approve');
    expect(late.status).toBe(422);
    expect(late.body).toMatchObject({ type: 'registration-not-active', currentStatus: 'rejected', dealId: 'F1' });
  });

  it('only channel ops and admins give registeredAt', async () => {
    const r = await register(deal('BD-1', 'P1', 'backdated.com', ['CRM'], { registeredAt: '2025-01-01' }), KEYS.p1);
    expect(r.status).toBe(403);
  });

  it('refuses a win that closed before the deal was registered', async () => {
    await register(deal('C1', 'P1', 'closed-early.com'));
    await action('C1', 'approve');
    const r = await action('C1', 'won', { amount: { amountMinor: 100, currency: 'USD' }, closedAt: '2025-06-10' });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ type: 'closed-before-registration', registeredAt: '2026-01-10T09:00:00.000Z' });
  });

  it('refuses an extension asked for after the protection lapsed', async () => {
    clock.set('2026-01-11T09:00:00Z');
    await register(deal('L1', 'P1', 'lapsed.com'));
    const approved = await action('L1', 'approve');
    expect(approved.status).toBe(200);
    clock.set('2026-12-01T00:00:00Z');
    const r = await action('L1', 'extend', { days: 30 });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ type: 'protection-lapsed', protectedUntil: approved.body.protectedUntil });
    clock.set('2026-01-12T09:00:00Z');
  });

  it('expires registrations nobody reviewed within registrationReviewDays, and names why', async () => {
    await register(deal('S1', 'P1', 'stale.com'));
    const due = await t.request('POST', '/v1/deal-expirations', { body: { asOf: '2026-02-01' } });
    expect(due.status).toBe(200);
    expect(due.body.expired).toEqual(expect.arrayContaining([{ dealId: 'S1', reason: 'review-lapsed' }]));
    expect((await getDeal('S1', due.body.position)).body).toMatchObject({ status: 'expired', reasonCode: 'review-lapsed' });
    // The customer is free again.
    expect((await register(deal('S2', 'P2', 'stale.com'))).body).toMatchObject({ status: 'submitted' });
  });

  it('refuses to approve, extend or win for a partner that is not active; terminated partners’ registrations end at the expiry run', async () => {
    await enroll('SUS');
    await enroll('TERM');
    await register(deal('PS1', 'SUS', 'suspended-customer.com'));
    await register(deal('PT1', 'TERM', 'terminated-customer.com'));
    await t.request('POST', '/v1/partners/SUS/suspend', { body: { reason: 'audit' } });
    const approve = await action('PS1', 'approve');
    expect(approve.status).toBe(422);
    expect(approve.body).toMatchObject({ type: 'partner-not-active', partnerStatus: 'suspended' });

    await t.request('POST', '/v1/partners/TERM/terminate', { body: { reason: 'contract ended' } });
    const run = await t.request('POST', '/v1/deal-expirations', { body: { asOf: '2026-01-13' } });
    expect(run.body.expired).toEqual(expect.arrayContaining([{ dealId: 'PT1', reason: 'partner-terminated' }]));
  });

  it('records a reason code on every rejection; reason alone means other', async () => {
    await register(deal('R1', 'P1', 'reasons.com', ['A']));
    await register(deal('R2', 'P1', 'reasons.com', ['B']));
    const coded = await action('R1', 'reject', { reasonCode: 'existing-customer', reason: 'already buys direct' });
    expect(coded.body).toMatchObject({ status: 'rejected', reasonCode: 'existing-customer' });
    const plain = await action('R2', 'reject', { reason: 'no' });
    expect(plain.body).toMatchObject({ reasonCode: 'other' });
    expect((await action('R2', 'reject', { reasonCode: 'nonsense', reason: 'x' })).status).toBe(400);
  });

  it('refuses consumer domains: mail.gmail.com is not one customer of everyone', async () => {
    const head = await t.store.headPosition();
    for (const domain of ['mail.gmail.com', 'outlook.com', 'https://www.yahoo.com/']) {
      const r = await register(deal(`G-${domain.length}`, 'P1', domain));
      expect(r.status).toBe(422);
      expect(r.body.type).toBe('consumer-domain');
    }
    expect(await t.store.headPosition()).toBe(head);
  });

  it('aliases acme.de to acme.com: registrations naming the alias overlap the account’s; 422 with registrations of its own, 409 when another account’s', async () => {
    await register(deal('A1', 'P1', 'acme.com'));
    const aliased = await t.request('POST', '/v1/customer-accounts/acme.com/aliases', { body: { domain: 'www.acme.de' } });
    expect(aliased.status).toBe(200);
    const viaAlias = await register(deal('A2', 'P2', 'shop.acme.de'));
    expect(viaAlias.body).toMatchObject({ status: 'conflicted', customerKey: 'acme.com', conflictsWith: ['A1'] });
    expect((await getDeal('A2', viaAlias.body.position)).body).toMatchObject({ customerKey: 'acme.com', viaAlias: 'acme.de', conflictsWith: ['A1'] });

    const other = await t.request('POST', '/v1/customer-accounts/globex.com/aliases', { body: { domain: 'acme.de' } });
    expect(other.status).toBe(409);
    await register(deal('B1', 'P1', 'busy.org'));
    const busy = await t.request('POST', '/v1/customer-accounts/acme.com/aliases', { body: { domain: 'busy.org' } });
    expect(busy.status).toBe(422);
    expect(busy.body).toMatchObject({ type: 'alias-has-registrations', dealIds: ['B1'] });

    const account = await t.request('GET', '/v1/customer-accounts/acme.de');
    expect(account.status).toBe(200);
    expect(account.body).toMatchObject({ customerKey: 'acme.com', aliases: ['acme.de'], activeRegistrations: ['A1', 'A2'] });
    expect((await t.request('GET', '/v1/customer-accounts/acme.com', { key: KEYS.p1 })).status).toBe(404);
  });

  it('a suite code overlaps its modules through the program’s product families', async () => {
    await register(deal('FAM1', 'P1', 'suite.com', ['CRM-SUITE']));
    const module = await register(deal('FAM2', 'P2', 'suite.com', ['CRM-SALES']));
    expect(module.body).toMatchObject({ status: 'conflicted', conflictsWith: ['FAM1'], programVersion: 1 });
  });

  it('refuses registrations of a direct account until released or until its end date', async () => {
    expect((await t.request('POST', '/v1/customer-accounts/direct.com/direct', { body: { reason: 'strategic', until: '2026-06-01' } })).status).toBe(200);
    const refused = await register(deal('DA1', 'P1', 'direct.com'));
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: 'direct-account', until: '2026-06-01T00:00:00.000Z' });
    expect((await t.request('GET', '/v1/customer-accounts/direct.com')).body).toMatchObject({ direct: { reason: 'strategic', until: '2026-06-01T00:00:00.000Z' } });
    expect((await t.request('POST', '/v1/customer-accounts/direct.com/direct/release', { body: { reason: 'handed to the channel' } })).status).toBe(200);
    expect((await register(deal('DA1', 'P1', 'direct.com'))).status).toBe(201);

    await t.request('POST', '/v1/customer-accounts/later.com/direct', { body: { reason: 'pilot', until: '2026-01-20' } });
    expect((await register(deal('DA2', 'P1', 'later.com'))).status).toBe(409);
    clock.set('2026-01-21T00:00:00Z');
    expect((await register(deal('DA2', 'P1', 'later.com'))).status).toBe(201);
  });

  it('stores externalRef and finds registrations by it', async () => {
    const r = await register(deal('X1', 'P1', 'crm-linked.com', ['CRM'], { externalRef: '006-ABC' }));
    expect(r.body).toMatchObject({ externalRef: '006-ABC' });
    const approved = await action('X1', 'approve', { externalRef: '006-XYZ' });
    const found = await t.request<{ items: Body[] }>('GET', `/v1/deals?externalRef=006-XYZ&minPosition=${String(approved.body.position)}`);
    expect(found.body.items.map((d) => d.dealId)).toEqual(['X1']);
  });

  it('64 concurrent approvals of overlapping registrations: exactly one wins', async () => {
    for (let i = 0; i < 64; i++) await register(deal(`RACE-${i}`, `P${(i % 3) + 1}`, 'race64.com'));
    const approvals = await Promise.all(Array.from({ length: 64 }, (_, i) => action(`RACE-${i}`, 'approve', { override: { reason: 'race' } })));
    expect(approvals.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of approvals.filter((x) => x.status !== 200)) expect([409, 422]).toContain(r.status);
  });

  it('an approval racing a direct mark: either the approval lands first or none does', async () => {
    for (let i = 0; i < 63; i++) await register(deal(`DR-${i}`, 'P1', 'direct-race.com', [`PR${i}`]));
    const results = await Promise.all([
      ...Array.from({ length: 63 }, (_, i) => action(`DR-${i}`, 'approve')),
      t.request('POST', '/v1/customer-accounts/direct-race.com/direct', { body: { reason: 'race' } }),
    ]);
    const mark = results[63]!;
    expect(mark.status).toBe(200);
    const markPosition = BigInt(mark.body.position as string);
    for (const r of results.slice(0, 63)) {
      if (r.status === 200) expect(BigInt(r.body.position as string)).toBeLessThan(markPosition);
      else expect(r.body.type).toBe('direct-account');
    }
  });

  it('registrations racing an alias: either they land on the alias first (the alias is refused) or they are decided on the primary', async () => {
    const results = await Promise.all([
      t.request('POST', '/v1/customer-accounts/alias-race.com/aliases', { body: { domain: 'alias-race.de' } }),
      ...Array.from({ length: 63 }, (_, i) => register(deal(`AR-${i}`, 'P1', 'alias-race.de', [`Q${i}`]))),
    ]);
    const alias = results[0]!;
    const registered = results.slice(1);
    for (const r of registered) expect(r.status).toBe(201);
    if (alias.status === 200) {
      const after = registered.filter((r) => BigInt(r.body.position as string) > BigInt(alias.body.position as string));
      for (const r of after) expect(r.body.customerKey).toBe('alias-race.com');
      const onAlias = registered.filter((r) => r.body.customerKey === 'alias-race.de');
      expect(onAlias).toHaveLength(0);
    } else {
      expect(alias.body.type).toBe('alias-has-registrations');
    }
  });

  it('approvals on the primary racing an alias being added, a direct mark and registrations naming the alias: the account with its aliases keeps the rules', async () => {
    // 31 registrations of P1 on the primary, one product each; P2 registers the same products naming the alias domain.
    for (let i = 0; i < 31; i++) expect((await register(deal(`AP-${i}`, 'P1', 'ap-race.com', [`M${i}`]))).status).toBe(201);
    const results = await Promise.all([
      t.request('POST', '/v1/customer-accounts/ap-race.com/aliases', { body: { domain: 'ap-race.de' } }),
      t.request('POST', '/v1/customer-accounts/ap-race.com/direct', { body: { reason: 'race' } }),
      ...Array.from({ length: 31 }, (_, i) => action(`AP-${i}`, 'approve')),
      ...Array.from({ length: 31 }, (_, i) => register(deal(`AQ-${i}`, 'P2', 'ap-race.de', [`M${i}`]))),
    ]);
    expect(results).toHaveLength(64);
    const [alias, mark] = [results[0]!, results[1]!];
    const approvals = results.slice(2, 33);
    const registrations = results.slice(33);
    const at = (r: { body: Body }) => BigInt(r.body.position as string);

    // The direct mark always lands (on the primary); nothing is approved or registered on the primary after it.
    expect(mark.status).toBe(200);
    for (const r of approvals) {
      if (r.status === 200) expect(at(r)).toBeLessThan(at(mark));
      else expect(r.body.type).toBe('direct-account');
    }
    // The alias lands only while the alias domain has no registrations of its own; after it, every registration
    // naming the alias domain is decided on the primary (where the direct mark and P1's registrations count).
    const onAlias = registrations.filter((r) => r.status === 201 && r.body.customerKey === 'ap-race.de');
    if (alias.status === 200) {
      expect(onAlias).toHaveLength(0);
    } else {
      expect(alias.body.type).toBe('alias-has-registrations');
      expect(onAlias.length).toBeGreaterThan(0);
    }
    for (const r of registrations) {
      if (r.status === 201 && r.body.customerKey === 'ap-race.com') expect(at(r)).toBeLessThan(at(mark));
      if (r.status !== 201) expect(['direct-account', 'registration-conflict', 'customer-aliased']).toContain(r.body.type);
    }
    for (const r of results) expect(r.status).toBeLessThan(500);

    // Per product, the account with its aliases holds at most one approved registration, and a P2 registration
    // decided on the primary never stays active beside an approved P1 one.
    const head = String(await t.store.headPosition());
    for (let i = 0; i < 31; i++) {
      const a = await getDeal(`AP-${i}`, head);
      const b = await getDeal(`AQ-${i}`, head);
      expect(a.status === 200 && b.status === 200 && a.body.status === 'approved' && b.body.status === 'approved').toBe(false);
      if (a.body.status === 'approved' && b.status === 200 && b.body.customerKey === 'ap-race.com') expect(b.body.status).toBe('rejected');
    }
  });
});

describe('registration capacity (maxOpenRegistrations)', () => {
  it('a burst of 64 registrations at the limit admits exactly the capacity; ended ones free their slots', async () => {
    const t = await startApp({ clock: new TestClock(Date.parse('2026-03-01T00:00:00Z')) });
    try {
      const program = await t.request('GET', '/v1/tier-program');
      expect((await t.request('PUT', '/v1/tier-program', { body: { ...(program.body as Body), version: undefined, maxOpenRegistrations: 5 } })).status).toBe(200);
      await t.request('POST', '/v1/partners', { body: { partnerId: 'P1', name: 'P1', type: 'msp', domain: 'p1.example' } });
      await t.request('POST', '/v1/partners/P1/activate');
      const burst = await Promise.all(Array.from({ length: 64 }, (_, i) => t.request('POST', '/v1/deals', { body: deal(`CAP-${i}`, 'P1', `cap-${i}.com`) })));
      const admitted = burst.filter((r) => r.status === 201);
      expect(admitted).toHaveLength(5);
      for (const r of burst.filter((x) => x.status !== 201)) expect(r.body).toMatchObject({ type: 'registration-capacity', maxOpenRegistrations: 5 });
      const one = admitted[0]!.body.dealId as string;
      expect((await t.request('POST', `/v1/deals/${one}/reject`, { body: { reason: 'duplicate', reasonCode: 'duplicate' } })).status).toBe(200);
      expect((await t.request('POST', '/v1/deals', { body: deal('CAP-NEXT', 'P1', 'cap-next.com') })).status).toBe(201);
      expect((await t.request('POST', '/v1/deals', { body: deal('CAP-MORE', 'P1', 'cap-more.com') })).status).toBe(422);

      // A replay (same Idempotency-Key) answers exactly what the first answer said, the capacity slot's event included.
      expect((await t.request('POST', `/v1/deals/CAP-NEXT/reject`, { body: { reason: 'duplicate', reasonCode: 'duplicate' } })).status).toBe(200);
      const headers = { 'idempotency-key': 'cap-replay-1' };
      const first = await t.request('POST', '/v1/deals', { body: deal('CAP-REPLAY', 'P1', 'cap-replay.com'), headers });
      expect(first.status).toBe(201);
      expect((first.body.events as { type: string }[]).map((e) => e.type)).toEqual(['DealSlotTaken', 'DealIdClaimed', 'DealRegistered']);
      const head = await t.store.headPosition();
      const again = await t.request('POST', '/v1/deals', { body: deal('CAP-REPLAY', 'P1', 'cap-replay.com'), headers });
      expect(again.status).toBe(first.status);
      expect(again.body).toEqual(first.body);
      expect(await t.store.headPosition()).toBe(head);
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  });
});

describe('deciding once per registration', () => {
  it('a registration runs the customer account decider once and takes its capacity slot once: no dry run before the real one', async () => {
    const t = await startApp({ clock: new TestClock(Date.parse('2026-03-01T00:00:00Z')) });
    const account = customerAccountDecider as { decide: typeof customerAccountDecider.decide };
    const slots = dealSlotsDecider as { decide: typeof dealSlotsDecider.decide };
    const [decideAccount, decideSlot] = [account.decide, slots.decide];
    const calls: string[] = [];
    try {
      const program = await t.request('GET', '/v1/tier-program');
      expect((await t.request('PUT', '/v1/tier-program', { body: { ...(program.body as Body), version: undefined, maxOpenRegistrations: 5 } })).status).toBe(200);
      for (const p of ['P1', 'P2']) {
        await t.request('POST', '/v1/partners', { body: { partnerId: p, name: p, type: 'msp', domain: `${p.toLowerCase()}.example` } });
        await t.request('POST', `/v1/partners/${p}/activate`);
      }
      account.decide = (command: DealCommand, ...rest) => (calls.push(`account:${command.type}`), decideAccount(command, ...rest));
      slots.decide = (...args) => (calls.push('slot'), decideSlot(...args));
      expect((await t.request('POST', '/v1/deals', { body: deal('ONCE-1', 'P1', 'once.com') })).status).toBe(201);
      expect(calls).toEqual(['account:RegisterDeal', 'slot']);
      calls.length = 0;
      // A conflicting registration too: one decision, which records the conflict.
      const second = await t.request('POST', '/v1/deals', { body: deal('ONCE-2', 'P2', 'once.com') });
      expect(second.body).toMatchObject({ status: 'conflicted' });
      expect(calls).toEqual(['account:RegisterDeal', 'slot']);
    } finally {
      account.decide = decideAccount;
      slots.decide = decideSlot;
      await t.close();
      removeDir(t.dataDir);
    }
  });
});
