import type { DealIdClaimed } from '#events/deals.js';
import { AlreadyExists } from '#libs/kernel/errors.js';
import { deciderSpec, recorded } from '#libs/kernel/testing/decider-spec.js';
import { ABANDONED_DEAL_CLAIM_AFTER_MS, dealIdClaimDecider, dealIdStreamId, foldDealIdClaims, type DealIdHolder } from './deal-id-claim.js';

const spec = deciderSpec(dealIdClaimDecider, new Date('2026-03-02T09:01:00.000Z'));

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
    spec.given().when(claim(fresh)).then([p2Claims]);
  });

  it('given a claim for the same customer, then nothing to append: the customer stream decides', () => {
    spec.given(claimed('acme.co.uk')).when(claim({ registered: true, claimedAgoMs: 10 })).then([]);
  });

  it('given a registered claim for another customer, then AlreadyExists', () => {
    spec.given(claimed('globex.com')).when(claim({ registered: true, claimedAgoMs: 10 * ABANDONED_DEAL_CLAIM_AFTER_MS })).thenThrows(AlreadyExists, { extensions: { dealId: 'D1' } });
  });

  it('given a young claim for another customer without its registration (in flight), then AlreadyExists', () => {
    spec.given(claimed('globex.com')).when(claim(fresh)).thenThrows(AlreadyExists);
  });

  it('given an abandoned claim for another customer, then it is taken over', () => {
    spec.given(claimed('globex.com')).when(claim({ registered: false, claimedAgoMs: ABANDONED_DEAL_CLAIM_AFTER_MS + 1 })).then([p2Claims]);
  });

  it('the latest claim wins, with its record time', () => {
    expect(spec.given(claimed('globex.com'), claimed('acme.co.uk', '2026-03-03T00:00:00.000Z')).state).toEqual({
      status: 'claimed',
      dealId: 'D1',
      partnerId: 'P1',
      customerKey: 'acme.co.uk',
      claimedAt: '2026-03-03T00:00:00.000Z',
    });
  });

  it('folds a stream as read from the store, skipping other types', () => {
    expect(foldDealIdClaims([claimed('globex.com'), recorded({ type: 'SomethingElse', data: {} }, '2026-03-04T00:00:00.000Z', 2n)])).toEqual(
      spec.given(claimed('globex.com')).state,
    );
  });
});
