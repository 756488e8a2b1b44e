import type { DealEvent, DealRegistered, DealRegistrationApproved } from '#events/deals.js';
import { AlreadyExists, RegistrationConflict, RuleViolation } from '#libs/kernel/errors.js';
import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import { customerAccountDecider, findRegistration, type DealCommand, type RegisterDeal } from './customer-account.js';
import { dealSlotsDecider } from './registration.js';

/** DOMAIN.md "Rules of engagement (v2)", decided by the customer account (the decider kit: given events, when, then). */
const T0 = new Date('2026-03-02T09:00:00.000Z');
const DAY = 86_400_000;
const iso = (days: number) => new Date(T0.getTime() + days * DAY).toISOString();
const spec = deciderSpec(customerAccountDecider, T0);

const registered = (dealId: string, registeredAt: string, over: Partial<DealRegistered['data']> = {}): DealRegistered => ({
  type: 'DealRegistered',
  data: {
    dealId,
    partnerId: 'P1',
    customerKey: 'acme.com',
    customer: { name: 'Acme', domain: 'acme.com' },
    products: ['CRM'],
    estimatedValue: { amountMinor: 100, currency: 'USD' },
    expectedCloseDate: iso(90),
    registeredAt,
    status: 'submitted',
    conflictsWith: [],
    conflicts: [],
    ...over,
  },
});
const conflicted = (dealId: string, registeredAt: string, over: Partial<DealRegistered['data']> = {}): DealRegistered =>
  registered(dealId, registeredAt, { status: 'conflicted', conflictsWith: ['D1'], conflicts: [{ conflictId: `D1/${dealId}`, opened: true, addedDealIds: ['D1', dealId], products: ['CRM'] }], ...over });
const approvedEvent = (dealId: string, approvedAt: string, protectedUntil: string): DealRegistrationApproved => ({
  type: 'DealRegistrationApproved',
  data: { dealId, partnerId: 'P1', customerKey: 'acme.com', products: ['CRM'], approvedAt, protectedUntil, protectionDays: 90, programVersion: 1, rejectedDealIds: [], resolvedConflicts: [] },
});

const register = (dealId: string, over: Partial<RegisterDeal['data']> = {}): DealCommand => ({
  type: 'RegisterDeal',
  data: {
    dealId,
    partnerId: 'P1',
    customerKey: 'acme.com',
    customer: { name: 'Acme', domain: 'www.acme.com' },
    products: ['CRM'],
    estimatedValue: { amountMinor: 100, currency: 'USD' },
    expectedCloseDate: iso(90),
    programVersion: 3,
    partnerStatus: 'active',
    ...over,
  },
});
const approve = (dealId: string, over: Record<string, unknown> = {}): DealCommand =>
  ({ type: 'ApproveDeal', data: { dealId, protectionDays: 90, programVersion: 3, partnerStatus: 'active', ...over } }) as DealCommand;
const expire = (asOf: string, terminatedPartners: string[] = []): DealCommand => ({ type: 'ExpireDeals', data: { asOf, registrationReviewDays: 14, terminatedPartners, programVersion: 3 } });

describe('first to register wins', () => {
  it('refuses approving a later registration while an earlier one is pending, naming it', () => {
    spec
      .given(registered('D1', '2026-01-01T00:00:00.000Z'), conflicted('D2', '2026-01-05T00:00:00.000Z'))
      .when(approve('D2'))
      .thenThrows(RegistrationConflict, { rule: 'earlier-registration-pending', extensions: { dealId: 'D2', earlierDealIds: ['D1'] } });
  });

  it('approves with an override, recording its reason and what it set aside', () => {
    spec
      .given(registered('D1', '2026-01-01T00:00:00.000Z'), conflicted('D2', '2026-01-05T00:00:00.000Z'))
      .when(approve('D2', { override: { reason: 'customer choice' } }))
      .thenMatches([
        { type: 'DealRegistrationApproved', data: { dealId: 'D2', precedenceOverride: { reason: 'customer choice', earlierDealIds: ['D1'] }, programVersion: 3 } },
        { type: 'DealRegistrationRejected', data: { dealId: 'D1', reasonCode: 'conflict-lost', winnerDealId: 'D2' } },
      ]);
  });

  it('goes by registeredAt (business time), not by the order of entry', () => {
    spec
      .given(registered('D1', '2026-01-05T00:00:00.000Z'), conflicted('D2', '2026-01-01T00:00:00.000Z'))
      .when(approve('D2'))
      .thenMatches([{ type: 'DealRegistrationApproved', data: { dealId: 'D2' } }, { type: 'DealRegistrationRejected', data: { dealId: 'D1' } }]);
  });
});

