import type { PartnerEvent, SellerCertified } from '#events/partners.js';
import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import { AlreadyExists, InvalidInput, NotFound, RuleViolation, SellerHeldByAnotherPartner } from '#libs/kernel/errors.js';
import { decideSellerClaim, holderStillHolds } from './seller-claim.js';
import { DEFAULT_PROGRAM, lowestTier } from '#libs/program/program.js';
import {
  certifiedSellersAt,
  partnerDecider,
  partnerStreamId,
  type CertifySeller,
  type EnrollPartner,
  type PartnerCommand,
} from './partner.js';

const NOW = new Date('2026-03-31T12:00:00.000Z');
const T0 = '2026-01-01T09:00:00.000Z';

const spec = deciderSpec(partnerDecider, NOW);
const given = (...events: PartnerEvent[]) => spec.given(...events);

const enrollCommand = (over: Partial<EnrollPartner['data']> = {}): EnrollPartner => ({
  type: 'EnrollPartner',
  data: {
    partnerId: 'P1',
    name: 'Acme Resellers',
    type: 'reseller',
    domain: 'acme.com',
    tier: lowestTier(DEFAULT_PROGRAM).name,
    programVersion: 0,
    ...over,
  },
});

const enrolled: PartnerEvent = {
  type: 'PartnerEnrolled',
  data: { partnerId: 'P1', name: 'Acme Resellers', type: 'reseller', domain: 'acme.com', tier: 'Registered', programVersion: 0, enrolledAt: T0 },
};
const activated: PartnerEvent = { type: 'PartnerActivated', data: { partnerId: 'P1', activatedAt: T0 } };
const suspended: PartnerEvent = { type: 'PartnerSuspended', data: { partnerId: 'P1', reason: 'late payments', suspendedAt: T0 } };
const reinstated: PartnerEvent = { type: 'PartnerReinstated', data: { partnerId: 'P1', reinstatedAt: T0 } };
const terminated: PartnerEvent = { type: 'PartnerTerminated', data: { partnerId: 'P1', reason: 'contract ended', terminatedAt: T0 } };
const certified = (sellerId: string, earnedAt: string, expiresAt?: string, certification = 'Sales Pro'): SellerCertified => ({
  type: 'SellerCertified',
  data: { partnerId: 'P1', sellerId, certification, earnedAt, ...(expiresAt ? { expiresAt } : {}) },
});

const activate: PartnerCommand = { type: 'ActivatePartner', data: { partnerId: 'P1' } };
const suspend: PartnerCommand = { type: 'SuspendPartner', data: { partnerId: 'P1', reason: 'late payments' } };
const reinstate: PartnerCommand = { type: 'ReinstatePartner', data: { partnerId: 'P1' } };
const terminate: PartnerCommand = { type: 'TerminatePartner', data: { partnerId: 'P1', reason: 'contract ended' } };
const certify = (over: Partial<CertifySeller['data']> = {}): CertifySeller => ({
  type: 'CertifySeller',
  data: { partnerId: 'P1', sellerId: 'S1', certification: 'Sales Pro', earnedAt: '2026-01-15', ...over },
});

describe('partner stream', () => {
  it('is named partner-<partnerId>', () => {
    expect(partnerStreamId('P1')).toBe('partner-P1');
  });
});

