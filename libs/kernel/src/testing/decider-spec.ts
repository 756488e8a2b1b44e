import type { DomainEventShape } from '#events/envelope.js';
import { fold, type Decider } from '../decider.js';

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * The one test kit for deciders (ARCHITECTURE.md style 10, after emmett's DeciderSpecification):
 * `spec.given(events).when(command).then(events)` or `.thenThrows(ErrorClass, extensions?)`.
 * `given` folds with the decider's own `evolve`, so a spec states history as events, never as a hand-made state.
 */
export function deciderSpec<C, S, E extends DomainEventShape>(decider: Decider<C, S, E>, defaultNow: Date) {
  return {
    given(...events: readonly E[]) {
      const state = fold(decider.evolve, decider.initialState(), events);
      return {
        /** The folded state, for assertions on `evolve` itself. */
        state,
        when(command: C, now: Date = defaultNow) {
          const decide = () => decider.decide(command, state, now);
          return {
            /** The decided events, exactly. */
            then(expected: readonly E[]): readonly E[] {
              const events = decide();
              expect(events).toEqual(expected);
              return events;
            },
            /** The decided events, each matching its partial (same count, same order). */
            thenMatches(expected: readonly { type: E['type']; data?: unknown }[]): readonly E[] {
              const events = decide();
              expect(events).toHaveLength(expected.length);
              expect(events).toMatchObject(expected);
              return events;
            },
            /** A refusal: the error's class and, when given, members of the error (message, extensions...). */
            thenThrows(error: ErrorClass, members?: Record<string, unknown>): void {
              let thrown: unknown;
              try {
                decide();
              } catch (e) {
                thrown = e;
              }
              expect(thrown).toBeInstanceOf(error);
              if (members) expect(thrown).toMatchObject(members);
            },
            /** The decided events, for assertions the other forms do not cover. */
            events: decide,
          };
        },
      };
    },
  };
}
