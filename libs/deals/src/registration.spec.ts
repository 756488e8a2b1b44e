import type { DealIdClaimed } from '#events/deals.js';
import { AlreadyExists, InvalidInput, RegistrationConflict, RuleViolation } from '#libs/kernel/errors.js';
import { deciderSpec, recorded } from '#libs/kernel/testing/decider-spec.js';
import { DEFAULT_PROGRAM } from '#libs/program/program.js';
import { customerAccountDecider } from './customer-account.js';
import {
  ABANDONED_DEAL_CLAIM_AFTER_MS,
  aliasedTo,
  claimDealId,
  claimHolderKey,
  customerKeyOf,
  dealIdClaimDecider,
  dealIdStreamId,
  dealRegistrationPolicy,
  decidingAccount,
  foldDealIdClaims,
  registerDeal,
  takeDealSlot,
  type DealIdHolder,
  type RegistrationRequest,
} from './registration.js';

const T0 = new Date('2026-03-02T09:00:00.000Z');
const accounts = deciderSpec(customerAccountDecider, T0);
const policy = { ...dealRegistrationPolicy(DEFAULT_PROGRAM), programVersion: 3, productFamilies: { suite: ['CRM', 'ERP'] } };
const request: RegistrationRequest = {
  dealId: 'D1',
  partnerId: 'P1',
  customer: { name: 'Acme', domain: 'www.acme.co.uk' },
  products: ['CRM'],
  estimatedValue: { amountMinor: 100, currency: 'GBP' },
  expectedCloseDate: '2026-06-01T00:00:00.000Z',
};

describe('deal registration steps', () => {
  it('fold the named domain to its registrable domain, or refuse naming the field', () => {
    expect(customerKeyOf('www.Acme.co.uk', 'customer.domain')).toBe('acme.co.uk');
    expect(() => customerKeyOf('co.uk', 'customer.domain')).toThrow(InvalidInput);
  });

  it('decide on the named account, or on its primary when it is an alias', () => {
    expect(decidingAccount('acme.co.uk', accounts.given().state)).toBe('acme.co.uk');
    const aliased = accounts.given().when({ type: 'BecomeAlias', data: { customerKey: 'acme.com', domain: 'acme.co.uk' } }).events();
    expect(decidingAccount('acme.co.uk', accounts.given(...aliased).state)).toBe('acme.com');
  });

  it('give the account the policy in force and the partner status, naming the alias it came through', () => {
    expect(registerDeal(request, 'acme.co.uk', 'acme.com', policy, 'active')).toEqual({
      type: 'RegisterDeal',
      data: { ...request, customerKey: 'acme.com', viaAlias: 'acme.co.uk', programVersion: 3, productFamilies: policy.productFamilies, partnerStatus: 'active' },
    });
    expect(registerDeal(request, 'acme.co.uk', 'acme.co.uk', policy, 'suspended').data).not.toHaveProperty('viaAlias');
  });

  it('retry once on the primary only when the account became an alias meanwhile', () => {
    const aliased = new RegistrationConflict('acme.co.uk is an alias of acme.com', { customerKey: 'acme.com', aliasOf: 'acme.com' }, [], 'customer-aliased');
    expect(aliasedTo(aliased, 'acme.co.uk')).toBe('acme.com');
    expect(aliasedTo(aliased, 'acme.com')).toBeUndefined();
    expect(aliasedTo(new RuleViolation('no', {}, [], 'partner-not-active'), 'acme.co.uk')).toBeUndefined();
    expect(aliasedTo(new Error('boom'), 'acme.co.uk')).toBeUndefined();
  });

  it('read the holder account only for a claim held for another customer', () => {
    const held = foldDealIdClaims([recorded({ type: 'DealIdClaimed', data: { dealId: 'D1', partnerId: 'P2', customerKey: 'globex.com' } }, '2026-03-02T08:59:00.000Z')]);
    expect(claimHolderKey(foldDealIdClaims([]), 'acme.co.uk')).toBeUndefined();
    expect(claimHolderKey(held, 'globex.com')).toBeUndefined();
    expect(claimHolderKey(held, 'acme.co.uk')).toBe('globex.com');
    expect(claimDealId(request, 'acme.co.uk', held, accounts.given().state, T0)).toEqual({ dealId: 'D1', partnerId: 'P1', customerKey: 'acme.co.uk', holder: { registered: false, claimedAgoMs: 60_000 } });
  });

  it('take a capacity slot freeing the held slots whose registrations ended', () => {
    const slots = { held: [{ dealId: 'D0', takenAt: '2026-03-01T00:00:00.000Z' }, { dealId: 'D9', takenAt: '2026-03-01T00:00:00.000Z' }, { dealId: 'D8', takenAt: '2026-03-01T00:00:00.000Z' }] };
    const statusOf = new Map([['D0', 'lost'], ['D9', 'approved'], ['D8', undefined]]);
    expect(takeDealSlot(slots, request, 'acme.co.uk', { maxOpenRegistrations: 2, programVersion: 3 }, statusOf, T0)).toEqual({
      partnerId: 'P1', dealId: 'D1', customerKey: 'acme.co.uk', maxOpenRegistrations: 2, programVersion: 3, ended: ['D0', 'D8'],
    });
  });
});

