import type { DealEvent, DealRegistered, DealRegistrationApproved, DealRegistrationRejected } from '#events/deals.js';
import { deciderSpec, type Timed } from '#libs/kernel/testing/decider-spec.js';
import { AlreadyExists, InvalidInput, NotFound, RegistrationConflict, RuleViolation } from '#libs/kernel/errors.js';
import {
  customerAccountDecider,
  customerStreamId,
  findRegistration,
  type CustomerAccount,
  type DealCommand,
  type RegisterDeal,
} from './customer-account.js';

const T0 = new Date('2026-03-02T09:00:00.000Z');
const DAY = 86_400_000;
const at = (days: number, base: Date = T0) => new Date(base.getTime() + days * DAY);
const iso = (days: number, base: Date = T0) => at(days, base).toISOString();

const spec = deciderSpec(customerAccountDecider, T0);


/** The kit's `given` over a recorded past; `and(...events)` continues it with events decided since. */
function past(...commands: readonly Timed<DealCommand>[]) {
  const events = spec.decided(...commands);
  return { ...spec.given(...events), events, and: (...more: readonly DealEvent[]) => spec.given(...events, ...more) };
}
const statusOf = (of: CustomerAccount | { readonly state: CustomerAccount }, dealId: string) => findRegistration('state' in of ? of.state : of, dealId)?.status;

const register = (dealId: string, products: string[] = ['CRM'], over: Partial<RegisterDeal['data']> = {}): RegisterDeal => ({
  type: 'RegisterDeal',
  data: {
    dealId,
    partnerId: 'P1',
    customerKey: 'acme.co.uk',
    customer: { name: 'Acme Ltd', domain: 'https://EU.Acme.co.uk/x' },
    products,
    estimatedValue: { amountMinor: 5_000_000, currency: 'USD' },
    expectedCloseDate: '2026-06-30T00:00:00.000Z',
    programVersion: 0,
    partnerStatus: 'active',
    ...over,
  },
});
const approve = (dealId: string, protectionDays = 90, programVersion = 0, override?: string): DealCommand => ({
  type: 'ApproveDeal',
  data: { dealId, protectionDays, programVersion, partnerStatus: 'active', ...(override ? { override: { reason: override } } : {}) },
});
const reject = (dealId: string, reason = 'not a real opportunity'): DealCommand => ({ type: 'RejectDeal', data: { dealId, reason, reasonCode: 'other' } });
const extend = (dealId: string, days: number, maxExtensionDays = 60, programVersion = 0): DealCommand => ({
  type: 'ExtendDeal',
  data: { dealId, days, maxExtensionDays, programVersion, partnerStatus: 'active' },
});
const win = (dealId: string, closedAt: string, amountMinor = 4_200_000): DealCommand => ({
  type: 'WinDeal',
  data: { dealId, amount: { amountMinor, currency: 'USD' }, closedAt, partnerStatus: 'active' },
});
const lose = (dealId: string, reason = 'went with a competitor'): DealCommand => ({ type: 'LoseDeal', data: { dealId, reason } });
const expireAsOf = (asOf: string): DealCommand => ({ type: 'ExpireDeals', data: { asOf, registrationReviewDays: 3660, terminatedPartners: [], programVersion: 0 } });
/** The account of a history (or a state), which must have one. */
const opened = (of: CustomerAccount | { readonly state: CustomerAccount }) => {
  const state = 'state' in of ? of.state : of;
  if (state.status === 'new') throw new Error('expected an account with history');
  return state;
};

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal, nothing was thrown');
}

describe('customer account stream', () => {
  it('is named customer-<registrable domain>', () => {
    expect(customerStreamId('acme.co.uk')).toBe('customer-acme.co.uk');
  });
});