describe('EnrollPartner', () => {
  it('given no partner, when enrolled, then PartnerEnrolled at the lowest tier, stamped with now', () => {
    expect(given().when(enrollCommand({ country: 'GB' })).events()).toEqual([
      {
        type: 'PartnerEnrolled',
        data: {
          partnerId: 'P1',
          name: 'Acme Resellers',
          type: 'reseller',
          domain: 'acme.com',
          country: 'GB',
          tier: 'Registered',
          programVersion: 0,
          enrolledAt: '2026-03-31T12:00:00.000Z',
        },
      },
    ]);
  });

  it('leaves country out of the event when not given (JSON has no undefined)', () => {
    const [e] = given().when(enrollCommand()).events();
    expect(Object.keys(e!.data)).not.toContain('country');
  });

  it('then the partner is pending', () => {
    expect(given(...given().when(enrollCommand()).events()).state).toMatchObject({ status: 'pending', partnerId: 'P1', domain: 'acme.com', tier: 'Registered' });
  });

  it('given an enrolled partner, when enrolled again, then AlreadyExists', () => {
    expect(() => given(enrolled).when(enrollCommand()).events()).toThrow(AlreadyExists);
    expect(() => given(enrolled).when(enrollCommand()).events()).toThrow('partner P1 already exists');
  });

  it('given a terminated partner, when its id is enrolled again, then AlreadyExists (ids are never reused)', () => {
    expect(() => given(enrolled, terminated).when(enrollCommand()).events()).toThrow(AlreadyExists);
  });

  it.each([
    ['a domain that is not normalized', { domain: 'www.Acme.com' }, 'domain'],
    ['a bare public suffix', { domain: 'co.uk' }, 'domain'],
    ['an invalid partnerId', { partnerId: '-bad id' }, 'partnerId'],
    ['an empty name', { name: '  ' }, 'name'],
    ['a name over 500 characters', { name: 'x'.repeat(501) }, 'name'],
    ['an unknown type', { type: 'franchise' as never }, 'type'],
    ['a negative program version', { programVersion: -1 }, 'programVersion'],
  ])('given no partner, when enrolled with %s, then InvalidInput', (_what, over, path) => {
    const act = () => given().when(enrollCommand(over)).events();
    expect(act).toThrow(InvalidInput);
    expect(act).toThrow(expect.objectContaining({ errors: [expect.objectContaining({ path })] }));
  });
});

describe('lifecycle', () => {
  it('given a pending partner, when activated, then PartnerActivated and it is active', () => {
    const events = given(enrolled).when(activate).events();
    expect(events).toEqual([{ type: 'PartnerActivated', data: { partnerId: 'P1', activatedAt: NOW.toISOString() } }]);
    expect(given(enrolled, ...events).state.status).toBe('active');
  });

  it('given an active partner, when suspended, then PartnerSuspended with the reason and it is suspended', () => {
    const events = given(enrolled, activated).when(suspend).events();
    expect(events).toEqual([{ type: 'PartnerSuspended', data: { partnerId: 'P1', reason: 'late payments', suspendedAt: NOW.toISOString() } }]);
    expect(given(enrolled, activated, ...events).state.status).toBe('suspended');
  });

  it('given a suspended partner, when reinstated, then PartnerReinstated and it is active again', () => {
    const events = given(enrolled, activated, suspended).when(reinstate).events();
    expect(events).toEqual([{ type: 'PartnerReinstated', data: { partnerId: 'P1', reinstatedAt: NOW.toISOString() } }]);
    expect(given(enrolled, activated, suspended, ...events).state.status).toBe('active');
  });

  it('given a suspended partner, when reinstated with a reason, then the reason is recorded', () => {
    const events = given(enrolled, activated, suspended).when({ type: 'ReinstatePartner', data: { partnerId: 'P1', reason: 'paid up' } }).events();
    expect(events).toEqual([{ type: 'PartnerReinstated', data: { partnerId: 'P1', reason: 'paid up', reinstatedAt: NOW.toISOString() } }]);
  });

  it('suspension and reinstatement can alternate', () => {
    expect(given(enrolled, activated, suspended, reinstated, suspended, reinstated).state.status).toBe('active');
  });

  it.each([
    ['pending', [enrolled]],
    ['active', [enrolled, activated]],
    ['suspended', [enrolled, activated, suspended]],
  ])('given a %s partner, when terminated, then PartnerTerminated and it is terminated', (_status, history) => {
    const events = given(...history).when(terminate).events();
    expect(events).toEqual([{ type: 'PartnerTerminated', data: { partnerId: 'P1', reason: 'contract ended', terminatedAt: NOW.toISOString() } }]);
    expect(given(...history, ...events).state.status).toBe('terminated');
  });

  it.each<[string, PartnerCommand, PartnerEvent[], string]>([
    ['activate an active', activate, [enrolled, activated], 'cannot activate partner P1: it is active'],
    ['activate a suspended', activate, [enrolled, activated, suspended], 'cannot activate partner P1: it is suspended'],
    ['activate a terminated', activate, [enrolled, terminated], 'cannot activate partner P1: it is terminated'],
    ['suspend a pending', suspend, [enrolled], 'cannot suspend partner P1: it is pending'],
    ['suspend a suspended', suspend, [enrolled, activated, suspended], 'cannot suspend partner P1: it is suspended'],
    ['suspend a terminated', suspend, [enrolled, activated, terminated], 'cannot suspend partner P1: it is terminated'],
    ['reinstate a pending', reinstate, [enrolled], 'cannot reinstate partner P1: it is pending'],
    ['reinstate an active', reinstate, [enrolled, activated], 'cannot reinstate partner P1: it is active'],
    ['reinstate a terminated', reinstate, [enrolled, activated, suspended, terminated], 'cannot reinstate partner P1: it is terminated'],
    ['terminate a terminated', terminate, [enrolled, terminated], 'cannot terminate partner P1: it is terminated'],
  ])('when asked to %s partner, then RuleViolation naming the status', (_what, command, history, message) => {
    const act = () => given(...history).when(command).events();
    expect(act).toThrow(RuleViolation);
    expect(act).toThrow(message);
  });

  it.each<[string, PartnerCommand]>([
    ['activate', activate],
    ['suspend', suspend],
    ['reinstate', reinstate],
    ['terminate', terminate],
    ['certify', certify()],
  ])('given no partner, when asked to %s, then NotFound', (_what, command) => {
    const act = () => given().when(command).events();
    expect(act).toThrow(NotFound);
    expect(act).toThrow('partner P1 not found');
  });

  it.each<[string, PartnerCommand, PartnerEvent[]]>([
    ['suspend without a reason', { type: 'SuspendPartner', data: { partnerId: 'P1', reason: '' } }, [enrolled, activated]],
    ['terminate without a reason', { type: 'TerminatePartner', data: { partnerId: 'P1', reason: ' ' } }, [enrolled]],
    ['reinstate with an empty reason', { type: 'ReinstatePartner', data: { partnerId: 'P1', reason: '' } }, [enrolled, activated, suspended]],
  ])('when asked to %s, then InvalidInput', (_what, command, history) => {
    expect(() => given(...history).when(command).events()).toThrow(InvalidInput);
  });
});