const claims = deciderSpec(dealIdClaimDecider, new Date('2026-03-02T09:01:00.000Z'));

/** A claim as read from the store: the decider's evolve takes its record time. */
const claimed = (customerKey: string, recordedAt = '2026-03-02T09:00:00.000Z', partnerId = 'P1') =>
  recorded<DealIdClaimed>({ type: 'DealIdClaimed', data: { dealId: 'D1', partnerId, customerKey } }, recordedAt);
const claim = (holder: DealIdHolder, customerKey = 'acme.co.uk') => ({ dealId: 'D1', partnerId: 'P2', customerKey, holder });
const fresh: DealIdHolder = { registered: false, claimedAgoMs: 10 };
const p2Claims: DealIdClaimed = { type: 'DealIdClaimed', data: { dealId: 'D1', partnerId: 'P2', customerKey: 'acme.co.uk' } };

describe('deal id claims', () => {
  it('live in dealid-<dealId>', () => {
    expect(dealIdStreamId('D1')).toBe('dealid-D1');
  });

  it('given no claim, when claimed, then DealIdClaimed naming the customer', () => {
    claims.given().when(claim(fresh)).then([p2Claims]);
  });

  it('given a claim for the same customer, then nothing to append: the customer stream decides', () => {
    claims.given(claimed('acme.co.uk')).when(claim({ registered: true, claimedAgoMs: 10 })).then([]);
  });

  it('given a registered claim for another customer, then AlreadyExists', () => {
    claims.given(claimed('globex.com')).when(claim({ registered: true, claimedAgoMs: 10 * ABANDONED_DEAL_CLAIM_AFTER_MS })).thenThrows(AlreadyExists, { extensions: { dealId: 'D1' } });
  });

  it('given a young claim for another customer without its registration (in flight), then AlreadyExists', () => {
    claims.given(claimed('globex.com')).when(claim(fresh)).thenThrows(AlreadyExists);
  });

  it('given an abandoned claim for another customer, then it is taken over', () => {
    claims.given(claimed('globex.com')).when(claim({ registered: false, claimedAgoMs: ABANDONED_DEAL_CLAIM_AFTER_MS + 1 })).then([p2Claims]);
  });

  it('the latest claim wins, with its record time', () => {
    expect(claims.given(claimed('globex.com'), claimed('acme.co.uk', '2026-03-03T00:00:00.000Z')).state).toEqual({
      status: 'claimed',
      dealId: 'D1',
      partnerId: 'P1',
      customerKey: 'acme.co.uk',
      claimedAt: '2026-03-03T00:00:00.000Z',
    });
  });

  it('folds a stream as read from the store, skipping other types', () => {
    expect(foldDealIdClaims([claimed('globex.com'), recorded({ type: 'SomethingElse', data: {} }, '2026-03-04T00:00:00.000Z', 2n)])).toEqual(
      claims.given(claimed('globex.com')).state,
    );
  });
});
