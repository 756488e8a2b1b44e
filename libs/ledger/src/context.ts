import { createHash } from 'node:crypto';
import type { Actor, RecordedEvent } from '#events/envelope.js';
import { canonicalJson } from '#libs/event-store/hashing.js';
import { commandIdForKey, newCommandId } from '#libs/event-store/ids.js';

/** Who issued a command and how to find its earlier run: built once per request (or per simulated command). */
export interface CommandContext {
  readonly actor: Actor;
  readonly commandId: string;
  readonly correlationId: string;
  readonly causationId: string;
  /** Set when the request carried an `Idempotency-Key`. */
  readonly requestHash?: string;
}

export interface CommandOutcome {
  /** Position of the last event appended, or the log's head when the command was a no-op. */
  readonly position: bigint;
  readonly events: readonly RecordedEvent[];
  /** True when these events were appended by an earlier run of the same command. */
  readonly replayed: boolean;
}

/**
 * Builds the context of one command. With an `Idempotency-Key`, the command id is derived from the key and
 * the actor, so a retry has the same command id (and the same event ids) and finds its earlier events in
 * the log, even after a crash between the append and the answer.
 */
export function commandContext(actor: Actor, request: { idempotencyKey?: string; method: string; path: string; body: unknown; requestId?: string }): CommandContext {
  if (request.idempotencyKey === undefined) {
    const commandId = newCommandId();
    return { actor, commandId, correlationId: request.requestId ?? commandId, causationId: commandId };
  }
  const commandId = commandIdForKey(actor.id, request.idempotencyKey);
  const requestHash = createHash('sha256').update(`${request.method} ${request.path}\n${canonicalJson(request.body ?? {})}`).digest('hex');
  return { actor, commandId, correlationId: request.requestId ?? commandId, causationId: commandId, requestHash };
}