describe('CertifySeller', () => {
  it('given an active partner, when a seller is certified, then SellerCertified with canonical times', () => {
    expect(given(enrolled, activated).when(certify({ expiresAt: '2027-01-15T00:00:00+01:00' })).events()).toEqual([
      {
        type: 'SellerCertified',
        data: {
          partnerId: 'P1',
          sellerId: 'S1',
          certification: 'Sales Pro',
          earnedAt: '2026-01-15T00:00:00.000Z',
          expiresAt: '2027-01-14T23:00:00.000Z',
        },
      },
    ]);
  });

  it.each([
    ['pending', [enrolled]],
    ['suspended', [enrolled, activated, suspended]],
  ])('given a %s partner, when a seller is certified, then it is recorded', (_status, history) => {
    expect(given(...history).when(certify()).events()).toHaveLength(1);
  });

  it('given a terminated partner, when a seller is certified, then RuleViolation', () => {
    const act = () => given(enrolled, activated, terminated).when(certify()).events();
    expect(act).toThrow(RuleViolation);
    expect(act).toThrow('cannot certify a seller of partner P1: it is terminated');
  });

  it.each([
    ['expiresAt equal to earnedAt', { earnedAt: '2026-01-15', expiresAt: '2026-01-15T00:00:00Z' }, 'expiresAt'],
    ['expiresAt before earnedAt', { earnedAt: '2026-01-15', expiresAt: '2025-12-31' }, 'expiresAt'],
    ['a malformed earnedAt', { earnedAt: 'yesterday' }, 'earnedAt'],
    ['an impossible date', { earnedAt: '2026-02-30' }, 'earnedAt'],
    ['a date-time without an offset', { earnedAt: '2026-01-15T10:00:00' }, 'earnedAt'],
    ['a malformed expiresAt', { expiresAt: '15/01/2027' }, 'expiresAt'],
    ['an invalid sellerId', { sellerId: 'seller one' }, 'sellerId'],
    ['an empty certification', { certification: '' }, 'certification'],
  ])('when certified with %s, then InvalidInput', (_what, over, path) => {
    const act = () => given(enrolled, activated).when(certify(over)).events();
    expect(act).toThrow(InvalidInput);
    expect(act).toThrow(expect.objectContaining({ errors: [expect.objectContaining({ path })] }));
  });

  it('given the same certification, when certified again (any spelling of the same instants), then nothing happens', () => {
    const history = given(enrolled, activated, certified('S1', '2026-01-15T00:00:00.000Z', '2027-01-15T00:00:00.000Z'));
    expect(history.when(certify({ earnedAt: '2026-01-15', expiresAt: '2027-01-15T01:00:00+01:00' })).events()).toEqual([]);
  });

  it('given a certification without expiry, when repeated without expiry, then nothing happens', () => {
    expect(given(enrolled, certified('S1', '2026-01-15T00:00:00.000Z')).when(certify()).events()).toEqual([]);
  });

  it('given a certification, when the same one is sent with another expiry, then AlreadyExists (no overwrite)', () => {
    const history = given(enrolled, certified('S1', '2026-01-15T00:00:00.000Z', '2027-01-15T00:00:00.000Z'));
    const act = () => history.when(certify({ expiresAt: '2028-01-15' })).events();
    expect(act).toThrow(AlreadyExists);
    expect(act).toThrow('seller S1 of partner P1 already holds Sales Pro earned at 2026-01-15T00:00:00.000Z, expiring at 2027-01-15T00:00:00.000Z');
  });

  it('given a certification, when renewed with a later earnedAt, then a new SellerCertified', () => {
    const history = given(enrolled, certified('S1', '2026-01-15T00:00:00.000Z', '2027-01-15T00:00:00.000Z'));
    expect(history.when(certify({ earnedAt: '2027-01-10', expiresAt: '2028-01-10' })).events()).toHaveLength(1);
  });
});

