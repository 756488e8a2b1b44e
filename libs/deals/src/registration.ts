import type { DealIdClaimed, DealSlotTaken } from '#events/deals.js';
import { isRecorded, type Recorded, type RecordedEvent } from '#events/envelope.js';
import type { Decider } from '#libs/kernel/decider.js';
import { AlreadyExists, DomainError, InvalidInput, RuleViolation } from '#libs/kernel/errors.js';
import { refuseUnsafeSpelling, registrableDomain } from '#libs/partners/domain-name.js';
import type { ProductFamilies, TierProgram } from '#libs/program/program.js';
import { findRegistration, type CustomerAccount, type PartnerStatusFact, type RegisterDeal } from './customer-account.js';

/**
 * Deal registration, besides the customer account's decision (customer-account.ts): the program's registration
 * policy, which account decides and the command it decides, what an alias race asks of a retry, and the two claims a
 * registration takes on other streams, its deal id (unique across customers) and, under a capacity limit, a slot of
 * its partner's. All pure; the handler (libs/ledger/src/deals.commands.ts) reads the facts these need and hands the
 * results to the pipeline (docs/development.md, "A command's way").
 */

// --- The program's registration policy ---

/** The deal registration policy of a program, defaults filled in. */
export interface DealRegistrationPolicy {
  readonly programVersion: number;
  readonly protectionDays: number;
  readonly maxExtensionDays: number;
  readonly registrationReviewDays: number;
  readonly maxOpenRegistrations: number;
  readonly productFamilies: ProductFamilies;
}

const DEFAULT_REGISTRATION_REVIEW_DAYS = 14;

export function dealRegistrationPolicy(program: TierProgram): DealRegistrationPolicy {
  return {
    programVersion: program.version,
    protectionDays: program.protectionDays,
    maxExtensionDays: program.maxExtensionDays,
    registrationReviewDays: program.registrationReviewDays ?? DEFAULT_REGISTRATION_REVIEW_DAYS,
    maxOpenRegistrations: program.maxOpenRegistrations ?? 0,
    productFamilies: program.productFamilies ?? {},
  };
}

// --- The registration and the account that decides it ---

/** What a registration request names: the `RegisterDeal` command without what the ledger fills in. */
export type RegistrationRequest = Omit<RegisterDeal['data'], 'customerKey' | 'viaAlias' | 'programVersion' | 'productFamilies' | 'partnerStatus'>;

/** The registrable domain of a spelling, or a 400 naming the field. */
export function customerKeyOf(domain: string, path: string): string {
  refuseUnsafeSpelling(domain, path);
  const key = registrableDomain(domain);
  if (key === undefined) {
    throw new InvalidInput(`${JSON.stringify(domain)} has no registrable domain`, {}, [{ path, message: 'must be a domain name under a public suffix, e.g. acme.co.uk' }]);
  }
  return key;
}

/** The account a registration naming `named` is decided on: that domain's own, or its primary when it is an alias. */
export function decidingAccount(named: string, account: CustomerAccount): string {
  return account.status === 'alias' ? account.primaryKey : named;
}

/** The registration as the account `customerKey` decides it, with the program's policy in force and the partner's status now. */
export function registerDeal(request: RegistrationRequest, named: string, customerKey: string, policy: DealRegistrationPolicy, partnerStatus: PartnerStatusFact): RegisterDeal {
  return {
    type: 'RegisterDeal',
    data: {
      ...request,
      customerKey,
      ...(named !== customerKey ? { viaAlias: named } : {}),
      programVersion: policy.programVersion,
      productFamilies: policy.productFamilies,
      partnerStatus,
    },
  };
}

/**
 * The domain was aliased between the handler's look and the decision: the account `tried` refused with
 * `customer-aliased`, naming its primary. That primary is where the registration is decided again (once);
 * undefined for any other refusal.
 */
export function aliasedTo(error: unknown, tried: string): string | undefined {
  const aliasOf = error instanceof DomainError && error.rule === 'customer-aliased' ? error.extensions.aliasOf : undefined;
  return typeof aliasOf === 'string' && aliasOf !== tried ? aliasOf : undefined;
}

// --- The deal id's claim ---

/**
 * "A deal id that exists is a 409, never an overwrite", across customers, on a store that only guarantees
 * one stream at a time. Registration first claims the id in `dealid-<dealId>` at the revision it read, so
 * two racing registrations of one id for different customers collide on that revision; then it decides in
 * the customer stream, which refuses an id it already holds (same customer). The claim also routes a deal id
 * to its customer stream.
 *
 * The stream holds `DealIdClaimed` events only: the pipeline's claim step is its one writer, so the decider's
 * `evolve` (the pipeline's folds) and `foldDealIdClaims` (raw reads, which skip other types) agree.
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

// --- Capacity slots ---

/**
 * A partner's registration capacity (`maxOpenRegistrations`): its open registrations span customer accounts, so
 * the count is kept in one stream per partner, `dealslots-<partnerId>`, and every registration under a capacity
 * takes a slot there at the revision it read (docs/deals.md, "Capacity"). Two registrations racing for the last
 * slot collide on that revision; the loser decides again and is refused. Endings happen in the customer streams,
 * so the registration is told which held slots have ended since (`ended`): a slot is counted as open unless it is
 * known to have ended, so a stale answer can only refuse early, never admit one too many.
 */
