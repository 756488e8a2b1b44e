import type { MdfClaimIdReserved, MdfRequestIdReserved } from '#events/mdf.js';
import { AlreadyExists } from '#libs/kernel/errors.js';
import { recorded } from '#libs/kernel/testing/decider-spec.js';
import { ABANDONED_RESERVATION_AFTER_MS, claimIdStreamId, decideReservation, foldReservations, requestIdStreamId, type ReservationState } from './ids.js';

const reserve = (fundStreamId = 'mdf-P1.2026-Q1', partnerId = 'P1', period = '2026-Q1'): MdfRequestIdReserved => ({
  type: 'MdfRequestIdReserved',
  data: { requestId: 'R1', partnerId, period, fundStreamId },
});
const reservedFor = (e: MdfRequestIdReserved): ReservationState<MdfRequestIdReserved> => foldReservations<MdfRequestIdReserved>([recorded(e, '2026-02-01T00:00:00.000Z')], 'MdfRequestIdReserved');
const fresh = { holdsId: false, reservedAgoMs: 1000 };

describe('id reservation streams', () => {
  it('are one stream per id, outside the mdf category', () => {
    expect(requestIdStreamId('R1')).toBe('mdfrequest-R1');
    expect(claimIdStreamId('C1')).toBe('mdfclaim-C1');
  });

  it('fold to the latest reservation with its record time', () => {
    const other = reserve('mdf-P2.2026-Q1', 'P2');
    expect(foldReservations([recorded(reserve(), '2026-02-01T00:00:00.000Z', 1n), recorded(other, '2026-02-02T00:00:00.000Z', 2n)], 'MdfRequestIdReserved')).toEqual({
      status: 'reserved',
      reservation: other.data,
      reservedAt: '2026-02-02T00:00:00.000Z',
    });
    expect(foldReservations([], 'MdfRequestIdReserved')).toEqual({ status: 'free' });
  });
});

describe('decideReservation', () => {
  it('given a free id, then the reservation is appended', () => {
    expect(decideReservation(reserve(), { status: 'free' }, fresh)).toEqual([reserve()]);
  });

  it('given an id whose fund holds the request, then AlreadyExists, whichever fund asks', () => {
    expect(() => decideReservation(reserve(), reservedFor(reserve()), { ...fresh, holdsId: true })).toThrow(AlreadyExists);
    expect(() => decideReservation(reserve('mdf-P2.2026-Q1', 'P2'), reservedFor(reserve()), { holdsId: true, reservedAgoMs: 10 * ABANDONED_RESERVATION_AFTER_MS })).toThrow(
      AlreadyExists,
    );
  });

  it('given a reservation for the same fund with nothing behind it (a refused or crashed creation), then it is reused as it is', () => {
    expect(decideReservation(reserve(), reservedFor(reserve()), fresh)).toEqual([]);
  });

  it('given a claim reservation for the same fund but another request, then it is brought up to date', () => {
    const claimFor = (requestId: string): MdfClaimIdReserved => ({
      type: 'MdfClaimIdReserved',
      data: { claimId: 'C1', requestId, partnerId: 'P1', period: '2026-Q1', fundStreamId: 'mdf-P1.2026-Q1' },
    });
    const state = foldReservations<MdfClaimIdReserved>([recorded(claimFor('R1'), '2026-02-01T00:00:00.000Z')], 'MdfClaimIdReserved');
    expect(decideReservation(claimFor('R2'), state, fresh)).toEqual([claimFor('R2')]);
  });

  it('given a recent reservation for another fund with nothing behind it, then AlreadyExists (its creation may be in flight)', () => {
    expect(() => decideReservation(reserve('mdf-P2.2026-Q1', 'P2'), reservedFor(reserve()), fresh)).toThrow(AlreadyExists);
  });

  it('given an abandoned reservation for another fund, then the id is reserved again', () => {
    const wanted = reserve('mdf-P2.2026-Q1', 'P2');
    expect(decideReservation(wanted, reservedFor(reserve()), { holdsId: false, reservedAgoMs: ABANDONED_RESERVATION_AFTER_MS + 1 })).toEqual([wanted]);
  });
});
