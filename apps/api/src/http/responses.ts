import type { RecordedEvent } from '#events/envelope.js';
import type { CommandOutcome } from '#libs/ledger/context.js';

export interface CommandResponse {
  readonly position: string;
  readonly events: readonly { type: string; eventId: string; streamId: string; revision: string; position: string }[];
}

/**
 * API.md: a successful command answers `{ position, events }` plus its own fields. Built only from the
 * recorded events, so a replayed command (same Idempotency-Key) answers the same body.
 */
export function commandResponse<X extends object>(outcome: CommandOutcome, extra: X = {} as X): CommandResponse & X {
  return {
    position: outcome.position.toString(),
    events: outcome.events.map((e: RecordedEvent) => ({
      type: e.type,
      eventId: e.eventId,
      streamId: e.streamId,
      revision: e.revision.toString(),
      position: e.position.toString(),
    })),
    ...extra,
  };
}
