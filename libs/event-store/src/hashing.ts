import { createHash } from 'node:crypto';
import type { EventMetadata } from '../../../events/envelope.js';

export const GENESIS_HASH = '0'.repeat(64);

/**
 * Deterministic JSON: object keys sorted, no whitespace. Both adapters and `verify` hash this encoding,
 * so an envelope hashes the same wherever it is stored. Positions are not hashed: EventStoreDB assigns
 * them only at commit.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number in event');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface HashedFields {
  readonly eventId: string;
  readonly type: string;
  readonly streamId: string;
  readonly revision: bigint;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export function eventHash(prevHash: string, e: HashedFields): string {
  const body = canonicalJson({
    eventId: e.eventId,
    type: e.type,
    streamId: e.streamId,
    revision: e.revision.toString(),
    data: e.data,
    metadata: e.metadata,
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/** SHA-256 over every stream's head hash, in stream-id order. */
export function digestOfHeads(heads: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  for (const id of [...heads.keys()].sort()) h.update(id).update('\u0000').update(heads.get(id)!).update('\n');
  return h.digest('hex');
}