describe('certifiedSellersAt', () => {
  const state = given(
    enrolled,
    certified('S1', '2026-01-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z'),
    certified('S1', '2026-01-01T00:00:00.000Z', undefined, 'Technical Pro'),
    certified('S2', '2026-01-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'),
    certified('S3', '2026-05-01T00:00:00.000Z'),
    certified('S4', '2025-01-01T00:00:00.000Z', '2025-12-31T00:00:00.000Z'),
    certified('S4', '2026-02-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'),
  ).state;

  it.each([
    ['before anything was earned', '2024-06-01T00:00:00.000Z', 0],
    ['when only the first S4 certification is in force', '2025-06-01T00:00:00.000Z', 1],
    ['when S1 and S2 hold one each', '2026-02-15T00:00:00.000Z', 3],
    ['exactly at S2 expiry (expired at that instant)', '2026-03-01T00:00:00.000Z', 2],
    ['after S4 renewal lapsed, S3 not yet earned', '2026-04-15T00:00:00.000Z', 1],
    ['exactly when S3 is earned (counts at that instant)', '2026-05-01T00:00:00.000Z', 2],
    ['after S1 first certification expired (its second never does)', '2030-01-01T00:00:00.000Z', 2],
  ])('%s (%s) → %i', (_what, at, expected) => {
    expect(certifiedSellersAt(state, new Date(at))).toBe(expected);
  });

  it('counts a seller once however many certifications it holds', () => {
    expect(certifiedSellersAt(state, new Date('2026-01-02T00:00:00.000Z'))).toBe(2);
  });

  it('is 0 for an unknown partner', () => {
    expect(certifiedSellersAt(given().state, NOW)).toBe(0);
  });
});