describe('RegisterDeal', () => {
  it('given no registration, when registered, then DealRegistered submitted, naming deal, partner and customer', () => {
    expect(past().when(register('D1', ['CRM', 'ERP'], { customer: { name: 'Acme Ltd', domain: 'www.acme.co.uk', country: 'GB' } })).events()).toEqual([
      {
        type: 'DealRegistered',
        data: {
          dealId: 'D1',
          partnerId: 'P1',
          customerKey: 'acme.co.uk',
          customer: { name: 'Acme Ltd', domain: 'www.acme.co.uk', country: 'GB' },
          products: ['CRM', 'ERP'],
          estimatedValue: { amountMinor: 5_000_000, currency: 'USD' },
          expectedCloseDate: '2026-06-30T00:00:00.000Z',
          registeredAt: T0.toISOString(),
          programVersion: 0,
          status: 'submitted',
          conflictsWith: [],
          conflicts: [],
        },
      },
    ]);
  });

  it('given a submitted registration, when an overlapping one is registered, then it is conflicted and opens a conflict named after both', () => {
    const [e] = past(register('D1', ['CRM', 'ERP'])).when(register('D2', ['ERP', 'BI'], { partnerId: 'P2' })).events() as DealRegistered[];
    expect(e!.data).toMatchObject({
      status: 'conflicted',
      conflictsWith: ['D1'],
      conflicts: [{ conflictId: 'D1/D2', opened: true, addedDealIds: ['D1', 'D2'], products: ['ERP'] }],
    });
  });

  it('the same partner registering twice overlaps too', () => {
    const [e] = past(register('D1')).when(register('D2')).events() as DealRegistered[];
    expect(e!.data.status).toBe('conflicted');
    expect(e!.data.conflictsWith).toEqual(['D1']);
  });

  it('registrations that share no product do not overlap', () => {
    const [e] = past(register('D1', ['CRM'])).when(register('D2', ['ERP'])).events() as DealRegistered[];
    expect(e!.data).toMatchObject({ status: 'submitted', conflictsWith: [], conflicts: [] });
  });

  it('a later overlapping registration joins the open conflict and names every active registration it overlaps', () => {
    const h = past(register('D1'), register('D2'));
    const [e] = h.when(register('D3')).events() as DealRegistered[];
    expect(e!.data).toMatchObject({ status: 'conflicted', conflictsWith: ['D1', 'D2'], conflicts: [{ conflictId: 'D1/D2', opened: false, addedDealIds: ['D3'], products: ['CRM'] }] });
    expect(opened(h.and(e!)).openConflicts).toEqual([{ conflictId: 'D1/D2', members: ['D1', 'D2', 'D3'], products: ['CRM'] }]);
  });

  it('first submitted, every later one conflicted: one conflict holds them all', () => {
    const h = past(...Array.from({ length: 6 }, (_, i) => register(`D${i}`, ['CRM'], { partnerId: `P${i % 3}` })));
    expect(h.events.map((e) => (e as DealRegistered).data.status)).toEqual(['submitted', 'conflicted', 'conflicted', 'conflicted', 'conflicted', 'conflicted']);
    expect(opened(h.state).openConflicts).toEqual([{ conflictId: 'D0/D1', members: ['D0', 'D1', 'D2', 'D3', 'D4', 'D5'], products: ['CRM'] }]);
  });

  it('partial overlap: a registration bridging two conflicts joins both; overlapped registrations in no conflict join the oldest', () => {
    const h = past(register('A', ['X']), register('B', ['X']), register('C', ['Z']), register('D', ['Z']), register('E', ['Y']));
    const [e] = h.when(register('N', ['X', 'Y', 'Z'])).events() as DealRegistered[];
    expect(e!.data.conflictsWith).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(e!.data.conflicts).toEqual([
      { conflictId: 'A/B', opened: false, addedDealIds: ['E', 'N'], products: ['X', 'Y'] },
      { conflictId: 'C/D', opened: false, addedDealIds: ['N'], products: ['Z'] },
    ]);
  });

  it('ignores registrations that are no longer active: rejected, expired, won and lost ones do not overlap', () => {
    const h = past(
      register('R'),
      reject('R'),
      register('E'),
      [approve('E'), T0],
      [expireAsOf(iso(91)), at(91)],
      register('W', ['CRM']),
      approve('W'),
      win('W', iso(1)),
      register('L'),
      lose('L'),
    );
    const [e] = h.when(register('NEW')).events() as DealRegistered[];
    expect(e!.data).toMatchObject({ status: 'submitted', conflictsWith: [] });
  });

  it('given a deal id in the account, when registered again, then AlreadyExists (never an overwrite)', () => {
    const h = past(register('D1'), reject('D1'));
    expect(() => h.when(register('D1', ['Other'])).events()).toThrow(AlreadyExists);
  });

  it.each<[string, Partial<RegisterDeal['data']>, string]>([
    ['an invalid dealId', { dealId: '-bad' }, 'dealId'],
    ['an invalid partnerId', { partnerId: 'bad id' }, 'partnerId'],
    ['a customerKey that is not normalized', { customerKey: 'www.acme.co.uk' }, 'customer.domain'],
    ['a domain of another customer', { customer: { name: 'x', domain: 'globex.com' } }, 'customer.domain'],
    ['an empty customer name', { customer: { name: ' ', domain: 'acme.co.uk' } }, 'customer.name'],
    ['no products', { products: [] }, 'products'],
    ['51 products', { products: Array.from({ length: 51 }, (_, i) => `P${i}`) }, 'products'],
    ['a product code with spaces', { products: ['CRM suite'] }, 'products'],
    ['duplicate products', { products: ['CRM', 'CRM'] }, 'products'],
    ['a float amount', { estimatedValue: { amountMinor: 1.5, currency: 'USD' } }, 'estimatedValue'],
    ['an unknown currency', { estimatedValue: { amountMinor: 1, currency: 'ABC' } }, 'estimatedValue'],
    ['a non-canonical date', { expectedCloseDate: '2026-06-30' }, 'expectedCloseDate'],
  ])('given %s, then InvalidInput naming the field', (_what, over, path) => {
    const e = thrown(() => past().when(register('D1', ['CRM'], over)).events());
    expect(e).toBeInstanceOf(InvalidInput);
    expect((e as InvalidInput).errors.map((x) => x.path)).toContain(path);
  });

  it('refuses a registration of another customer in this account', () => {
    const h = past(register('D1'));
    expect(() => h.when(register('D2', ['CRM'], { customerKey: 'globex.com', customer: { name: 'G', domain: 'globex.com' } })).events()).toThrow(InvalidInput);
  });
});

