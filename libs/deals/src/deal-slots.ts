import type { DealSlotTaken } from '#events/deals.js';
import type { Recorded } from '#events/envelope.js';
import type { Decider } from '#libs/kernel/decider.js';
import { RuleViolation } from '#libs/kernel/errors.js';
import type { DealRegistrationPolicy } from '#libs/program/program.js';
import { ABANDONED_DEAL_CLAIM_AFTER_MS } from './deal-id-claim.js';

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
