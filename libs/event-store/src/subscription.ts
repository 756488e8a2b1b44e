import type { RecordedEvent } from '#events/envelope.js';
import { matchesFilter, type ReadAllOptions, type ReadFilter, type Subscription } from './port.js';
import type { Notifier } from './notifier.js';

/** Events a subscription's `pages()` reads at a time: a full page means more are probably waiting. */
export const SUBSCRIPTION_PAGE = 500;

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
  readPage?: (o: ReadAllOptions & { readonly limit: number }) => readonly RecordedEvent[],
): Subscription {
  const abort = new AbortController();
  let position = fromPosition;
  async function* run(): AsyncGenerator<RecordedEvent> {
    while (!abort.signal.aborted) {
      let delivered = 0;
      // Scan position must advance even past filtered-out events, so read unfiltered pages and filter here.
      for await (const e of readAll({ fromPosition: position, limit: SUBSCRIPTION_PAGE })) {
        if (abort.signal.aborted) return;
        position = e.position;
        delivered += 1;
        if (matchesFilter(e, filter)) yield e;
      }
      if (delivered === 0) await notifier.wait(pollMs, abort.signal);
    }
  }
  /** The same loop a page at a time, for a store that reads a page synchronously. */
  async function* pages(read: NonNullable<typeof readPage>): AsyncGenerator<readonly RecordedEvent[]> {
    while (!abort.signal.aborted) {
      const page = read({ fromPosition: position, limit: SUBSCRIPTION_PAGE });
      if (page.length === 0) {
        await notifier.wait(pollMs, abort.signal);
        continue;
      }
      position = page[page.length - 1]!.position;
      const wanted = filter === undefined ? page : page.filter((e) => matchesFilter(e, filter));
      if (wanted.length > 0 && !abort.signal.aborted) yield wanted;
    }
  }
  const iterator = run();
  let paging: AsyncGenerator<readonly RecordedEvent[]> | undefined;
  return {
    [Symbol.asyncIterator]: () => iterator,
    ...(readPage === undefined ? {} : { pages: () => (paging ??= pages(readPage)) }),
    async close() {
      abort.abort();
      await Promise.all([iterator.return(undefined), paging?.return(undefined)]);
    },
  };
}