describe('ApproveDeal', () => {
  it('given a submitted registration, when approved, then protection until approvedAt + protectionDays with the program version', () => {
    const h = past(register('D1'));
    expect(h.when(approve('D1', 90, 3)).events()).toEqual([
      {
        type: 'DealRegistrationApproved',
        data: {
          dealId: 'D1',
          partnerId: 'P1',
          customerKey: 'acme.co.uk',
          products: ['CRM'],
          approvedAt: T0.toISOString(),
          protectedUntil: iso(90),
          protectionDays: 90,
          programVersion: 3,
          rejectedDealIds: [],
          resolvedConflicts: [],
        },
      },
    ]);
  });

  it('approving one registration of a conflict rejects the other active overlapping ones in the same decision and resolves the conflict', () => {
    const h = past(register('D1'), register('D2', ['CRM'], { partnerId: 'P2' }), register('D3', ['CRM'], { partnerId: 'P3' }));
    // D1 registered first and is still pending: approving D2 sets it aside only with a recorded override.
    const events = h.when(approve('D2', 90, 0, 'the customer chose P2')).events();
    expect(events.map((e) => [e.type, (e.data as { dealId: string }).dealId])).toEqual([
      ['DealRegistrationApproved', 'D2'],
      ['DealRegistrationRejected', 'D1'],
      ['DealRegistrationRejected', 'D3'],
    ]);
    expect((events[0] as DealRegistrationApproved).data).toMatchObject({
      rejectedDealIds: ['D1', 'D3'],
      resolvedConflicts: [{ conflictId: 'D1/D2', winnerDealId: 'D2' }],
      precedenceOverride: { reason: 'the customer chose P2', earlierDealIds: ['D1'] },
    });
    expect((events[1] as DealRegistrationRejected).data).toMatchObject({ reason: 'conflict-lost', winnerDealId: 'D2', partnerId: 'P1', customerKey: 'acme.co.uk' });
    const after = h.and(...events);
    expect([statusOf(after, 'D1'), statusOf(after, 'D2'), statusOf(after, 'D3')]).toEqual(['rejected', 'approved', 'rejected']);
    expect(opened(after).openConflicts).toEqual([]);
  });

  it('given an approved active registration, when an overlapping one is approved, then RegistrationConflict naming the holder', () => {
    const h = past(register('D1'), approve('D1'), register('D2', ['CRM', 'ERP']));
    const e = thrown(() => h.when(approve('D2')).events());
    expect(e).toBeInstanceOf(RegistrationConflict);
    expect((e as RegistrationConflict).extensions).toMatchObject({ conflictsWith: ['D1'] });
  });

  it('given a registration that lost to an approval, when approved, then 422 registration-not-active naming its status', () => {
    const h = past(register('D1'), register('D2'), approve('D1'));
    expect(statusOf(h.state, 'D2')).toBe('rejected');
    const e = thrown(() => h.when(approve('D2')).events());
    expect(e).toBeInstanceOf(RuleViolation);
    expect(e).toMatchObject({ rule: 'registration-not-active', extensions: { dealId: 'D2', currentStatus: 'rejected' } });
  });

  it('partial overlap: only registrations sharing a product with the approved one are rejected', () => {
    const h = past(register('A', ['X']), register('B', ['X', 'Y']), register('C', ['Y']));
    const events = h.when(approve('A')).events();
    expect(events.map((e) => (e.data as { dealId: string }).dealId)).toEqual(['A', 'B']);
    // B's rejection leaves A and C without an overlap: the conflict is resolved, C stays active.
    expect((events[0] as DealRegistrationApproved).data.resolvedConflicts).toEqual([{ conflictId: 'A/B', winnerDealId: 'A' }]);
    const after = h.and(...events);
    expect(statusOf(after, 'C')).toBe('conflicted');
    expect(after.when(approve('C')).events()[0]!.type).toBe('DealRegistrationApproved');
  });

  it('partial overlap: a conflict stays open while two of its active members still overlap', () => {
    const h = past(register('A', ['X']), register('B', ['X', 'Y']), register('C', ['Y']), register('D', ['Y']));
    const first = h.when(approve('A')).events();
    expect((first[0] as DealRegistrationApproved).data.resolvedConflicts).toEqual([]);
    const afterA = h.and(...first);
    expect(opened(afterA).openConflicts.map((c) => c.conflictId)).toEqual(['A/B']);
    const second = afterA.when(approve('C')).events();
    expect((second[0] as DealRegistrationApproved).data).toMatchObject({ rejectedDealIds: ['D'], resolvedConflicts: [{ conflictId: 'A/B', winnerDealId: 'C' }] });
  });

  it('a registration bridging two conflicts wins both when approved', () => {
    const h = past(register('A', ['X']), register('B', ['X']), register('C', ['Z']), register('D', ['Z']), register('N', ['X', 'Z']));
    const events = h.when(approve('N', 90, 0, 'N covers both')).events();
    expect((events[0] as DealRegistrationApproved).data.resolvedConflicts).toEqual([
      { conflictId: 'A/B', winnerDealId: 'N' },
      { conflictId: 'C/D', winnerDealId: 'N' },
    ]);
  });

  it.each<[string, DealCommand[]]>([
    ['approved', [approve('D1')]],
    ['rejected', [reject('D1')]],
    ['lost', [lose('D1')]],
  ])('given a %s registration, when approved, then RuleViolation', (_status, history) => {
    const h = past(register('D1'), ...history);
    expect(() => h.when(approve('D1')).events()).toThrow(RuleViolation);
  });

  it('given an unknown deal, when approved, then NotFound', () => {
    expect(() => past(register('D1')).when(approve('NOPE')).events()).toThrow(NotFound);
  });

  it('given a program without a valid protection, then RuleViolation', () => {
    expect(() => past(register('D1')).when(approve('D1', 0)).events()).toThrow(RuleViolation);
  });
});

