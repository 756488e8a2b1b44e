import { isRecorded, type RecordedEvent } from '#events/envelope.js';
import type { SellerClaimed } from '#events/partners.js';
import { SellerHeldByAnotherPartner } from '#libs/kernel/errors.js';

/** The claim stream of a seller: "a seller counts for one partner at a time" is decided against its revision. */
export const sellerClaimStreamId = (sellerId: string): string => `seller-${sellerId}`;

/**
 * How long a claim whose holder has not recorded the seller's certification yet still counts as held: the claim is
 * appended before the certification, so a competing command in between must not take it over. Past this, the
 * holder's run crashed between the two appends and the claim is abandoned.
 */
export const PENDING_CLAIM_MS = 60_000;

/** Whether a claim's holder still holds the seller at `now` (its certification in force, or its claim still pending). */
export function holderStillHolds(holds: boolean, everCertified: boolean, claimedAt: string, now: Date): boolean {
  return holds || (!everCertified && now.getTime() - Date.parse(claimedAt) < PENDING_CLAIM_MS);
}

/** The partner the seller's claim names now (its last event), if any. */
export function sellerHolder(events: readonly RecordedEvent[]): string | undefined {
  const last = events[events.length - 1];
  return last !== undefined && isRecorded<SellerClaimed>(last, 'SellerClaimed') ? last.data.partnerId : undefined;
}

/**
 * The claim events for certifying `sellerId` at `partnerId`: none when the partner holds it already; a claim when
 * nobody does, or when its holder no longer does (terminated, or every certification of the seller there expired
 * or revoked); else 409 `seller-held-by-another-partner`.
 */
export function decideSellerClaim(sellerId: string, partnerId: string, holder: string | undefined, holderStillHolds: boolean): readonly SellerClaimed[] {
  if (holder === partnerId) return [];
  if (holder !== undefined && holderStillHolds) {
    throw new SellerHeldByAnotherPartner(`seller ${sellerId} is held by another partner: a seller counts for one partner at a time`);
  }
  return [{ type: 'SellerClaimed', data: { sellerId, partnerId } }];
}
