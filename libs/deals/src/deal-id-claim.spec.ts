import { AlreadyExists } from '#libs/kernel/errors.js';
import { ABANDONED_DEAL_CLAIM_AFTER_MS, dealIdStreamId, decideDealIdClaim, foldDealIdClaims, initialDealIdClaim } from './deal-id-claim.js';

const claimEvent = (customerKey: string, recordedAt = '2026-03-02T09:00:00.000Z') => ({
  type: 'DealIdClaimed',
  data: { dealId: 'D1', partnerId: 'P1', customerKey },
  metadata: { recordedAt },
});
const command = (customerKey = 'acme.co.uk') => ({ dealId: 'D1', partnerId: 'P2', customerKey });
const fresh = { registered: false, claimedAgoMs: 10 };

describe('deal id claims', () => {
  it('live in dealid-<dealId>', () => {
    expect(dealIdStreamId('D1')).toBe('dealid-D1');
  });

  it('given no claim, when claimed, then DealIdClaimed naming the customer', () => {
    expect(decideDealIdClaim(command(), initialDealIdClaim(), fresh)).toEqual([
      { type: 'DealIdClaimed', data: { dealId: 'D1', partnerId: 'P2', customerKey: 'acme.co.uk' } },
    ]);
  });

  it('given a claim for the same customer, then nothing to append: the customer stream decides', () => {
    expect(decideDealIdClaim(command(), foldDealIdClaims([claimEvent('acme.co.uk')]), { registered: true, claimedAgoMs: 10 })).toEqual([]);
  });

  it('given a registered claim for another customer, then AlreadyExists', () => {
    const state = foldDealIdClaims([claimEvent('globex.com')]);
    expect(() => decideDealIdClaim(command(), state, { registered: true, claimedAgoMs: 10 * ABANDONED_DEAL_CLAIM_AFTER_MS })).toThrow(AlreadyExists);
  });

  it('given a young claim for another customer without its registration (in flight), then AlreadyExists', () => {
    expect(() => decideDealIdClaim(command(), foldDealIdClaims([claimEvent('globex.com')]), fresh)).toThrow(AlreadyExists);
  });

  it('given an abandoned claim for another customer, then it is taken over', () => {
    const state = foldDealIdClaims([claimEvent('globex.com')]);
    expect(decideDealIdClaim(command(), state, { registered: false, claimedAgoMs: ABANDONED_DEAL_CLAIM_AFTER_MS + 1 })).toHaveLength(1);
  });

  it('the latest claim wins', () => {
    expect(foldDealIdClaims([claimEvent('globex.com'), claimEvent('acme.co.uk', '2026-03-03T00:00:00.000Z')])).toEqual({
      status: 'claimed',
      dealId: 'D1',
      partnerId: 'P1',
      customerKey: 'acme.co.uk',
      claimedAt: '2026-03-03T00:00:00.000Z',
    });
  });
});