describe('RejectDeal', () => {
  it('given a conflicted pair, when one is rejected, then the conflict is resolved without a winner', () => {
    const h = past(register('D1'), register('D2'));
    const events = h.when(reject('D2', 'duplicate')).events();
    expect(events).toEqual([
      {
        type: 'DealRegistrationRejected',
        data: { dealId: 'D2', partnerId: 'P1', customerKey: 'acme.co.uk', reason: 'duplicate', reasonCode: 'other', rejectedAt: T0.toISOString(), resolvedConflicts: [{ conflictId: 'D1/D2' }] },
      },
    ]);
    expect(statusOf(h.and(...events), 'D1')).toBe('submitted');
  });

  it('given a conflict with an approved holder, when the newcomer is rejected, then the holder is the winner', () => {
    const h = past(register('D1'), approve('D1'), register('D2'));
    const [e] = h.when(reject('D2')).events() as DealRegistrationRejected[];
    expect(e!.data.resolvedConflicts).toEqual([{ conflictId: 'D1/D2', winnerDealId: 'D1' }]);
  });

  it.each<[string, DealCommand[]]>([
    ['approved', [approve('D1')]],
    ['rejected', [reject('D1')]],
  ])('given a %s registration, when rejected, then RuleViolation', (_status, history) => {
    expect(() => past(register('D1'), ...history).when(reject('D1')).events()).toThrow(RuleViolation);
  });

  it('refuses an empty reason', () => {
    expect(() => past(register('D1')).when(reject('D1', ' ')).events()).toThrow(InvalidInput);
  });
});

