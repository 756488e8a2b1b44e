import type Database from 'better-sqlite3';
import type { RecordedEvent } from '#events/envelope.js';
import { InvalidInput } from '#libs/kernel/errors.js';
import { customerAccountDecider, customerStreamId, type DealCommand, type RegisterDeal } from '#libs/deals/customer-account.js';
import type { Timed } from '#libs/kernel/testing/decider-spec.js';
import type { Projection } from '../runner/projection.js';
import { projectionSpec } from '../testing/projection-spec.js';
import { partnersProjection } from '../partners/partners.projection.js';
import { registrationConflictsProjection } from '../registration-conflicts/registration-conflicts.projection.js';
import { dealsProjection } from './deals.projection.js';
import { encodeCursor } from '../cursor.js';
import { customersWithDueRegistrations, getDeal, listDeals } from './deals.queries.js';

const T0 = new Date('2026-03-02T09:00:00.000Z');
const DAY = 86_400_000;
const iso = (days: number) => new Date(T0.getTime() + days * DAY).toISOString();

/**
 * GET /v1/deals/{id} names the open conflicts from the conflicts read model, and the expiry query reads the partners
 * read model (terminated partners): as in the service's one database, the spec's database holds all three.
 */
const readSide: Projection = {
  ...dealsProjection,
  migrate(db) {
    dealsProjection.migrate(db);
    partnersProjection.migrate(db);
    registrationConflictsProjection.migrate(db);
  },
  canHandle: [...new Set([...dealsProjection.canHandle, ...registrationConflictsProjection.canHandle])],
  evolve(db, event) {
    if (dealsProjection.canHandle.includes(event.type)) dealsProjection.evolve(db, event);
    if (registrationConflictsProjection.canHandle.includes(event.type)) registrationConflictsProjection.evolve(db, event);
  },
};

let kit: ReturnType<typeof projectionSpec>;
let db: Database.Database;

/** Decides each command against its customer's account and projects the events (the projection kit's `decided`). */
let given: (customerKey: string, ...commands: readonly Timed<DealCommand>[]) => RecordedEvent[];


const register = (dealId: string, partnerId: string, products: string[], customer = 'acme.co.uk'): RegisterDeal => ({
  type: 'RegisterDeal',
  data: {
    dealId,
    partnerId,
    customerKey: customer,
    customer: { name: `Customer ${customer}`, domain: `https://www.${customer}/`, ...(customer === 'acme.co.uk' ? { country: 'GB' } : {}) },
    products,
    estimatedValue: { amountMinor: 1_000_000, currency: 'EUR' },
    expectedCloseDate: '2026-06-30T00:00:00.000Z',
    programVersion: 0,
    partnerStatus: 'active',
  },
});
const approve = (dealId: string): DealCommand => ({ type: 'ApproveDeal', data: { dealId, protectionDays: 90, programVersion: 2, partnerStatus: 'active', override: { reason: 'spec' } } });

beforeEach(() => {
  kit = projectionSpec(readSide, { recordedAt: T0.toISOString(), streamOf: (e) => customerStreamId((e.data as { customerKey: string }).customerKey) });
  db = kit.db;
  given = kit.decided(customerAccountDecider, T0);
});
afterEach(() => kit.close());