describe('status and partner rules', () => {
  it('approving a registration that is no longer active is registration-not-active, naming its status', () => {
    spec
      .given(registered('D1', iso(0)), { type: 'DealLost', data: { dealId: 'D1', partnerId: 'P1', customerKey: 'acme.com', reason: 'x', lostAt: iso(1), resolvedConflicts: [] } })
      .when(approve('D1'))
      .thenThrows(RuleViolation, { rule: 'registration-not-active', extensions: { currentStatus: 'lost' } });
  });

  it.each<[string, DealCommand]>([
    ['register', register('D9', { partnerStatus: 'suspended' })],
    ['approve', approve('D1', { partnerStatus: 'suspended' })],
    ['extend', { type: 'ExtendDeal', data: { dealId: 'D2', days: 10, maxExtensionDays: 60, programVersion: 3, partnerStatus: 'terminated' } }],
    ['win', { type: 'WinDeal', data: { dealId: 'D2', amount: { amountMinor: 1, currency: 'USD' }, closedAt: iso(2), partnerStatus: 'pending' } }],
  ])('refuses to %s for a partner that is not active', (_what, command) => {
    spec
      .given(registered('D1', iso(0)), registered('D2', iso(0), { products: ['ERP'] }), approvedEvent('D2', iso(0), iso(90)))
      .when(command)
      .thenThrows(RuleViolation, { rule: 'partner-not-active' });
  });

  it('refuses a win that closed before the registration', () => {
    spec
      .given(registered('D1', iso(10)), approvedEvent('D1', iso(10), iso(100)))
      .when({ type: 'WinDeal', data: { dealId: 'D1', amount: { amountMinor: 1, currency: 'USD' }, closedAt: iso(-200), partnerStatus: 'active' } })
      .thenThrows(RuleViolation, { rule: 'closed-before-registration', extensions: { registeredAt: iso(10) } });
  });

  it('refuses an extension asked for after the protection lapsed', () => {
    spec
      .given(registered('D1', iso(0)), approvedEvent('D1', iso(0), iso(90)))
      .when({ type: 'ExtendDeal', data: { dealId: 'D1', days: 30, maxExtensionDays: 60, programVersion: 3, partnerStatus: 'active' } }, new Date(Date.parse(iso(330))))
      .thenThrows(RuleViolation, { rule: 'protection-lapsed' });
  });
});

describe('the expiry run', () => {
  it('ends pending registrations past the review SLA and those of terminated partners, naming why', () => {
    spec
      .given(registered('OLD', iso(0)), registered('NEW', iso(10), { products: ['ERP'] }), registered('GONE', iso(10), { partnerId: 'P9', products: ['BI'] }))
      // Not at the deadline itself (registeredAt + 14 days), as protection does not end at protectedUntil itself.
      .when(expire(iso(14)))
      .thenMatches([]);
    spec
      .given(registered('OLD', iso(0)), registered('NEW', iso(10), { products: ['ERP'] }), registered('GONE', iso(10), { partnerId: 'P9', products: ['BI'] }))
      .when(expire(iso(15), ['P9']))
      .thenMatches([
        { type: 'DealRegistrationExpired', data: { dealId: 'OLD', reason: 'review-lapsed', programVersion: 3 } },
        { type: 'DealRegistrationExpired', data: { dealId: 'GONE', reason: 'partner-terminated' } },
      ]);
  });
});