describe('ExtendDeal', () => {
  it('given an approved registration, when extended within policy, then protection moves by the days', () => {
    const h = past(register('D1'), approve('D1'));
    expect(h.when(extend('D1', 60, 60, 2), at(10)).events()).toEqual([
      {
        type: 'DealRegistrationExtended',
        data: {
          dealId: 'D1',
          partnerId: 'P1',
          customerKey: 'acme.co.uk',
          days: 60,
          previousProtectedUntil: iso(90),
          protectedUntil: iso(150),
          maxExtensionDays: 60,
          programVersion: 2,
          extendedAt: iso(10),
        },
      },
    ]);
  });

  it('given an extended registration, when extended again, then RuleViolation: one extension per registration', () => {
    const h = past(register('D1'), approve('D1'), extend('D1', 10));
    expect(() => h.when(extend('D1', 1)).events()).toThrow(RuleViolation);
    expect(() => h.when(extend('D1', 1)).events()).toThrow(/one extension/);
  });

  it('beyond maxExtensionDays, then RuleViolation', () => {
    const h = past(register('D1'), approve('D1'));
    expect(() => h.when(extend('D1', 61, 60)).events()).toThrow(RuleViolation);
    expect(() => h.when(extend('D1', 1, 0)).events()).toThrow(RuleViolation);
  });

  it.each<[string, DealCommand[]]>([
    ['submitted', []],
    ['won', [approve('D1'), win('D1', iso(1))]],
    ['expired', [approve('D1'), expireAsOf(iso(100))]],
  ])('given a %s registration, when extended, then RuleViolation', (_status, history) => {
    expect(() => past(register('D1'), ...history).when(extend('D1', 10)).events()).toThrow(RuleViolation);
  });

  it('refuses a non-positive number of days', () => {
    expect(() => past(register('D1'), approve('D1')).when(extend('D1', 0)).events()).toThrow(InvalidInput);
  });
});

