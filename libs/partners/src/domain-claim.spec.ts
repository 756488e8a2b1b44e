import type { PartnerDomainClaimed } from '#events/partners.js';
import { AlreadyExists } from '#libs/kernel/errors.js';
import { deciderSpec, recorded } from '#libs/kernel/testing/decider-spec.js';
import { ABANDONED_CLAIM_AFTER_MS, domainClaimDecider, domainClaimStreamId, foldClaims, type ClaimHolder } from './domain-claim.js';

const spec = deciderSpec(domainClaimDecider, new Date('2026-03-31T12:01:00.000Z'));

const claimedBy = (partnerId: string, domain = 'acme.com'): PartnerDomainClaimed => ({
  type: 'PartnerDomainClaimed',
  data: { domain, partnerId },
});

const byP1 = recorded(claimedBy('P1'), '2026-03-31T12:00:00.000Z');
const holder = (over: Partial<ClaimHolder> = {}): ClaimHolder => ({ exists: true, status: 'active', domain: 'acme.com', claimedAgoMs: 1_000, ...over });
const p2WantsAcme = (h: ClaimHolder) => ({ partnerId: 'P2', domain: 'acme.com', holder: h });

describe('domain claim stream', () => {
  it('is named partnerdomain-<domain>', () => {
    expect(domainClaimStreamId('acme.co.uk')).toBe('partnerdomain-acme.co.uk');
  });

  it('holds the latest claim with its record time', () => {
    const { state } = spec.given(recorded(claimedBy('P1'), '2026-01-01T00:00:00.000Z'), recorded(claimedBy('P2'), '2026-02-01T00:00:00.000Z'));
    expect(state).toEqual({ status: 'claimed', partnerId: 'P2', domain: 'acme.com', claimedAt: '2026-02-01T00:00:00.000Z' });
  });

  it('folds recorded events, ignoring other types', () => {
    const state = foldClaims([
      recorded(claimedBy('P1'), '2026-01-01T00:00:00.000Z', 1n),
      recorded({ type: 'SomethingElse', data: {} }, '2026-01-02T00:00:00.000Z', 2n),
    ]);
    expect(state).toEqual({ status: 'claimed', partnerId: 'P1', domain: 'acme.com', claimedAt: '2026-01-01T00:00:00.000Z' });
  });
});

describe('domain claim decider', () => {
  it('given no claim, when a partner claims the domain, then PartnerDomainClaimed', () => {
    spec.given().when(p2WantsAcme(holder({ exists: false, claimedAgoMs: 0 }))).then([claimedBy('P2')]);
  });

  it('given a claim by the same partner, when it claims again (a retried enrollment), then nothing to append', () => {
    spec.given(byP1).when({ partnerId: 'P1', domain: 'acme.com', holder: holder({ exists: false, claimedAgoMs: 0 }) }).then([]);
  });

  it.each(['pending', 'active', 'suspended'])('given a claim by a %s partner, when another partner claims, then AlreadyExists', (status) => {
    spec.given(byP1).when(p2WantsAcme(holder({ status }))).thenThrows(AlreadyExists, { message: 'domain acme.com is already used by partner P1' });
  });

  it('given a claim by a terminated partner, when another partner claims, then the domain is taken over', () => {
    spec.given(byP1).when(p2WantsAcme(holder({ status: 'terminated' }))).then([claimedBy('P2')]);
  });

  it('given a claim by a partner that now has another domain, when another partner claims, then it is taken over', () => {
    spec.given(byP1).when(p2WantsAcme(holder({ domain: 'acme-group.com' }))).then([claimedBy('P2')]);
  });

  it('given a claim by an existing partner whose domain is unknown, when another partner claims, then AlreadyExists', () => {
    spec.given(byP1).when(p2WantsAcme(holder({ domain: undefined }))).thenThrows(AlreadyExists);
  });

  it('given a claim whose enrollment is still in flight (no partner stream yet, recent), then AlreadyExists', () => {
    const inFlight = holder({ exists: false, status: undefined, domain: undefined, claimedAgoMs: ABANDONED_CLAIM_AFTER_MS });
    spec.given(byP1).when(p2WantsAcme(inFlight)).thenThrows(AlreadyExists, { message: 'domain acme.com is already used by partner P1' });
  });

  it('given a claim abandoned by a crashed enrollment (no partner stream, older than 60 s), then it is taken over', () => {
    expect(ABANDONED_CLAIM_AFTER_MS).toBe(60_000);
    spec.given(byP1).when(p2WantsAcme(holder({ exists: false, status: undefined, domain: undefined, claimedAgoMs: 60_001 }))).then([claimedBy('P2')]);
  });

  it('given a stale claim by a partner that does exist and is active, then age does not matter: AlreadyExists', () => {
    spec.given(byP1).when(p2WantsAcme(holder({ claimedAgoMs: 10 * 365 * 86_400_000 }))).thenThrows(AlreadyExists);
  });
});