export const dealSlotsStreamId = (partnerId: string): string => `dealslots-${partnerId}`;

export interface HeldSlot {
  readonly dealId: string;
  /** Record time of the slot, for slots whose registration never landed (abandoned after a minute). */
  readonly takenAt: string;
}

export interface DealSlots {
  readonly held: readonly HeldSlot[];
}

export type TakeDealSlot = {
  readonly partnerId: string;
  readonly dealId: string;
  readonly customerKey: string;
  readonly maxOpenRegistrations: number;
  readonly programVersion: number;
  /** Held slots whose registrations are no longer active (or never landed): freed by this slot. */
  readonly ended: readonly string[];
};

export function evolveDealSlots(state: DealSlots, event: DealSlotTaken | Recorded<DealSlotTaken>): DealSlots {
  const freed = new Set(event.data.freedDealIds);
  const takenAt = 'metadata' in event ? event.metadata.recordedAt : '';
  return { held: [...state.held.filter((s) => !freed.has(s.dealId)), { dealId: event.data.dealId, takenAt }] };
}

export function decideDealSlot(command: TakeDealSlot, state: DealSlots): readonly DealSlotTaken[] {
  // A retried registration of a deal id already holds its slot.
  if (state.held.some((s) => s.dealId === command.dealId)) return [];
  const ended = new Set(command.ended);
  const freedDealIds = state.held.filter((s) => ended.has(s.dealId)).map((s) => s.dealId);
  const open = state.held.length - freedDealIds.length;
  if (command.maxOpenRegistrations > 0 && open >= command.maxOpenRegistrations) {
    throw new RuleViolation(
      `partner ${command.partnerId} holds ${open} active registrations, the most program version ${command.programVersion} allows (maxOpenRegistrations ${command.maxOpenRegistrations})`,
      { partnerId: command.partnerId, openRegistrations: open, maxOpenRegistrations: command.maxOpenRegistrations, programVersion: command.programVersion },
      [],
      'registration-capacity',
    );
  }
  const { partnerId, dealId, customerKey, maxOpenRegistrations, programVersion } = command;
  return [{ type: 'DealSlotTaken', data: { partnerId, dealId, customerKey, maxOpenRegistrations, programVersion, freedDealIds } }];
}

/** Statuses of a registration that still hold a capacity slot. */
const HOLDING = new Set(['submitted', 'conflicted', 'approved']);

/**
 * The held slots (other than `dealId`'s) whose registrations have ended, given each one's status now
 * (`undefined`: it never landed; such a slot ends once `abandonedAfterMs` have passed since it was taken).
 */
export function endedSlots(slots: DealSlots, dealId: string, statusOf: ReadonlyMap<string, string | undefined>, now: Date, abandonedAfterMs: number): string[] {
  return slots.held
    .filter((slot) => slot.dealId !== dealId)
    .filter((slot) => {
      const status = statusOf.get(slot.dealId);
      return status === undefined ? now.getTime() - Date.parse(slot.takenAt) > abandonedAfterMs : !HOLDING.has(status);
    })
    .map((slot) => slot.dealId);
}

export const dealSlotsDecider: Decider<TakeDealSlot, DealSlots, DealSlotTaken> = {
  initialState: () => ({ held: [] }),
  evolve: evolveDealSlots,
  decide: (command, state) => decideDealSlot(command, state),
};

/**
 * The slot a registration of `dealId` on `customerKey` takes under the program's capacity, freeing the held slots
 * whose registrations have ended (`statusOf`: each held deal's status now, undefined when it never landed).
 */
export function takeDealSlot(
  slots: DealSlots,
  registration: { readonly dealId: string; readonly partnerId: string },
  customerKey: string,
  policy: Pick<DealRegistrationPolicy, 'maxOpenRegistrations' | 'programVersion'>,
  statusOf: ReadonlyMap<string, string | undefined>,
  now: Date,
): TakeDealSlot {
  const { dealId, partnerId } = registration;
  const ended = endedSlots(slots, dealId, statusOf, now, ABANDONED_DEAL_CLAIM_AFTER_MS);
  return { partnerId, dealId, customerKey, maxOpenRegistrations: policy.maxOpenRegistrations, programVersion: policy.programVersion, ended };
}