describe('WinDeal', () => {
  it('given an approved registration, when won within protection, then DealWon with amount and closedAt', () => {
    const h = past(register('D1'), approve('D1'));
    expect(h.when(win('D1', iso(90)), at(200)).events()).toEqual([
      {
        type: 'DealWon',
        data: {
          dealId: 'D1',
          partnerId: 'P1',
          customerKey: 'acme.co.uk',
          products: ['CRM'],
          amount: { amountMinor: 4_200_000, currency: 'USD' },
          closedAt: iso(90),
          protectedUntil: iso(90),
          wonAt: iso(200),
          resolvedConflicts: [],
        },
      },
    ]);
  });

  it('given a close after protectedUntil, then RuleViolation', () => {
    const h = past(register('D1'), approve('D1'));
    expect(() => h.when(win('D1', new Date(at(90).getTime() + 1).toISOString())).events()).toThrow(RuleViolation);
  });

  it('counts the extension as protection', () => {
    const h = past(register('D1'), approve('D1'), extend('D1', 30));
    expect(h.when(win('D1', iso(120))).events()[0]!.type).toBe('DealWon');
  });

  it.each<[string, DealCommand[]]>([
    ['submitted', []],
    ['conflicted', []],
    ['rejected', [reject('D1')]],
    ['expired', [approve('D1'), expireAsOf(iso(91))]],
    ['won', [approve('D1'), win('D1', iso(1))]],
    ['lost', [approve('D1'), lose('D1')]],
  ])('given a %s registration, when won, then RuleViolation', (status, history) => {
    const h = status === 'conflicted' ? past(register('D0'), register('D1')) : past(register('D1'), ...history);
    expect(() => h.when(win('D1', iso(1))).events()).toThrow(RuleViolation);
  });

  it('refuses invalid money', () => {
    const h = past(register('D1'), approve('D1'));
    expect(() => h.when({ type: 'WinDeal', data: { dealId: 'D1', amount: { amountMinor: -1, currency: 'USD' }, closedAt: iso(1), partnerStatus: 'active' } }).events()).toThrow(InvalidInput);
  });

  it('given a won holder of a conflict, then the conflict resolves with it as winner', () => {
    const h = past(register('D1'), approve('D1'), register('D2'));
    expect(h.when(win('D1', iso(1))).events()[0]!.data).toMatchObject({ resolvedConflicts: [{ conflictId: 'D1/D2', winnerDealId: 'D1' }] });
  });
});

describe('LoseDeal', () => {
  it.each<[string, DealCommand[]]>([
    ['submitted', []],
    ['approved', [approve('D1')]],
  ])('given a %s registration, when lost, then DealLost ends it', (_status, history) => {
    const h = past(register('D1'), ...history);
    const events = h.when(lose('D1', 'budget cut')).events();
    expect(events).toEqual([
      { type: 'DealLost', data: { dealId: 'D1', partnerId: 'P1', customerKey: 'acme.co.uk', reason: 'budget cut', lostAt: T0.toISOString(), resolvedConflicts: [] } },
    ]);
    expect(statusOf(h.and(...events), 'D1')).toBe('lost');
  });

  it('given a conflicted registration, when lost, then it ends and the conflict resolves', () => {
    const h = past(register('D1'), register('D2'));
    expect(h.when(lose('D2')).events()[0]!.data).toMatchObject({ resolvedConflicts: [{ conflictId: 'D1/D2' }] });
  });

  it.each<[string, DealCommand[]]>([
    ['rejected', [reject('D1')]],
    ['lost', [lose('D1')]],
    ['won', [approve('D1'), win('D1', iso(1))]],
    ['expired', [approve('D1'), expireAsOf(iso(91))]],
  ])('given a %s registration, when lost, then RuleViolation', (_status, history) => {
    expect(() => past(register('D1'), ...history).when(lose('D1')).events()).toThrow(RuleViolation);
  });
});

