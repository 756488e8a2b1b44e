import type { RecordedEvent } from '#events/envelope.js';
import { matchesFilter, type ReadAllOptions, type ReadFilter, type Subscription } from './port.js';
import type { Notifier } from './notifier.js';

/**
 * Catch-up-then-live subscription over any `readAll`: reads pages after the last delivered position and,
 * at the head, waits for a commit notification (or polls, for writers in other processes). Pull-based, so
 * a slow consumer slows the reads instead of growing a buffer.
 */
export function pollingSubscription(
  readAll: (o: ReadAllOptions) => AsyncIterable<RecordedEvent>,
  notifier: Notifier,
  fromPosition: bigint,
  filter: ReadFilter | undefined,
  pollMs = 500,
): Subscription {
  const abort = new AbortController();
  let position = fromPosition;
  async function* run(): AsyncGenerator<RecordedEvent> {
    while (!abort.signal.aborted) {
      let delivered = 0;
      // Scan position must advance even past filtered-out events, so read unfiltered pages and filter here.
      for await (const e of readAll({ fromPosition: position, limit: 500 })) {
        if (abort.signal.aborted) return;
        position = e.position;
        delivered += 1;
        if (matchesFilter(e, filter)) yield e;
      }
      if (delivered === 0) await notifier.wait(pollMs, abort.signal);
    }
  }
  const iterator = run();
  return {
    [Symbol.asyncIterator]: () => iterator,
    async close() {
      abort.abort();
      await iterator.return(undefined);
    },
  };
}