describe('evolve', () => {
  it('follows tier changes and pending downgrades', () => {
    const promoted = given(enrolled, activated, {
      type: 'PartnerTierChanged',
      data: { partnerId: 'P1', from: 'Registered', to: 'Gold', kind: 'promotion', asOf: T0, programVersion: 0 },
    }).state;
    expect(promoted).toMatchObject({ tier: 'Gold' });

    const scheduled = partnerDecider.evolve(promoted, {
      type: 'TierDowngradeScheduled',
      data: { partnerId: 'P1', from: 'Gold', to: 'Silver', effectiveAt: '2026-04-01T00:00:00.000Z', asOf: T0, programVersion: 0 },
    });
    expect(scheduled).toMatchObject({ tier: 'Gold', pendingDowngrade: { from: 'Gold', to: 'Silver', effectiveAt: '2026-04-01T00:00:00.000Z' } });

    const cancelled = partnerDecider.evolve(scheduled, { type: 'TierDowngradeCancelled', data: { partnerId: 'P1', tier: 'Gold', asOf: T0 } });
    expect(cancelled).not.toHaveProperty('pendingDowngrade');

    const demoted = partnerDecider.evolve(scheduled, {
      type: 'PartnerTierChanged',
      data: { partnerId: 'P1', from: 'Gold', to: 'Silver', kind: 'demotion', asOf: T0, programVersion: 0 },
    });
    expect(demoted).toMatchObject({ tier: 'Silver' });
    expect(demoted).not.toHaveProperty('pendingDowngrade');
  });

  it('is total: an event that does not fit the state, or an unknown type, leaves it unchanged', () => {
    expect(given(activated).state).toEqual({ status: 'none' });
    const state = given(enrolled).state;
    expect(partnerDecider.evolve(state, { ...enrolled, data: { ...enrolled.data, name: 'Other' } } as PartnerEvent)).toBe(state);
    expect(partnerDecider.evolve(state, { type: 'SomethingNew', data: {} } as unknown as PartnerEvent)).toBe(state);
  });
});

describe('DEFAULT_PROGRAM', () => {
  it('starts new partners at Registered and matches the documented thresholds', () => {
    expect(lowestTier(DEFAULT_PROGRAM).name).toBe('Registered');
    expect(DEFAULT_PROGRAM.tiers.map((t) => [t.name, t.minSourcedRevenueMinor, t.minCertifiedSellers, t.minWonDeals, t.discountBps, t.mdfEligible])).toEqual([
      ['Registered', 0, 0, 0, 1000, false],
      ['Silver', 10_000_000, 2, 0, 1500, true],
      ['Gold', 50_000_000, 5, 5, 2000, true],
      ['Platinum', 200_000_000, 10, 15, 2500, true],
    ]);
  });

  it('given a program without tiers, lowestTier refuses', () => {
    expect(() => lowestTier({ ...DEFAULT_PROGRAM, tiers: [] })).toThrow(InvalidInput);
  });
});