describe('ExpireDeals', () => {
  const approvedD1 = () => past(register('D1'), approve('D1'));

  it('does not expire at protectedUntil itself', () => {
    expect(approvedD1().when(expireAsOf(iso(90))).events()).toEqual([]);
  });

  it('expires exactly after protectedUntil', () => {
    const asOf = new Date(at(90).getTime() + 1).toISOString();
    expect(approvedD1().when(expireAsOf(asOf), at(95)).events()).toEqual([
      {
        type: 'DealRegistrationExpired',
        data: { dealId: 'D1', partnerId: 'P1', customerKey: 'acme.co.uk', products: ['CRM'], protectedUntil: iso(90), asOf, expiredAt: iso(95), reason: 'protection-ended', programVersion: 0, resolvedConflicts: [] },
      },
    ]);
  });

  it('uses the extended protection', () => {
    const h = past(register('D1'), approve('D1'), extend('D1', 30));
    expect(h.when(expireAsOf(iso(100))).events()).toEqual([]);
    expect(h.when(expireAsOf(iso(121))).events()).toHaveLength(1);
  });

  it('leaves submitted, conflicted, won and lost registrations alone and expires only the due ones', () => {
    const h = past(
      register('S', ['A']),
      register('W', ['B']),
      approve('W'),
      win('W', iso(1)),
      register('L', ['C']),
      approve('L'),
      lose('L'),
      register('E1', ['D']),
      approve('E1'),
      [register('E2', ['E']), at(30)],
      [approve('E2'), at(30)],
    );
    expect(h.when(expireAsOf(iso(100))).events().map((e) => (e.data as { dealId: string }).dealId)).toEqual(['E1']);
    expect(h.when(expireAsOf(iso(200))).events().map((e) => (e.data as { dealId: string }).dealId)).toEqual(['E1', 'E2']);
  });

  it('an expired holder resolves its open conflict, and its customer + product can be registered again', () => {
    const h = past(register('D1'), approve('D1'), register('D2'));
    const events = h.when(expireAsOf(iso(91))).events();
    expect(events[0]!.data).toMatchObject({ resolvedConflicts: [{ conflictId: 'D1/D2', winnerDealId: 'D1' }] });
    const after = h.and(...events);
    // D2 is still active (conflicted, now uncontested) and may be approved; a newcomer overlaps only D2.
    expect(after.when(approve('D2')).events()[0]!.type).toBe('DealRegistrationApproved');
    expect((after.when(register('D3')).events()[0] as DealRegistered).data.conflictsWith).toEqual(['D2']);
  });

  it('refuses an asOf that is not an instant', () => {
    expect(() => approvedD1().when(expireAsOf('soon')).events()).toThrow(InvalidInput);
  });
});

describe('re-registration', () => {
  it.each<[string, DealCommand[]]>([
    ['expiry', [approve('D1'), expireAsOf(iso(91))]],
    ['rejection', [reject('D1')]],
    ['loss', [lose('D1')]],
  ])('after %s, the same customer + product registers as submitted again', (_how, history) => {
    const h = past(register('D1'), ...history);
    const [e] = h.when(register('D2')).events() as DealRegistered[];
    expect(e!.data).toMatchObject({ status: 'submitted', conflictsWith: [], conflicts: [] });
    expect(h.and(e!).when(approve('D2')).events()[0]!.type).toBe('DealRegistrationApproved');
  });

  it('a new conflict with a reused holder gets a new id', () => {
    const h = past(register('D1'), register('D2'), approve('D1'), register('D3'));
    expect(opened(h.state).openConflicts).toEqual([{ conflictId: 'D1/D3', members: ['D1', 'D3'], products: ['CRM'] }]);
  });
});

describe('evolve', () => {
  it('is total: events for unknown deals and repeated registrations are ignored', () => {
    const h = past(register('D1'));
    const again = h.and(h.events[0]!, { type: 'DealLost', data: { dealId: 'NOPE', partnerId: 'P', customerKey: 'acme.co.uk', reason: 'x', lostAt: iso(0), resolvedConflicts: [] } });
    expect(opened(again).registrations).toHaveLength(1);
    expect(again.state.seq).toBe(3);
  });
});