describe('customer domains, aliases, direct accounts, families', () => {
  it('refuses consumer domains (mail.gmail.com folds to gmail.com)', () => {
    spec
      .given()
      .when(register('D1', { customerKey: 'gmail.com', customer: { name: 'Someone', domain: 'mail.gmail.com' } }))
      .thenThrows(RuleViolation, { rule: 'consumer-domain' });
  });

  it('an alias stream refuses registrations, pointing at its primary account', () => {
    const aliased: DealEvent = { type: 'CustomerDomainAliased', data: { customerKey: 'acme.com', domain: 'acme.de', recordedOn: 'alias', aliasedAt: iso(0) } };
    spec
      .given(aliased)
      .when(register('D1', { customerKey: 'acme.de', customer: { name: 'Acme', domain: 'acme.de' } }))
      .thenThrows(RegistrationConflict, { rule: 'customer-aliased', extensions: { aliasOf: 'acme.com' } });
  });

  it('a registration naming an alias is decided on the primary and overlaps its registrations', () => {
    spec
      .given(registered('D1', iso(0)))
      .when(register('D2', { viaAlias: 'acme.de', customer: { name: 'Acme GmbH', domain: 'shop.acme.de' } }))
      .thenMatches([{ type: 'DealRegistered', data: { customerKey: 'acme.com', viaAlias: 'acme.de', status: 'conflicted', conflictsWith: ['D1'] } }]);
  });

  it('an alias domain with active registrations, or already another account’s alias, is refused', () => {
    spec
      .given(registered('D1', iso(0), { customerKey: 'acme.de', customer: { name: 'A', domain: 'acme.de' } }))
      .when({ type: 'BecomeAlias', data: { customerKey: 'acme.com', domain: 'acme.de' } })
      .thenThrows(RuleViolation, { rule: 'alias-has-registrations', extensions: { dealIds: ['D1'] } });
    spec
      .given({ type: 'CustomerDomainAliased', data: { customerKey: 'globex.com', domain: 'acme.de', recordedOn: 'alias', aliasedAt: iso(0) } })
      .when({ type: 'BecomeAlias', data: { customerKey: 'acme.com', domain: 'acme.de' } })
      .thenThrows(AlreadyExists);
  });

  it('refuses registrations and approvals of a direct account until released or until passes', () => {
    const marked: DealEvent = { type: 'CustomerMarkedDirect', data: { customerKey: 'acme.com', reason: 'strategic', until: iso(30), markedAt: iso(0) } };
    spec.given(marked).when(register('D1')).thenThrows(RegistrationConflict, { rule: 'direct-account' });
    spec.given(registered('D1', iso(-5)), marked).when(approve('D1')).thenThrows(RegistrationConflict, { rule: 'direct-account' });
    spec.given(marked).when(register('D1'), new Date(Date.parse(iso(31)))).thenMatches([{ type: 'DealRegistered' }]);
    spec
      .given(marked, { type: 'CustomerDirectReleased', data: { customerKey: 'acme.com', reason: 'handed over', releasedAt: iso(1) } })
      .when(register('D1'))
      .thenMatches([{ type: 'DealRegistered', data: { status: 'submitted' } }]);
  });

  it('two registrations in one product family overlap', () => {
    spec
      .given(registered('D1', iso(0), { products: ['CRM-SUITE'] }))
      .when(register('D2', { products: ['CRM-SALES'], productFamilies: { CRM: ['CRM-SUITE', 'CRM-SALES'] } }))
      .thenMatches([{ type: 'DealRegistered', data: { status: 'conflicted', conflictsWith: ['D1'], conflicts: [{ products: ['CRM-SALES', 'CRM-SUITE'] }] } }]);
  });
});

describe('events recorded before v2', () => {
  it('still fold: no reason codes, no override, no programVersion on registrations', () => {
    const { state } = spec.given(
      registered('D1', iso(0)),
      conflicted('D2', iso(1)),
      { type: 'DealRegistrationRejected', data: { dealId: 'D2', partnerId: 'P1', customerKey: 'acme.com', reason: 'dup', rejectedAt: iso(2), resolvedConflicts: [{ conflictId: 'D1/D2' }] } },
      approvedEvent('D1', iso(3), iso(93)),
      { type: 'DealRegistrationExpired', data: { dealId: 'D1', partnerId: 'P1', customerKey: 'acme.com', products: ['CRM'], protectedUntil: iso(93), asOf: iso(94), expiredAt: iso(94), resolvedConflicts: [] } },
    );
    expect(state.status).toBe('primary');
    expect(findRegistration(state, 'D1')).toMatchObject({ status: 'expired', protection: { protectedUntil: iso(93) } });
    expect(findRegistration(state, 'D2')).toMatchObject({ status: 'rejected' });
  });
});

describe('capacity slots', () => {
  const slots = deciderSpec(dealSlotsDecider, T0);
  const taken = (dealId: string) => ({ type: 'DealSlotTaken' as const, data: { partnerId: 'P1', dealId, customerKey: 'a.com', maxOpenRegistrations: 2, programVersion: 1, freedDealIds: [] } });
  const take = (dealId: string, ended: string[] = []) => ({ partnerId: 'P1', dealId, customerKey: 'b.com', maxOpenRegistrations: 2, programVersion: 1, ended });

  it('refuses one more than the capacity', () => {
    slots.given(taken('D1'), taken('D2')).when(take('D3')).thenThrows(RuleViolation, { rule: 'registration-capacity', extensions: { openRegistrations: 2 } });
  });

  it('frees the slots of ended registrations in the slot it takes', () => {
    slots
      .given(taken('D1'), taken('D2'))
      .when(take('D3', ['D1']))
      .then([{ type: 'DealSlotTaken', data: { partnerId: 'P1', dealId: 'D3', customerKey: 'b.com', maxOpenRegistrations: 2, programVersion: 1, freedDealIds: ['D1'] } }]);
  });

  it('a deal id that holds a slot takes none again (a retried registration)', () => {
    slots.given(taken('D1'), taken('D2')).when(take('D2')).then([]);
  });
});
