import { Inject, Injectable } from '@nestjs/common';
import type { DealEvent, DealStatus } from '#events/deals.js';
import type { EventStore } from '#libs/event-store/port.js';
import { customerAccountDecider, customerStreamId, findRegistration } from '#libs/deals/customer-account.js';
import { dealIdStreamId, foldDealIdClaims } from '#libs/deals/registration.js';
import { fold, ID_PATTERN } from '#libs/kernel/decider.js';
import { EVENT_STORE } from './tokens.js';

/**
 * A deal as it stands in the log now (not in a lagging read model): what other capabilities ask of deals
 * (revenue attribution needs "registered by that partner and won", the price waterfall the protection).
 */
export interface DealRecord {
  readonly dealId: string;
  readonly partnerId: string;
  readonly customerKey: string;
  /** The stream holding the deal's events: its customer account. */
  readonly streamId: string;
  readonly status: DealStatus;
  readonly protectedUntil?: string;
  /** Set once won. */
  readonly closedAt?: string;
  readonly wonAmount?: { readonly amountMinor: number; readonly currency: string };
}

/**
 * Deal id → customer account stream, and the deal as it stands there. Both reads are of the log itself (the deal
 * id's claim stream, then the customer stream), so the answer is current without waiting for a read model.
 */
@Injectable()
export class StreamDealDirectory {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** The customer key a deal id was claimed for, or undefined for an id never registered. */
  async customerOf(dealId: string): Promise<string | undefined> {
    if (!ID_PATTERN.test(dealId)) return undefined;
    const claim = foldDealIdClaims(await this.store.readStream(dealIdStreamId(dealId)));
    return claim.status === 'claimed' ? claim.customerKey : undefined;
  }

  async find(dealId: string): Promise<DealRecord | undefined> {
    const customerKey = await this.customerOf(dealId);
    if (customerKey === undefined) return undefined;
    const streamId = customerStreamId(customerKey);
    const r = findRegistration(fold(customerAccountDecider.evolve, customerAccountDecider.initialState(), await this.store.readStream<DealEvent>(streamId)), dealId);
    if (!r) return undefined;
    return {
      dealId: r.dealId,
      partnerId: r.partnerId,
      customerKey,
      streamId,
      status: r.status,
      ...(r.protection !== undefined ? { protectedUntil: r.protection.protectedUntil } : {}),
      ...(r.status === 'won' ? { closedAt: r.closedAt, wonAmount: { ...r.wonAmount } } : {}),
    };
  }
}