describe('tier program v2: revocation, catalog validity, overrides, seller claims', () => {
  const cert = (sellerId: string, certification = 'Sales', earnedAt = '2026-01-10T00:00:00.000Z'): PartnerEvent => ({ type: 'SellerCertified', data: { partnerId: 'P1', sellerId, certification, earnedAt } });
  const revoke: PartnerCommand = { type: 'RevokeCertification', data: { partnerId: 'P1', sellerId: 's1', certification: 'Sales', reason: 'exam fraud' } };

  it('revokes every instance in force of a seller certification; again is a no-op; an unknown one is not found', () => {
    given(enrolled, activated, cert('s1'), cert('s1', 'Sales', '2026-02-01T00:00:00.000Z'))
      .when(revoke)
      .then([{ type: 'SellerCertificationRevoked', data: { partnerId: 'P1', sellerId: 's1', certification: 'Sales', reason: 'exam fraud', revokedAt: NOW.toISOString() } }]);
    const revoked: PartnerEvent = { type: 'SellerCertificationRevoked', data: { partnerId: 'P1', sellerId: 's1', certification: 'Sales', reason: 'exam fraud', revokedAt: NOW.toISOString() } };
    given(enrolled, activated, cert('s1'), revoked).when(revoke).then([]);
    given(enrolled, activated, cert('s2')).when(revoke).thenThrows(NotFound);
    const state = [enrolled, activated, cert('s1'), cert('s2'), revoked].reduce(partnerDecider.evolve, partnerDecider.initialState());
    expect(certifiedSellersAt(state, new Date('2026-03-01T00:00:00Z'))).toBe(2);
    expect(certifiedSellersAt(state, NOW)).toBe(1);
  });

  it("defaults the expiry to the catalog's validity and refuses a later one", () => {
    const certify = (expiresAt?: string): PartnerCommand => ({ type: 'CertifySeller', data: { partnerId: 'P1', sellerId: 's1', certification: 'Sales', earnedAt: '2026-01-01', validityDays: 30, ...(expiresAt ? { expiresAt } : {}) } });
    given(enrolled, activated).when(certify()).thenMatches([{ type: 'SellerCertified', data: { expiresAt: '2026-01-31T00:00:00.000Z' } }]);
    given(enrolled, activated).when(certify('2026-01-15')).thenMatches([{ type: 'SellerCertified', data: { expiresAt: '2026-01-15T00:00:00.000Z' } }]);
    given(enrolled, activated).when(certify('2026-03-01')).thenThrows(RuleViolation);
  });

  it('overrides a tier of the ladder until a future date, and ends it back to the own tier', () => {
    const override = (tier: string, until = '2026-06-30'): PartnerCommand => ({ type: 'OverrideTier', data: { partnerId: 'P1', tier, reason: 'launch', until, ladder: ['Registered', 'Silver', 'Gold'], programVersion: 2 } });
    given(enrolled, activated)
      .when(override('Gold'))
      .then([{ type: 'PartnerTierOverridden', data: { partnerId: 'P1', tier: 'Gold', from: 'Registered', reason: 'launch', until: '2026-06-30T00:00:00.000Z', overriddenAt: NOW.toISOString(), programVersion: 2 } }]);
    given(enrolled, activated).when(override('Select')).thenThrows(RuleViolation);
    given(enrolled, activated).when(override('Gold', '2026-01-01')).thenThrows(InvalidInput);
    given(enrolled, activated).when({ type: 'EndTierOverride', data: { partnerId: 'P1', reason: 'done' } }).thenThrows(RuleViolation);
    const overridden: PartnerEvent = { type: 'PartnerTierOverridden', data: { partnerId: 'P1', tier: 'Gold', from: 'Registered', reason: 'launch', until: '2026-06-30T00:00:00.000Z', overriddenAt: T0, programVersion: 2 } };
    given(enrolled, activated, overridden)
      .when({ type: 'EndTierOverride', data: { partnerId: 'P1', reason: 'done' } })
      .then([{ type: 'PartnerTierOverrideEnded', data: { partnerId: 'P1', tier: 'Gold', restoredTier: 'Registered', reason: 'done', endedAt: NOW.toISOString() } }]);
  });

  it('claims a seller for one partner at a time; a pending claim holds, an abandoned one does not', () => {
    expect(decideSellerClaim('s1', 'P1', undefined, false)).toEqual([{ type: 'SellerClaimed', data: { sellerId: 's1', partnerId: 'P1' } }]);
    expect(decideSellerClaim('s1', 'P1', 'P1', true)).toEqual([]);
    expect(() => decideSellerClaim('s1', 'P2', 'P1', true)).toThrow(SellerHeldByAnotherPartner);
    expect(decideSellerClaim('s1', 'P2', 'P1', false)).toHaveLength(1);
    const claimedAt = '2026-03-31T11:59:30.000Z';
    expect(holderStillHolds(false, false, claimedAt, NOW)).toBe(true); // claimed 30 s ago, certification not yet appended
    expect(holderStillHolds(false, false, '2026-03-31T11:00:00.000Z', NOW)).toBe(false); // abandoned
    expect(holderStillHolds(false, true, claimedAt, NOW)).toBe(false); // its certifications expired or were revoked
  });
});
