import { hash, randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/**
 * Command and event ids. Event ids are derived from their command (and stream, and index), so two racing runs
 * of one command write the same ids and the store keeps one of them.
 *
 * A command without an Idempotency-Key gets a time-ordered id (UUIDv7), and its events inherit its first 48
 * bits (the millisecond timestamp): new ids then land at the end of the log's `event_id` and `command_id`
 * indexes instead of at random pages, so a group commit writes far fewer pages (measured: raw 64-row
 * transactions of the same rows ran about twice as fast with ordered ids as with random ones on this disk).
 * A command with a key keeps an id derived from the key alone, so its retry finds it.
 */
export function newCommandId(): string {
  if (taken + 16 > pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const random = pool.subarray(taken, (taken += 16));
  // The library's own monotonic state, kept here because options bypass it: within one millisecond the
  // sequence counts up from a random start, so ids made in a burst still sort in the order they were made.
  const now = Date.now();
  if (now > clock.msecs) {
    clock.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
    clock.msecs = now;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  return uuidv7({ random, msecs: clock.msecs, seq: clock.seq });
}

/**
 * Random bytes for command ids, 256 ids to a refill: the library draws 16 bytes through WebCrypto's
 * getRandomValues for every id, ~30 µs here (profiled: 3% of a deal registration).
 */
const pool = new Uint8Array(4096);
let taken = pool.length;
const clock = { msecs: -Infinity, seq: 0 };

/** The command id of a request sent with an Idempotency-Key: the same for every retry by the same actor. */
export function commandIdForKey(actorId: string, idempotencyKey: string): string {
  return idFromHash(hex(`${actorId}\n${idempotencyKey}`));
}

/** The id of the `index`-th event a command appends to a stream: the command's first 48 bits, then hash bits. */
export function eventIdFor(commandId: string, streamId: string, index: number): string {
  const prefix = commandId.replace(/-/g, '').slice(0, 12);
  const h = hex(`${commandId}\n${streamId}\n${index}`);
  return idFromHash(/^[0-9a-f]{12}$/.test(prefix) ? prefix + h.slice(12) : h);
}

function hex(input: string): string {
  return hash('sha256', input, 'hex');
}

/** RFC 9562 layout, version 8 (custom), so EventStoreDB accepts derived ids as event ids. */
function idFromHash(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
