import type { DomainEventShape, Recorded } from '#events/envelope.js';
import type { EventStore } from '#libs/event-store/port.js';
import { RecentMap } from '#libs/kernel/recent-map.js';

/** A stream's state as of `revision` (undefined: the stream has no events). */
export interface FoldedStream<S> {
  readonly state: S;
  readonly revision: bigint | undefined;
}

interface Entry {
  readonly evolve: unknown;
  readonly state: unknown;
  readonly revision: bigint;
}

export const DEFAULT_STREAM_STATE_CAPACITY = 10_000;

/**
 * Folded stream states kept between commands, so a command reads only the events appended since the state
 * it reuses instead of the whole stream (the profile of deal registration had a fifth of its time in reading
 * and folding the partner's and the account's streams). Streams are append-only and events never change, so
 * the fold of revisions 0..n stays valid for ever: each `fold` still asks the store for everything after
 * `n`, so the answer is as fresh as a full read, from this or any other process.
 *
 * Entries are keyed by stream and by the `evolve` function that made them (two folds of one stream with
 * different functions do not share), bounded to `capacity` streams, least recently used out first. States
 * are shared between commands, so `evolve` and `decide` must never mutate them (the deciders build new
 * objects; under NODE_ENV=test cached states are frozen, so a mutation fails the tests loudly).
 */
export class StreamStates {
  private readonly entries: RecentMap<string, Entry>;
  private readonly freeze = process.env.NODE_ENV === 'test';
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly store: EventStore,
    capacity = DEFAULT_STREAM_STATE_CAPACITY,
  ) {
    this.entries = new RecentMap(capacity);
  }

  async fold<S, E extends DomainEventShape>(streamId: string, initialState: () => S, evolve: (state: S, event: E) => S): Promise<FoldedStream<S>> {
    const cached = this.entries.get(streamId);
    const usable = cached !== undefined && cached.evolve === evolve ? cached : undefined;
    const events = await this.store.readStream<E>(streamId, usable ? { fromRevision: usable.revision + 1n } : {});
    if (usable) this.hits += 1;
    else this.misses += 1;
    let state = usable ? (usable.state as S) : initialState();
    for (const e of events) state = evolve(state, e);
    const revision = events.length > 0 ? events[events.length - 1]!.revision : usable?.revision;
    if (revision !== undefined && events.length > 0) this.remember(streamId, { evolve, state, revision });
    else if (usable) this.touch(streamId, usable);
    return { state, revision };
  }

  /** The fold of events the caller has already read in full (the cache learns from it too). */
  learn<S, E extends DomainEventShape>(streamId: string, events: readonly Recorded<E>[], initialState: () => S, evolve: (state: S, event: E) => S): FoldedStream<S> {
    let state = initialState();
    for (const e of events) state = evolve(state, e);
    const revision = events.length > 0 ? events[events.length - 1]!.revision : undefined;
    if (revision !== undefined) this.remember(streamId, { evolve, state, revision });
    return { state, revision };
  }

  /**
   * The state after an append of the caller's own: `events` were written right after `revision` (the append
   * was checked against it), so the fold of `state` over them is the stream's state at their last revision.
   */
  appended<S, E extends DomainEventShape>(streamId: string, state: S, revision: bigint | undefined, events: readonly Recorded<E>[], evolve: (state: S, event: E) => S): void {
    const last = events[events.length - 1];
    if (last === undefined || events[0]!.revision !== (revision ?? -1n) + 1n) return;
    let next = state;
    for (const e of events) next = evolve(next, e);
    this.remember(streamId, { evolve, state: next, revision: last.revision });
  }

  /** Reuse counts since start (tests, diagnostics). */
  get stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hits, misses: this.misses, size: this.entries.size };
  }

  private remember(streamId: string, entry: Entry): void {
    const current = this.entries.get(streamId);
    // Two folds of one stream can finish out of order: never replace a later state with an earlier one.
    if (current !== undefined && current.evolve === entry.evolve && current.revision >= entry.revision) return this.touch(streamId, current);
    if (this.freeze) deepFreeze(entry.state);
    this.entries.set(streamId, entry);
  }

  /** Marks the entry as just used (RecentMap keeps the most recently set). */
  private touch(streamId: string, entry: Entry): void {
    this.entries.set(streamId, entry);
  }
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}
