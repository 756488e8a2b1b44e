import type { DealRevenueReserved } from '#events/attribution.js';
import { isRecorded, type RecordedEvent } from '#events/envelope.js';
import type { Money } from '#libs/money/money.js';
import { exceedsWonAmount, type AttributionState } from './attribution.js';

/**
 * The won-amount cap (DOMAIN.md, "Attribution integrity (v2)"; docs/money.md). The attributions of one deal live
 * in different streams, so the cap has a boundary of its own: the deal's revenue stream `dealrevenue-<dealId>`,
 * where every attribution of the deal first reserves its amount, appended at the stream's revision (the claim of
 * the pipeline's claim-then-decide). What a deal has attributed, net of reversals, is read at decision time:
 *   for each reserved attribution id: its remaining amount when the attribution exists (reversals give back),
 *   else the largest amount reserved for it (its command may still be on its way: counted until it lands).
 * Reversals therefore need no step of their own, and an attribution only ever lowers what it reserved.
 */
export interface DealRevenueState {
  /** attributionId → the largest amount reserved for it. */
  readonly reserved: ReadonlyMap<string, number>;
}

export function foldDealRevenue(events: readonly RecordedEvent[]): DealRevenueState {
  const reserved = new Map<string, number>();
  for (const e of events) {
    if (!isRecorded<DealRevenueReserved>(e, 'DealRevenueReserved')) continue;
    const d = e.data;
    reserved.set(d.attributionId, Math.max(reserved.get(d.attributionId) ?? 0, d.amount.amountMinor));
  }
  return { reserved };
}

export interface ReservationWanted {
  readonly dealId: string;
  readonly attributionId: string;
  readonly amount: Money;
  readonly wonAmountMinor: number;
}

/**
 * What the deal has attributed, net of reversals, leaving out `except`. `attribution(id)` is that attribution's
 * stream as it stands now.
 */
export async function attributedNet(state: DealRevenueState, dealId: string, except: string, attribution: (id: string) => Promise<AttributionState>): Promise<number> {
  let net = 0;
  for (const [id, reserved] of state.reserved) {
    if (id === except) continue;
    const a = await attribution(id);
    net += a.status === 'none' ? reserved : a.dealId === dealId ? a.remainingMinor : 0;
  }
  return net;
}

/** The reservation to append ([] when one as large is already held for this attribution id), or exceeds-won-amount. */
export async function decideDealRevenue(
  events: readonly RecordedEvent[],
  wanted: ReservationWanted,
  attribution: (id: string) => Promise<AttributionState>,
): Promise<readonly DealRevenueReserved[]> {
  const state = foldDealRevenue(events);
  const others = await attributedNet(state, wanted.dealId, wanted.attributionId, attribution);
  const held = state.reserved.get(wanted.attributionId) ?? 0;
  if (others + Math.max(held, wanted.amount.amountMinor) > wanted.wonAmountMinor) {
    throw exceedsWonAmount(wanted.dealId, wanted.amount.amountMinor, wanted.wonAmountMinor, others + (held > wanted.amount.amountMinor ? held - wanted.amount.amountMinor : 0));
  }
  if (held >= wanted.amount.amountMinor) return [];
  return [
    {
      type: 'DealRevenueReserved',
      data: { dealId: wanted.dealId, attributionId: wanted.attributionId, amount: { amountMinor: wanted.amount.amountMinor, currency: wanted.amount.currency }, wonAmountMinor: wanted.wonAmountMinor },
    },
  ];
}
