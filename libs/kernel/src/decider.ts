import type { DomainEventShape } from '#events/envelope.js';

/**
 * One consistency boundary: a stream's state is the left fold of `evolve` over its events, and `decide`
 * turns a command into new events against that state (an idempotent no-op returns []).
 */
export interface Decider<C, S, E extends DomainEventShape> {
  readonly initialState: () => S;
  readonly evolve: (state: S, event: E) => S;
  readonly decide: (command: C, state: S, now: Date) => readonly E[];
}

export function fold<S, E>(evolve: (s: S, e: E) => S, initial: S, events: Iterable<E>): S {
  let s = initial;
  for (const e of events) s = evolve(s, e);
  return s;
}

/** Ids chosen by callers (DOMAIN.md, "Money, time, identity"). */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** For `never` exhaustiveness checks at the end of a switch. */
export function assertNever(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
