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
  // Loops and string concatenation rather than entries/filter/map/join: every append hashes its events, and
  // the allocations of the functional form were a tenth of the store's append CPU (profiled). The output is
  // the same byte for byte (hashing.spec.ts checks it against the original form on generated values).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole stays empty, as `map` + `join` left it; an undefined element is null, as in JSON.
      if (i in value) out += canonicalJson(value[i] === undefined ? null : value[i]);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, like `<` on strings.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const k of keys) {
    const v = record[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
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
