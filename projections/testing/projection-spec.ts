import Database from 'better-sqlite3';
import type { DomainEventShape, RecordedEvent } from '#events/envelope.js';
import type { Decider } from '#libs/kernel/decider.js';
import { deciderSpec, type Timed } from '#libs/kernel/testing/decider-spec.js';
import type { Projection } from '../runner/projection.js';

/**
 * The one test kit for projections: events become recorded events (positions, revisions per stream, ids and
 * metadata filled in) and are applied in order to a fresh in-memory database, as the runner applies them;
 * queries then run against that database.
 */
export function projectionSpec(projection: Projection, options: { recordedAt?: string; streamOf: (event: DomainEventShape) => string }) {
  const db = new Database(':memory:');
  projection.migrate(db);
  let position = 0n;
  const revisions = new Map<string, bigint>();

  function record(event: DomainEventShape, recordedAt = options.recordedAt ?? '2026-01-01T00:00:00.000Z'): RecordedEvent {
    position += 1n;
    const streamId = options.streamOf(event);
    const revision = revisions.get(streamId) ?? 0n;
    revisions.set(streamId, revision + 1n);
    return {
      eventId: `evt-${position}`,
      type: event.type,
      streamId,
      revision,
      position,
      data: event.data,
      metadata: { schemaVersion: 1, actor: { id: 'ops-1', role: 'channel-ops' }, commandId: `cmd-${position}`, correlationId: `cmd-${position}`, causationId: `cmd-${position}`, recordedAt },
      prevHash: '0'.repeat(64),
      hash: position.toString(16).padStart(64, '0'),
    };
  }

  /** Applies the events (a projection skips the types it does not handle, as the runner does). */
  function given(...events: readonly (DomainEventShape | RecordedEvent)[]): RecordedEvent[] {
    const recorded = events.map((e) => ('position' in e ? (e as RecordedEvent) : record(e)));
    for (const e of recorded) if (projection.canHandle.includes(e.type)) projection.evolve(db, e);
    return recorded;
  }

  return {
    db,
    given,
    /**
     * A decider's streams feeding the read model: `(stream, ...commands)` decides each command against what that
     * stream recorded before (the decider kit's `streams()`, at `now` unless a command is paired with its own time)
     * and applies the decided events as `given` does. Specs state history as commands, never as hand-built events.
     */
    decided<C, S, E extends DomainEventShape>(decider: Decider<C, S, E>, now: Date) {
      const streams = deciderSpec(decider, now).streams();
      return (stream: string, ...commands: readonly Timed<C>[]): RecordedEvent[] => given(...streams.decide(stream, ...commands));
    },
    /** A recorded event without applying it (to apply later, or with a chosen record time). */
    record,
    close: () => db.close(),
  };
}