describe('deals projection', () => {
  it('is named deals and handles every deal event', () => {
    expect(dealsProjection.name).toBe('deals');
    expect([...dealsProjection.canHandle].sort()).toEqual(
      ['DealLost', 'DealRegistered', 'DealRegistrationApproved', 'DealRegistrationExpired', 'DealRegistrationExtended', 'DealRegistrationRejected', 'DealWon'],
    );
    expect(() => dealsProjection.migrate(db)).not.toThrow();
  });

  it('given a registration, then the deal reads as registered', () => {
    given('acme.co.uk', register('D1', 'P1', ['CRM', 'ERP']));
    expect(getDeal(db, 'D1')).toEqual({
      dealId: 'D1',
      partnerId: 'P1',
      customerKey: 'acme.co.uk',
      customer: { name: 'Customer acme.co.uk', domain: 'https://www.acme.co.uk/', country: 'GB' },
      products: ['CRM', 'ERP'],
      estimatedValue: { amountMinor: 1_000_000, currency: 'EUR' },
      expectedCloseDate: '2026-06-30T00:00:00.000Z',
      status: 'submitted',
      registeredAt: T0.toISOString(),
      programVersion: 0,
      conflictsWith: [],
    });
    expect(getDeal(db, 'nope')).toBeUndefined();
  });

  it('follows a conflict: conflicted with what it overlapped, then approval and conflict-lost rejection', () => {
    given('acme.co.uk', register('D1', 'P1', ['CRM']), register('D2', 'P2', ['CRM']));
    expect(getDeal(db, 'D2')).toMatchObject({ status: 'conflicted', conflictsWith: ['D1'] });
    given('acme.co.uk', approve('D2'));
    expect(getDeal(db, 'D2')).toMatchObject({ status: 'approved', approvedAt: T0.toISOString(), protectedUntil: iso(90), programVersion: 2 });
    expect(getDeal(db, 'D1')).toMatchObject({ status: 'rejected', reason: 'conflict-lost', winnerDealId: 'D2', endedAt: T0.toISOString() });
  });

  it('follows extension, win, loss and expiry', () => {
    given('acme.co.uk', register('W', 'P1', ['A']), approve('W'), { type: 'ExtendDeal', data: { dealId: 'W', days: 30, maxExtensionDays: 60, programVersion: 2, partnerStatus: 'active' } });
    expect(getDeal(db, 'W')).toMatchObject({ status: 'approved', protectedUntil: iso(120), extendedDays: 30 });
    given('acme.co.uk', { type: 'WinDeal', data: { dealId: 'W', amount: { amountMinor: 99, currency: 'EUR' }, closedAt: iso(100), partnerStatus: 'active' } });
    expect(getDeal(db, 'W')).toMatchObject({ status: 'won', closedAt: iso(100), wonAmount: { amountMinor: 99, currency: 'EUR' } });
    given('acme.co.uk', register('L', 'P1', ['B']), { type: 'LoseDeal', data: { dealId: 'L', reason: 'budget' } });
    expect(getDeal(db, 'L')).toMatchObject({ status: 'lost', reason: 'budget' });
    given('acme.co.uk', register('E', 'P1', ['C']), approve('E'));
    expect(customersWithDueRegistrations(db, iso(90), 3660)).toEqual([]);
    expect(customersWithDueRegistrations(db, iso(91), 3660)).toEqual(['acme.co.uk']);
    given('acme.co.uk', { type: 'ExpireDeals', data: { asOf: iso(91), registrationReviewDays: 3660, terminatedPartners: [], programVersion: 2 } });
    expect(getDeal(db, 'E')).toMatchObject({ status: 'expired' });
    expect(customersWithDueRegistrations(db, iso(91), 3660)).toEqual([]);
  });

  it('keeps a redelivered registration from overwriting what followed it', () => {
    const [registered] = given('acme.co.uk', register('D1', 'P1', ['CRM']));
    given('acme.co.uk', approve('D1'));
    dealsProjection.evolve(db, registered!);
    expect(getDeal(db, 'D1')?.status).toBe('approved');
  });

  describe('listDeals', () => {
    beforeEach(() => {
      given('acme.co.uk', register('D3', 'P1', ['CRM']), register('D1', 'P2', ['CRM']), register('D5', 'P1', ['ERP']));
      given('globex.com', register('D2', 'P2', ['CRM'], 'globex.com'), register('D4', 'P1', ['CRM'], 'globex.com'), approve('D4'));
    });
    const ids = (p: { items: readonly { dealId: string }[] }) => p.items.map((d) => d.dealId);

    it.each([
      [{}, ['D1', 'D2', 'D3', 'D4', 'D5']],
      [{ partnerId: 'P1' }, ['D3', 'D4', 'D5']],
      [{ status: 'conflicted' }, ['D1']],
      [{ status: 'rejected' }, ['D2']],
      [{ customerKey: 'globex.com' }, ['D2', 'D4']],
      [{ customerKey: 'acme.co.uk', partnerId: 'P1', status: 'submitted' }, ['D3', 'D5']],
      [{ customerKey: 'unknown.example' }, []],
    ])('filters by %j', (filter, expected) => {
      expect(ids(listDeals(db, filter))).toEqual(expected);
    });

    it('pages with an opaque cursor until nextCursor is null', () => {
      const first = listDeals(db, { limit: 2 });
      expect(ids(first)).toEqual(['D1', 'D2']);
      expect(first.nextCursor).toBe(encodeCursor(['D2']));
      const second = listDeals(db, { limit: 2, cursor: first.nextCursor! });
      expect(ids(second)).toEqual(['D3', 'D4']);
      const third = listDeals(db, { limit: 2, cursor: second.nextCursor! });
      expect(ids(third)).toEqual(['D5']);
      expect(third.nextCursor).toBeNull();
    });

    it.each([[0], [1001], [1.5]])('given limit %p, then InvalidInput', (limit) => {
      expect(() => listDeals(db, { limit })).toThrow(InvalidInput);
    });

    it.each([['not a cursor!'], [Buffer.from('bad id').toString('base64url')]])('given cursor %j, then InvalidInput', (cursor) => {
      expect(() => listDeals(db, { cursor })).toThrow(InvalidInput);
    });
  });

  it('given a reset and a migrate, then the read model is empty and rebuilds from the same events', () => {
    const events = given('acme.co.uk', register('D1', 'P1', ['CRM']), approve('D1'));
    dealsProjection.reset(db);
    dealsProjection.migrate(db);
    expect(listDeals(db, {})).toEqual({ items: [], nextCursor: null });
    for (const e of events) dealsProjection.evolve(db, e);
    expect(getDeal(db, 'D1')?.status).toBe('approved');
  });
});
