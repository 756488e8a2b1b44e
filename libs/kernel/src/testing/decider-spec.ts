import type { DomainEventShape, Recorded } from '#events/envelope.js';
import { fold, type Decider } from '../decider.js';

type ErrorClass = abstract new (...args: never[]) => Error;

/** A command, decided at the kit's `now` unless paired with its own time. */
export type Timed<C> = C | readonly [C, Date];

/**
 * An event as the store records it (ids, revision, position and metadata filled in; `recordedAt` as given): for a
 * decider or fold that reads the record time, such as a claim's abandonment rule. A spec never hand-builds one.
 */
export function recorded<E extends DomainEventShape>(event: E, recordedAt = '2026-01-01T00:00:00.000Z', position = 1n, streamId = 'stream-1'): Recorded<E> {
  const commandId = `cmd-${position}`;
  return {
    ...event,
    eventId: `evt-${position}`,
    streamId,
    revision: position - 1n,
    position,
    metadata: { schemaVersion: 1, actor: { id: 'ops-1', role: 'channel-ops' }, commandId, correlationId: commandId, causationId: commandId, recordedAt },
    prevHash: '0'.repeat(64),
    hash: position.toString(16).padStart(64, '0'),
  };
}

/**
 * The one test kit for deciders (ARCHITECTURE.md style 10, after emmett's DeciderSpecification):
 * `spec.given(events).when(command).then(events)` or `.thenThrows(ErrorClass, extensions?)`.
 * `given` folds with the decider's own `evolve`, so a spec states history as events, never as a hand-made state.
 */
export function deciderSpec<C, S, E extends DomainEventShape>(decider: Decider<C, S, E>, defaultNow: Date) {
  const timed = (c: Timed<C>): readonly [C, Date] => (Array.isArray(c) ? (c as readonly [C, Date]) : [c as C, defaultNow]);
  /** The events the decider records for these commands, each decided in turn against `past` and the ones before. */
  const decided = (past: readonly E[], commands: readonly Timed<C>[]): E[] => {
    const events = [...past];
    for (const c of commands) {
      const [command, now] = timed(c);
      events.push(...decider.decide(command, fold(decider.evolve, decider.initialState(), events), now));
    }
    return events.slice(past.length);
  };
  return {
    /**
     * The events the decider records for these commands, each decided in turn (at the kit's `now` unless paired with
     * its own time): a spec states history as the events the decider writes, never as a hand-made state.
     */
    decided: (...commands: readonly Timed<C>[]): E[] => decided([], commands),
    /**
     * Streams that remember what they recorded: `decide(stream, ...commands)` decides each command against that
     * stream's history and answers the new events (for specs that feed a projection from real decisions).
     */
    streams() {
      const history = new Map<string, E[]>();
      return {
        decide(stream: string, ...commands: readonly Timed<C>[]): E[] {
          const past = history.get(stream) ?? [];
          const events = decided(past, commands);
          history.set(stream, [...past, ...events]);
          return events;
        },
        history: (stream: string): readonly E[] => history.get(stream) ?? [],
      };
    },
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
