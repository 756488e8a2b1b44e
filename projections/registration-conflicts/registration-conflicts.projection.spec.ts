import Database from 'better-sqlite3';
import type { RecordedEvent } from '#events/envelope.js';
import { InvalidInput } from '#libs/kernel/errors.js';
import { customerAccountDecider, customerStreamId, type DealCommand, type RegisterDeal } from '#libs/deals/customer-account.js';
import type { Timed } from '#libs/kernel/testing/decider-spec.js';
import { projectionSpec } from '../testing/projection-spec.js';
import { registrationConflictsProjection } from './registration-conflicts.projection.js';
import { getConflict, listConflicts } from './registration-conflicts.queries.js';

const T0 = new Date('2026-03-02T09:00:00.000Z');
const DAY = 86_400_000;
const iso = (days: number) => new Date(T0.getTime() + days * DAY).toISOString();

let kit: ReturnType<typeof projectionSpec>;
let db: Database.Database;

/** Decides each command against its customer's account and projects the events (the projection kit's `decided`). */
let given: (customerKey: string, ...commands: readonly Timed<DealCommand>[]) => RecordedEvent[];

const register = (dealId: string, products: string[] = ['CRM'], customer = 'acme.co.uk'): RegisterDeal => ({
  type: 'RegisterDeal',
  data: {
    dealId,
    partnerId: 'P1',
    customerKey: customer,
    customer: { name: 'C', domain: customer },
    products,
    estimatedValue: { amountMinor: 1, currency: 'USD' },
    expectedCloseDate: '2026-06-30T00:00:00.000Z',
    programVersion: 0,
    partnerStatus: 'active',
  },
});
const approve = (dealId: string): DealCommand => ({ type: 'ApproveDeal', data: { dealId, protectionDays: 90, programVersion: 0, partnerStatus: 'active', override: { reason: 'spec' } } });
const reject = (dealId: string): DealCommand => ({ type: 'RejectDeal', data: { dealId, reason: 'duplicate', reasonCode: 'duplicate' } });

beforeEach(() => {
  kit = projectionSpec(registrationConflictsProjection, { recordedAt: T0.toISOString(), streamOf: (e) => customerStreamId((e.data as { customerKey: string }).customerKey) });
  db = kit.db;
  given = kit.decided(customerAccountDecider, T0);
});
afterEach(() => kit.close());

