import { isRecorded, type RecordedEvent } from '#events/envelope.js';
import type { MdfClaimIdReserved, MdfIdReservation, MdfRequestIdReserved } from '#events/mdf.js';
import { canonicalEqual } from '#libs/kernel/equality.js';
import { AlreadyExists } from '#libs/kernel/errors.js';

/**
 * Request and claim ids are unique across every fund (DOMAIN.md: creating something whose id exists is a
 * 409), but a fund stream only sees its own ids. So the id itself is a stream: creating a request first
 * reserves `mdfrequest-<requestId>` for its fund at the revision it read (two racing creations collide on
 * that revision), then appends `MdfRequested` to the fund, where the fund decider refuses a duplicate
 * within the fund. The reservation is also the directory that routes `/v1/mdf/requests/{id}/…` to the fund
 * stream; it is read from the store, never from a lagging read model. Claims work the same way with
 * `mdfclaim-<claimId>`. See docs/money.md.
 */
export const requestIdStreamId = (requestId: string): string => `mdfrequest-${requestId}`;
export const claimIdStreamId = (claimId: string): string => `mdfclaim-${claimId}`;

/**
 * A creation that crashed (or was refused by its fund after a concurrent change) between its reservation
 * and its fund event leaves a reservation with nothing behind it. The same id for the same fund reuses it at
 * once; for another fund only after this long, which bounds how long a creation may take between the two
 * appends (the executor's retries take milliseconds).
 */
export const ABANDONED_RESERVATION_AFTER_MS = 60_000;

export type ReservationState<R extends MdfIdReservation = MdfIdReservation> =
  | { readonly status: 'free' }
  | { readonly status: 'reserved'; readonly reservation: R['data']; readonly reservedAt: string };

/** The latest reservation wins; `recordedAt` is the event's record time, which the abandonment rule needs. */
export function foldReservations<R extends MdfIdReservation>(
  events: Iterable<RecordedEvent>,
  type: R['type'],
): ReservationState<R> {
  let state: ReservationState<R> = { status: 'free' };
  for (const e of events) {
    if (isRecorded<R>(e, type)) state = { status: 'reserved', reservation: e.data, reservedAt: e.metadata.recordedAt };
  }
  return state;
}

/** What the handler read of the fund the current reservation names. */
export interface ReservationHolder {
  /** Whether that fund stream holds the request (or claim) with this id. */
  readonly holdsId: boolean;
  /** Now minus the reservation's record time. */
  readonly reservedAgoMs: number;
}

/** "MDF request <id>" or "MDF claim <id>": the union narrows on its type, no cast. */
function reservedWhat(wanted: MdfRequestIdReserved | MdfClaimIdReserved): string {
  return wanted.type === 'MdfRequestIdReserved' ? `MDF request ${wanted.data.requestId}` : `MDF claim ${wanted.data.claimId}`;
}

/**
 * The reservation to append for `wanted` ([] when the current one can be reused as it is), or AlreadyExists.
 */
export function decideReservation<R extends MdfRequestIdReserved | MdfClaimIdReserved>(
  wanted: R,
  state: ReservationState<R>,
  holder: ReservationHolder,
): readonly R[] {
  if (state.status === 'free') return [wanted];
  const what = reservedWhat(wanted);
  if (holder.holdsId) throw new AlreadyExists(`${what} already exists`);
  // Nothing behind the reservation: for the same fund, the fund's own revision settles any race (the
  // directory routes by fund only, so a reservation with other details is simply brought up to date).
  if (state.reservation.fundStreamId === wanted.data.fundStreamId) return canonicalEqual(state.reservation, wanted.data) ? [] : [wanted];
  if (holder.reservedAgoMs > ABANDONED_RESERVATION_AFTER_MS) return [wanted];
  throw new AlreadyExists(`${what} is being created for another fund`);
}
