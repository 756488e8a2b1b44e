import { Inject, Injectable } from '@nestjs/common';
import type { EventStore, ReadFilter, Subscription } from '#libs/event-store/port.js';
import { EVENT_STORE } from '#libs/ledger/tokens.js';

/**
 * The log as a feed for `/v1/events/stream`: the one place the subscriptions capability touches the event
 * store (controllers never do). `open(after, filter)` catches up after `after` (exclusive), then follows live.
 */
@Injectable()
export class EventFeed {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  open(after: bigint, filter: ReadFilter): Subscription {
    return this.store.subscribe(after, filter);
  }
}
