import type { DealIdClaimed } from '#events/deals.js';
import { isRecorded, type Recorded, type RecordedEvent } from '#events/envelope.js';
import type { Decider } from '#libs/kernel/decider.js';
import { AlreadyExists } from '#libs/kernel/errors.js';
import { findRegistration, type CustomerAccount } from './customer-account.js';

/**
 * "A deal id that exists is a 409, never an overwrite", across customers, on a store that only guarantees
 * one stream at a time. Registration first claims the id in `dealid-<dealId>` at the revision it read, so
 * two racing registrations of one id for different customers collide on that revision; then it decides in
 * the customer stream, which refuses an id it already holds (same customer). The claim also routes a deal id
 * to its customer stream.
 */
export const dealIdStreamId = (dealId: string): string => `dealid-${dealId}`;

/**
 * A registration that crashed between its claim and its `DealRegistered` leaves a claim without a deal; after
 * this long a registration of the same id for another customer may take it over. A registration must append
 * `DealRegistered` within it.
 */
export const ABANDONED_DEAL_CLAIM_AFTER_MS = 60_000;

export type DealIdClaimState =
  | { readonly status: 'unclaimed' }
  | { readonly status: 'claimed'; readonly dealId: string; readonly partnerId: string; readonly customerKey: string; readonly claimedAt: string };

const initialDealIdClaim = (): DealIdClaimState => ({ status: 'unclaimed' });

/** The latest claim wins; the record time (`claimedAt`) is what the abandonment rule needs. */
function evolveDealIdClaim(_state: DealIdClaimState, event: DealIdClaimed | Recorded<DealIdClaimed>): DealIdClaimState {
  const d = event.data;
  return { status: 'claimed', dealId: d.dealId, partnerId: d.partnerId, customerKey: d.customerKey, claimedAt: 'metadata' in event ? event.metadata.recordedAt : '' };
}

/** Folds a claim stream as read from the store (other types skipped). */
export function foldDealIdClaims(events: Iterable<RecordedEvent>): DealIdClaimState {
  let state = initialDealIdClaim();
  for (const e of events) if (isRecorded<DealIdClaimed>(e, 'DealIdClaimed')) state = evolveDealIdClaim(state, e);
  return state;
}

export interface ClaimDealId {
  readonly dealId: string;
  readonly partnerId: string;
  readonly customerKey: string;
}

/** The claim command as the decider takes it: with what the handler read of the current holder (a fact). */
export interface ClaimDealIdCommand extends ClaimDealId {
  readonly holder: DealIdHolder;
}

/** What the handler read of the claim holder's customer stream. */
export interface DealIdHolder {
  /** Whether the holder's customer stream has a registration of this id. */
  readonly registered: boolean;
  /** Now minus the claim's `claimedAt`. */
  readonly claimedAgoMs: number;
}

function decideDealIdClaim(command: ClaimDealId, state: DealIdClaimState, holder: DealIdHolder): readonly DealIdClaimed[] {
  const claim: DealIdClaimed = {
    type: 'DealIdClaimed',
    data: { dealId: command.dealId, partnerId: command.partnerId, customerKey: command.customerKey },
  };
  if (state.status === 'unclaimed') return [claim];
  // Same customer: its stream decides (it refuses an id it holds), so the claim need not move.
  if (state.customerKey === command.customerKey) return [];
  if (!holder.registered && holder.claimedAgoMs > ABANDONED_DEAL_CLAIM_AFTER_MS) return [claim];
  throw new AlreadyExists(`deal ${command.dealId} already exists`, { dealId: command.dealId });
}

/** The claim stream `dealid-<dealId>` in the one Decider shape. */
export const dealIdClaimDecider: Decider<ClaimDealIdCommand, DealIdClaimState, DealIdClaimed> = {
  initialState: initialDealIdClaim,
  evolve: evolveDealIdClaim,
  decide: (command, state) => decideDealIdClaim(command, state, command.holder),
};


/**
 * What a registration of `dealId` on `customerKey` knows of a claim held for another customer, from that
 * customer's account (`holderAccount`): whether the id is registered there, and how long ago it was claimed. A
 * claim left on a domain that has since become an alias of `customerKey` never landed there: it counts as abandoned.
 */
export function dealIdHolder(claim: DealIdClaimState, holderAccount: CustomerAccount, dealId: string, customerKey: string, now: Date): DealIdHolder {
  if (claim.status !== 'claimed' || claim.customerKey === customerKey) return { registered: false, claimedAgoMs: 0 };
  const registered = findRegistration(holderAccount, dealId) !== undefined;
  const abandoned = !registered && holderAccount.status === 'alias' && holderAccount.primaryKey === customerKey;
  return { registered, claimedAgoMs: abandoned ? Number.MAX_SAFE_INTEGER : now.getTime() - Date.parse(claim.claimedAt) };
}

/** The account whose registrations tell whether a claim is held for real: another customer's, when the claim is theirs. */
export function claimHolderKey(claim: DealIdClaimState, customerKey: string): string | undefined {
  return claim.status === 'claimed' && claim.customerKey !== customerKey ? claim.customerKey : undefined;
}

/** A registration's claim of its deal id on `customerKey`, with what the holder's account (`claimHolderKey`'s) says. */
export function claimDealId(registration: { readonly dealId: string; readonly partnerId: string }, customerKey: string, claim: DealIdClaimState, holderAccount: CustomerAccount, now: Date): ClaimDealIdCommand {
  const { dealId, partnerId } = registration;
  return { dealId, partnerId, customerKey, holder: dealIdHolder(claim, holderAccount, dealId, customerKey, now) };
}