describe('registration-conflicts projection', () => {
  it('is named registration-conflicts and ignores extensions', () => {
    expect(registrationConflictsProjection.name).toBe('registration-conflicts');
    expect(registrationConflictsProjection.canHandle).not.toContain('DealRegistrationExtended');
    expect(() => registrationConflictsProjection.migrate(db)).not.toThrow();
  });

  it('given a lone registration, then there is no conflict', () => {
    given('acme.co.uk', register('D1'));
    expect(listConflicts(db, {})).toEqual({ items: [], nextCursor: null });
  });

  it('given overlapping registrations, then one open conflict lists them in order with the contested products', () => {
    given('acme.co.uk', register('D1', ['CRM', 'ERP']), register('D2', ['ERP']), register('D3', ['ERP', 'BI']), register('D4', ['BI']));
    expect(listConflicts(db, { status: 'open' }).items).toEqual([
      { conflictId: 'D1/D2', customerKey: 'acme.co.uk', products: ['BI', 'ERP'], dealIds: ['D1', 'D2', 'D3', 'D4'], status: 'open', openedAt: T0.toISOString() },
    ]);
  });

  it('given an approval, then the conflict reads as resolved with its winner', () => {
    given('acme.co.uk', register('D1'), register('D2'), register('D3'), [approve('D3'), new Date(T0.getTime() + DAY)]);
    expect(listConflicts(db, { status: 'open' }).items).toEqual([]);
    expect(listConflicts(db, { status: 'resolved' }).items).toEqual([
      { conflictId: 'D1/D2', customerKey: 'acme.co.uk', products: ['CRM'], dealIds: ['D1', 'D2', 'D3'], status: 'resolved', winnerDealId: 'D3', openedAt: T0.toISOString(), resolvedAt: iso(1) },
    ]);
  });

  it('given a rejection that leaves one member, then resolved without a winner', () => {
    given('acme.co.uk', register('D1'), register('D2'), reject('D2'));
    expect(getConflict(db, 'D1/D2')).toMatchObject({ status: 'resolved' });
    expect(getConflict(db, 'D1/D2')).not.toHaveProperty('winnerDealId');
  });

  it('a bridging registration appears in both conflicts it joined', () => {
    given('acme.co.uk', register('A', ['X']), register('B', ['X']), register('C', ['Z']), register('D', ['Z']), register('N', ['X', 'Z']));
    expect(listConflicts(db, {}).items.map((c) => [c.conflictId, c.dealIds])).toEqual([
      ['A/B', ['A', 'B', 'N']],
      ['C/D', ['C', 'D', 'N']],
    ]);
    expect(listConflicts(db, { dealId: 'C' }).items.map((c) => c.conflictId)).toEqual(['C/D']);
  });

  it('filters by customer and pages oldest first', () => {
    given('acme.co.uk', register('A1'), register('A2'));
    given('globex.com', register('G1', ['CRM'], 'globex.com'), register('G2', ['CRM'], 'globex.com'));
    given('initech.com', register('I1', ['CRM'], 'initech.com'), register('I2', ['CRM'], 'initech.com'));
    expect(listConflicts(db, { customerKey: 'globex.com' }).items.map((c) => c.conflictId)).toEqual(['G1/G2']);
    const first = listConflicts(db, { limit: 2 });
    expect(first.items.map((c) => c.conflictId)).toEqual(['A1/A2', 'G1/G2']);
    const second = listConflicts(db, { limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((c) => c.conflictId)).toEqual(['I1/I2']);
    expect(second.nextCursor).toBeNull();
  });

  it.each<[Record<string, unknown>]>([[{ limit: 0 }], [{ status: 'closed' }], [{ cursor: 'garbage!' }]])('given %j, then InvalidInput', (filter) => {
    expect(() => listConflicts(db, filter)).toThrow(InvalidInput);
  });

  it('lists open conflicts through the status index and the covering member index, preparing each shape once', () => {
    given('acme.co.uk', register('D1'), register('D2'), register('D3'));
    const prepare = db.prepare.bind(db);
    const prepared: string[] = [];
    db.prepare = ((sql: string) => {
      prepared.push(sql);
      return prepare(sql);
    }) as typeof db.prepare;
    const first = listConflicts(db, { status: 'open' });
    expect(listConflicts(db, { status: 'open', limit: 5 })).toEqual(first);
    expect(first.items.map((c) => c.dealIds)).toEqual([['D1', 'D2', 'D3']]);
    expect(prepared).toHaveLength(1);
    db.prepare = prepare;
    const plan = db
      .prepare<Record<string, unknown>, { detail: string }>(`EXPLAIN QUERY PLAN ${prepared[0]!}`)
      .all({ status: 'open', take: 101 })
      .map((r) => r.detail);
    expect(plan).toEqual(
      expect.arrayContaining([
        expect.stringContaining('USING INDEX registration_conflicts_status (status=?)'),
        expect.stringContaining('USING COVERING INDEX registration_conflict_members_by_seq (conflict_id=?)'),
      ]),
    );
    // No sort of the page nor of any member list.
    expect(plan.join('\n')).not.toContain('TEMP B-TREE');
  });

  it('answers the same on a database of its own (statements are per connection)', () => {
    given('acme.co.uk', register('D1'), register('D2'));
    const other = new Database(':memory:');
    try {
      registrationConflictsProjection.migrate(other);
      expect(listConflicts(other, { status: 'open' }).items).toEqual([]);
      expect(listConflicts(db, { status: 'open' }).items.map((c) => c.conflictId)).toEqual(['D1/D2']);
    } finally {
      other.close();
    }
  });

  it('rebuilds from the same events after a reset', () => {
    const events = given('acme.co.uk', register('D1'), register('D2'), approve('D1'));
    registrationConflictsProjection.reset(db);
    registrationConflictsProjection.migrate(db);
    expect(listConflicts(db, {}).items).toEqual([]);
    for (const e of events) if (registrationConflictsProjection.canHandle.includes(e.type)) registrationConflictsProjection.evolve(db, e);
    expect(getConflict(db, 'D1/D2')).toMatchObject({ status: 'resolved', winnerDealId: 'D1', dealIds: ['D1', 'D2'] });
  });
});
