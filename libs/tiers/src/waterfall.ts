/**
 * The pricing waterfall (DOMAIN.md, "Pricing waterfall"): each discount layer is a share (bps) of the list
 * price, rounded once to the minor unit half away from zero; the net price is what remains, so the layers
 * plus the net always equal the list price exactly.
 */
export interface WaterfallLayer {
  readonly kind: 'tier-discount' | 'deal-registration';
  readonly bps: number;
  readonly amountMinor: number;
}

/**
 * A layer that does not apply, and why (issue 20: the answer says so instead of dropping it). It takes nothing, so
 * list = layers + net still holds.
 */
export interface SkippedLayer {
  readonly kind: WaterfallLayer['kind'];
  readonly bps: 0;
  readonly amountMinor: 0;
  readonly applies: false;
  readonly reason: 'no-deal-given' | 'not-registered-by-partner' | 'not-approved' | 'protection-lapsed';
  readonly detail: string;
}

export interface Waterfall {
  readonly listPriceMinor: number;
  readonly layers: readonly WaterfallLayer[];
  readonly netMinor: number;
}

/** `amount × bps / 10000`, rounded half away from zero, in exact integer arithmetic. */
export function bpsOf(amountMinor: number, bps: number): number {
  const product = BigInt(amountMinor) * BigInt(bps);
  const sign = product < 0n ? -1n : 1n;
  const abs = product * sign;
  const q = abs / 10_000n;
  const r = abs % 10_000n;
  return Number(sign * (r * 2n >= 10_000n ? q + 1n : q));
}

export function priceWaterfall(listPriceMinor: number, layers: readonly { kind: WaterfallLayer['kind']; bps: number }[]): Waterfall {
  if (!Number.isSafeInteger(listPriceMinor) || listPriceMinor < 0) throw new RangeError('listPriceMinor must be a non-negative safe integer');
  const total = layers.reduce((s, l) => s + l.bps, 0);
  if (layers.some((l) => !Number.isInteger(l.bps) || l.bps < 0) || total > 10_000) throw new RangeError('discount layers must be whole bps summing to at most 10000');
  // Rounding each layer up at .5 could take more than the list price when the bps add up to 10000
  // (two layers of 5000 on a price of 1): a layer never takes more than what remains.
  let remaining = listPriceMinor;
  const priced = layers.map((l) => {
    const amountMinor = Math.min(bpsOf(listPriceMinor, l.bps), remaining);
    remaining -= amountMinor;
    return { kind: l.kind, bps: l.bps, amountMinor };
  });
  const netMinor = remaining;
  return { listPriceMinor, layers: priced, netMinor };
}
