import { randomUUID } from 'node:crypto';
import type { EventMetadata } from '#events/envelope.js';
import type { NewEvent } from '../port.js';

export function metadata(overrides: Partial<EventMetadata> = {}): EventMetadata {
  const commandId = overrides.commandId ?? randomUUID();
  return {
    schemaVersion: 1,
    actor: { id: 'test', role: 'admin' },
    commandId,
    correlationId: commandId,
    causationId: commandId,
    recordedAt: new Date().toISOString(),
    ...overrides,
  };
}

export function newEvent(type: string, data: unknown = {}, meta: Partial<EventMetadata> = {}): NewEvent {
  return { eventId: randomUUID(), type, data, metadata: metadata(meta) };
}

/** A stream id unique to one test, so the suite can run against a shared EventStoreDB server. */
export function uniqueStream(category = 'test'): string {
  return `${category}-${randomUUID().replace(/-/g, '')}`;
}

export async function collect<T>(it: AsyncIterable<T>, max = Infinity): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) {
    out.push(x);
    if (out.length >= max) break;
  }
  return out;
}
