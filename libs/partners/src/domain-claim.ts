import { isRecorded, type Recorded, type RecordedEvent } from '#events/envelope.js';
import type { PartnerDomainClaimed } from '#events/partners.js';
import type { Decider } from '#libs/kernel/decider.js';
import { AlreadyExists } from '#libs/kernel/errors.js';

/**
 * "A partner's domain is unique among partners that are not terminated", on a store that only
 * guarantees one stream at a time. Every enrollment first appends a claim to `partnerdomain-<domain>`
 * at the revision it read, so two racing enrollments of one domain collide on that revision; only then
 * is `PartnerEnrolled` appended (expected `no_stream`). Claims are never released: a later enrollment
 * asks whether the holder still holds the domain (see `decideClaim`).
 */
export const domainClaimStreamId = (domain: string): string => `partnerdomain-${domain}`;

/**
 * An enrollment that crashed between its claim and its `PartnerEnrolled` leaves a claim with no partner;
 * after this long it is treated as abandoned. An enrollment must append `PartnerEnrolled` within it.
 */
export const ABANDONED_CLAIM_AFTER_MS = 60_000;

export type DomainClaimState =
  | { readonly status: 'unclaimed' }
  | { readonly status: 'claimed'; readonly partnerId: string; readonly domain: string; readonly claimedAt: string };

const initialClaimState = (): DomainClaimState => ({ status: 'unclaimed' });

/** The latest claim wins; its record time (`claimedAt`) is what the abandonment rule needs. */
function evolveClaim(_state: DomainClaimState, event: PartnerDomainClaimed | Recorded<PartnerDomainClaimed>): DomainClaimState {
  return { status: 'claimed', partnerId: event.data.partnerId, domain: event.data.domain, claimedAt: 'metadata' in event ? event.metadata.recordedAt : '' };
}

/** Folds a claim stream as read from the store (other types skipped). */
export function foldClaims(events: Iterable<RecordedEvent>): DomainClaimState {
  let state = initialClaimState();
  for (const e of events) if (isRecorded<PartnerDomainClaimed>(e, 'PartnerDomainClaimed')) state = evolveClaim(state, e);
  return state;
}

export interface ClaimDomain {
  readonly partnerId: string;
  /** Already normalized with `registrableDomain`. */
  readonly domain: string;
}

/** The claim command as the decider takes it: with what the handler read of the current holder (a fact). */
export interface ClaimDomainCommand extends ClaimDomain {
  readonly holder: ClaimHolder;
}

/** What the handler read of the current holder's partner stream. */
export interface ClaimHolder {
  /** Whether `partner-<holder>` has any event. */
  readonly exists: boolean;
  readonly status?: string;
  readonly domain?: string;
  /** Now minus the claim's `claimedAt`. */
  readonly claimedAgoMs: number;
}

function decideClaim(
  command: ClaimDomain,
  state: DomainClaimState,
  holder: ClaimHolder,
): readonly PartnerDomainClaimed[] {
  const claim: PartnerDomainClaimed = {
    type: 'PartnerDomainClaimed',
    data: { domain: command.domain, partnerId: command.partnerId },
  };
  if (state.status === 'unclaimed') return [claim];
  // A retried enrollment finds its own claim; appending it again would only move the revision.
  if (state.partnerId === command.partnerId) return [];
  if (holder.exists) {
    // An unknown domain is not proof that the holder let it go: only a different one is.
    const movedAway = holder.domain !== undefined && holder.domain !== command.domain;
    if (holder.status === 'terminated' || movedAway) return [claim];
  } else if (holder.claimedAgoMs > ABANDONED_CLAIM_AFTER_MS) {
    return [claim];
  }
  throw new AlreadyExists(`domain ${command.domain} is already used by partner ${state.partnerId}`, {
    domain: command.domain,
    partnerId: state.partnerId,
  });
}

/** The claim stream `partnerdomain-<domain>` in the one Decider shape. */
export const domainClaimDecider: Decider<ClaimDomainCommand, DomainClaimState, PartnerDomainClaimed> = {
  initialState: initialClaimState,
  evolve: evolveClaim,
  decide: (command, state) => decideClaim(command, state, command.holder),
};
