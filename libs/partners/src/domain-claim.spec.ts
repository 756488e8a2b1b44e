import type { PartnerDomainClaimed } from '#events/partners.js';
import { AlreadyExists } from '#libs/kernel/errors.js';
import {
  ABANDONED_CLAIM_AFTER_MS,
  decideClaim,
  domainClaimStreamId,
  evolveClaim,
  foldClaims,
  initialClaimState,
  type ClaimHolder,
  type DomainClaimState,
} from './domain-claim.js';

const claimedBy = (partnerId: string, domain = 'acme.com'): PartnerDomainClaimed => ({
  type: 'PartnerDomainClaimed',
  data: { domain, partnerId },
});
const givenClaims = (...claims: [PartnerDomainClaimed, string][]): DomainClaimState =>
  claims.reduce((s, [e, recordedAt]) => evolveClaim(s, e, recordedAt), initialClaimState());

const P2_WANTS_ACME = { partnerId: 'P2', domain: 'acme.com' };
const byP1 = givenClaims([claimedBy('P1'), '2026-03-31T12:00:00.000Z']);
const holder = (over: Partial<ClaimHolder> = {}): ClaimHolder => ({ exists: true, status: 'active', domain: 'acme.com', claimedAgoMs: 1_000, ...over });

describe('domain claim stream', () => {
  it('is named partnerdomain-<domain>', () => {
    expect(domainClaimStreamId('acme.co.uk')).toBe('partnerdomain-acme.co.uk');
  });

  it('holds the latest claim with its record time', () => {
    const state = givenClaims([claimedBy('P1'), '2026-01-01T00:00:00.000Z'], [claimedBy('P2'), '2026-02-01T00:00:00.000Z']);
    expect(state).toEqual({ status: 'claimed', partnerId: 'P2', domain: 'acme.com', claimedAt: '2026-02-01T00:00:00.000Z' });
  });

  it('folds recorded events, ignoring other types', () => {
    const state = foldClaims([
      { type: 'PartnerDomainClaimed', data: { domain: 'acme.com', partnerId: 'P1' }, metadata: { recordedAt: '2026-01-01T00:00:00.000Z' } },
      { type: 'SomethingElse', data: {}, metadata: { recordedAt: '2026-01-02T00:00:00.000Z' } },
    ]);
    expect(state).toEqual({ status: 'claimed', partnerId: 'P1', domain: 'acme.com', claimedAt: '2026-01-01T00:00:00.000Z' });
  });
});

describe('decideClaim', () => {
  it('given no claim, when a partner claims the domain, then PartnerDomainClaimed', () => {
    expect(decideClaim(P2_WANTS_ACME, initialClaimState(), holder({ exists: false, claimedAgoMs: 0 }))).toEqual([claimedBy('P2')]);
  });

  it('given a claim by the same partner, when it claims again (a retried enrollment), then nothing to append', () => {
    expect(decideClaim({ partnerId: 'P1', domain: 'acme.com' }, byP1, holder({ exists: false, claimedAgoMs: 0 }))).toEqual([]);
  });

  it.each(['pending', 'active', 'suspended'])('given a claim by a %s partner, when another partner claims, then AlreadyExists', (status) => {
    const act = () => decideClaim(P2_WANTS_ACME, byP1, holder({ status }));
    expect(act).toThrow(AlreadyExists);
    expect(act).toThrow('domain acme.com is already used by partner P1');
  });

  it('given a claim by a terminated partner, when another partner claims, then the domain is taken over', () => {
    expect(decideClaim(P2_WANTS_ACME, byP1, holder({ status: 'terminated' }))).toEqual([claimedBy('P2')]);
  });

  it('given a claim by a partner that now has another domain, when another partner claims, then it is taken over', () => {
    expect(decideClaim(P2_WANTS_ACME, byP1, holder({ domain: 'acme-group.com' }))).toEqual([claimedBy('P2')]);
  });

  it('given a claim by an existing partner whose domain is unknown, when another partner claims, then AlreadyExists', () => {
    expect(() => decideClaim(P2_WANTS_ACME, byP1, holder({ domain: undefined }))).toThrow(AlreadyExists);
  });

  it('given a claim whose enrollment is still in flight (no partner stream yet, recent), then AlreadyExists', () => {
    const act = () => decideClaim(P2_WANTS_ACME, byP1, holder({ exists: false, status: undefined, domain: undefined, claimedAgoMs: ABANDONED_CLAIM_AFTER_MS }));
    expect(act).toThrow(AlreadyExists);
    expect(act).toThrow('domain acme.com is already used by partner P1');
  });

  it('given a claim abandoned by a crashed enrollment (no partner stream, older than 60 s), then it is taken over', () => {
    expect(ABANDONED_CLAIM_AFTER_MS).toBe(60_000);
    const abandoned = holder({ exists: false, status: undefined, domain: undefined, claimedAgoMs: 60_001 });
    expect(decideClaim(P2_WANTS_ACME, byP1, abandoned)).toEqual([claimedBy('P2')]);
  });

  it('given a stale claim by a partner that does exist and is active, then age does not matter: AlreadyExists', () => {
    expect(() => decideClaim(P2_WANTS_ACME, byP1, holder({ claimedAgoMs: 10 * 365 * 86_400_000 }))).toThrow(AlreadyExists);
  });
});
