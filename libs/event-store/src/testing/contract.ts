import { randomUUID } from 'node:crypto';
import { digestAt, verifyLog } from '../integrity.js';
import { DuplicateEventIdError, QueryUnavailableError, WrongExpectedVersionError, type EventStore } from '../port.js';
import { collect, metadata, newEvent, uniqueStream } from './fixtures.js';

/** What a test needs to do to the store behind the port's back (an operator, another program). */
export interface ContractHooks {
  /**
   * Whether an event id already used in ANOTHER stream is refused. SQLite has a unique index; EventStoreDB has
   * no index by event id, and the adapter no longer asks `$by_correlation_id` on every append (a round trip, and
   * a lagging projection) for it: the same id in the same stream is still recognised as a resend.
   */
  readonly crossStreamEventIds?: boolean;
  /** Deletes a stream in the store and removes its events (ESDB: delete, then scavenge). */
  readonly deleteStream?: (streamId: string) => Promise<void>;
  /** Writes an event the ledger did not write (no ledger metadata) into `streamId`. */
  readonly writeForeign?: (streamId: string) => Promise<void>;
}

/**
 * The one contract both adapters must keep (ARCHITECTURE.md, "The event store port"). Every test works on
 * streams of its own, so the suite also runs against a shared EventStoreDB server.
 */
export function eventStoreContract(name: string, open: () => Promise<EventStore>, hooks: ContractHooks = {}): void {
  const crossStream = hooks.crossStreamEventIds ?? true;
  const { deleteStream, writeForeign } = hooks;
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('expected revision', () => {
      it('no_stream creates a stream and is refused once it exists, with the actual revision', async () => {
        const s = uniqueStream();
        const r = await store.append(s, [newEvent('A'), newEvent('B')], 'no_stream');
        expect(r.nextRevision).toBe(1n);
        expect(r.events.map((e) => e.revision)).toEqual([0n, 1n]);
        const err = await store.append(s, [newEvent('C')], 'no_stream').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WrongExpectedVersionError);
        expect((err as WrongExpectedVersionError).actual).toBe(1n);
        expect((err as WrongExpectedVersionError).streamId).toBe(s);
      });

      it('stream_exists is refused on a missing stream and accepted on an existing one', async () => {
        const s = uniqueStream();
        const err = await store.append(s, [newEvent('A')], 'stream_exists').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WrongExpectedVersionError);
        expect((err as WrongExpectedVersionError).actual).toBe('no_stream');
        await store.append(s, [newEvent('A')], 'any');
        const r = await store.append(s, [newEvent('B')], 'stream_exists');
        expect(r.nextRevision).toBe(1n);
      });

      it('an exact revision must equal the head', async () => {
        const s = uniqueStream();
        await store.append(s, [newEvent('A')], 'no_stream');
        await expect(store.append(s, [newEvent('B')], 5n)).rejects.toBeInstanceOf(WrongExpectedVersionError);
        const r = await store.append(s, [newEvent('B')], 0n);
        expect(r.nextRevision).toBe(1n);
        const stale = await store.append(s, [newEvent('C')], 0n).catch((e: unknown) => e);
        expect((stale as WrongExpectedVersionError).actual).toBe(1n);
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B']);
      });

      it('of N concurrent appends with the same expected revision exactly one wins', async () => {
        const s = uniqueStream();
        await store.append(s, [newEvent('Opened')], 'no_stream');
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.append(s, [newEvent('Raced', { i })], 0n)));
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(19);
        for (const l of lost) expect(l.reason).toBeInstanceOf(WrongExpectedVersionError);
        expect(await store.readStream(s)).toHaveLength(2);
      });
    });

    describe('event ids', () => {
      it('resending the same append is idempotent and answers the same', async () => {
        const s = uniqueStream();
        const events = [newEvent('A'), newEvent('B')];
        const first = await store.append(s, events, 'no_stream');
        const again = await store.append(s, events, 'no_stream');
        expect(again.position).toBe(first.position);
        expect(again.events.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
        expect(await store.readStream(s)).toHaveLength(2);
      });

      (crossStream ? it : it.skip)(`refuses an event id already used in another stream${crossStream ? '' : ' (skipped: this store has no index by event id)'}`, async () => {
        const e = newEvent('A');
        await store.append(uniqueStream(), [e], 'no_stream');
        await expect(store.append(uniqueStream(), [e], 'no_stream')).rejects.toBeInstanceOf(DuplicateEventIdError);
      });

      it('refuses an event id already used by a different event of the same stream', async () => {
        const s = uniqueStream();
        const e = newEvent('A');
        await store.append(s, [e, newEvent('B')], 'no_stream');
        await expect(store.append(s, [newEvent('C'), e], 'any')).rejects.toBeInstanceOf(DuplicateEventIdError);
        expect(await store.readStream(s)).toHaveLength(2);
      });

      it('any and stream_exists succeed however many writers race on one stream', async () => {
        const s = uniqueStream('busy');
        await store.append(s, [newEvent('Opened')], 'no_stream');
        const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => store.append(s, [newEvent('Raced', { i })], i % 2 ? 'any' : 'stream_exists')));
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
        const events = await store.readStream(s);
        expect(events).toHaveLength(31);
        expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => BigInt(i)));
      });
    });

    describe('reading', () => {
      it('reads a stream forwards, backwards, from a revision and with a limit; a missing stream is empty', async () => {
        const s = uniqueStream();
        await store.append(s, ['A', 'B', 'C', 'D'].map((t) => newEvent(t)), 'no_stream');
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B', 'C', 'D']);
        expect((await store.readStream(s, { direction: 'backwards', limit: 2 })).map((e) => e.type)).toEqual(['D', 'C']);
        expect((await store.readStream(s, { fromRevision: 2n })).map((e) => e.type)).toEqual(['C', 'D']);
        expect((await store.readStream(s, { fromRevision: 1n, direction: 'backwards' })).map((e) => e.type)).toEqual(['B', 'A']);
        expect(await store.readStream(uniqueStream())).toEqual([]);
      });

      it('round-trips data and metadata, and stamps positions and the hash chain', async () => {
        const s = uniqueStream();
        const meta = metadata({ actor: { id: 'k1', role: 'partner', partnerId: 'P1' } });
        const data = { amount: { amountMinor: 123456789, currency: 'USD' }, nested: [1, { a: 'ü' }] };
        const r = await store.append(s, [{ eventId: randomUUID(), type: 'T', data, metadata: meta }], 'no_stream');
        const [e] = await store.readStream(s);
        expect(e!.data).toEqual(data);
        expect(e!.metadata).toEqual(meta);
        expect(e!.position).toBe(r.position);
        expect(e!.position).toBeGreaterThanOrEqual(1n);
        expect(e!.prevHash).toBe('0'.repeat(64));
        expect(e!.hash).toMatch(/^[0-9a-f]{64}$/);
        const r2 = await store.append(s, [newEvent('U')], 0n);
        expect(r2.events[0]!.prevHash).toBe(e!.hash);
      });

      it('positions are monotonic in commit order across streams, and readAll returns them in that order', async () => {
        const a = uniqueStream('ordera');
        const b = uniqueStream('orderb');
        const start = await store.headPosition();
        const positions: bigint[] = [];
        for (let i = 0; i < 6; i++) positions.push((await store.append(i % 2 ? a : b, [newEvent('E', { i })], 'any')).position);
        for (let i = 1; i < positions.length; i++) expect(positions[i]!).toBeGreaterThan(positions[i - 1]!);
        const all = await collect(store.readAll({ fromPosition: start, filter: { streamPrefixes: [a, b] } }));
        expect(all.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(await store.headPosition()).toBe(positions[5]);
      });

      it('readAll filters by event type and stream prefix, is exclusive of fromPosition and inclusive of toPosition', async () => {
        const cat = `cat${randomUUID().slice(0, 8)}`;
        const start = await store.headPosition();
        const r1 = await store.append(`${cat}-1`, [newEvent('Keep'), newEvent('Drop')], 'no_stream');
        const r2 = await store.append(`${cat}-2`, [newEvent('Keep')], 'no_stream');
        await store.append(uniqueStream('other'), [newEvent('Keep')], 'no_stream');
        const kept = await collect(store.readAll({ fromPosition: start, filter: { eventTypes: ['Keep'], streamPrefixes: [`${cat}-`] } }));
        expect(kept.map((e) => e.streamId)).toEqual([`${cat}-1`, `${cat}-2`]);
        const after = await collect(store.readAll({ fromPosition: r1.events[0]!.position, filter: { streamPrefixes: [`${cat}-`] } }));
        expect(after.map((e) => e.type)).toEqual(['Drop', 'Keep']);
        const upTo = await collect(store.readAll({ fromPosition: start, toPosition: r1.position, filter: { streamPrefixes: [`${cat}-`] } }));
        expect(upTo).toHaveLength(2);
        expect(r2.position).toBeGreaterThan(r1.position);
      });

      it('readAll with the scan hint answers the same events as without it', async () => {
        const cat = `scan${randomUUID().slice(0, 8)}`;
        const start = await store.headPosition();
        await store.append(`${cat}-1`, [newEvent('A'), newEvent('B'), newEvent('C')], 'no_stream');
        await store.append(`${cat}-2`, [newEvent('C'), newEvent('A')], 'no_stream');
        const filter = { eventTypes: ['A', 'C'], streamPrefixes: [`${cat}-`] };
        const indexed = await collect(store.readAll({ fromPosition: start, filter }));
        const scanned = await collect(store.readAll({ fromPosition: start, filter, scan: true }));
        expect(scanned.map((e) => `${e.streamId}:${e.type}`)).toEqual([`${cat}-1:A`, `${cat}-1:C`, `${cat}-2:C`, `${cat}-2:A`]);
        expect(scanned).toEqual(indexed);
      });

      it('readAt answers the events at the positions given, in that order, as readAll does', async () => {
        if (store.readAt === undefined) return; // optional: callers scan instead
        const cat = `at${randomUUID().slice(0, 8)}`;
        const start = await store.headPosition();
        await store.append(`${cat}-1`, [newEvent('A', { n: 1 }), newEvent('B', { n: 2 })], 'no_stream');
        await store.append(`${cat}-2`, [newEvent('C', { n: 3 })], 'no_stream');
        const all = await collect(store.readAll({ fromPosition: start, filter: { streamPrefixes: [`${cat}-`] } }));
        const wanted = [all[0]!.position, all[2]!.position];
        expect(await collect(store.readAt(wanted))).toEqual([all[0], all[2]]);
        expect(await collect(store.readAt([all[1]!.position]))).toEqual([all[1]]);
        expect(await collect(store.readAt(all.map((e) => e.position)))).toEqual(all);
        expect(await collect(store.readAt([]))).toEqual([]);
      });

      it('readAll pages through more events than one page', async () => {
        const s = uniqueStream('paged');
        const start = await store.headPosition();
        for (let i = 0; i < 5; i++) await store.append(s, Array.from({ length: 500 }, (_, j) => newEvent('P', { n: i * 500 + j })), 'any');
        const all = await collect(store.readAll({ fromPosition: start, filter: { streamPrefixes: [s] } }));
        expect(all).toHaveLength(2500);
        expect(all.every((e, i) => (e.data as { n: number }).n === i)).toBe(true);
      });

      it('finds the events a command appended by its command id', async () => {
        const commandId = randomUUID();
        const s = uniqueStream();
        await store.append(s, [newEvent('A', {}, { commandId }), newEvent('B', {}, { commandId })], 'no_stream');
        await store.append(s, [newEvent('C')], 'any');
        await waitUntil(async () => (await store.findByCommandId(commandId)).length === 2);
        expect((await store.findByCommandId(commandId)).map((e) => e.type)).toEqual(['A', 'B']);
        expect(await store.findByCommandId(randomUUID())).toEqual([]);
      });

      it('finds a command\'s events in the streams it names, at once and exactly', async () => {
        const commandId = randomUUID();
        const [a, b, c] = [uniqueStream('cmda'), uniqueStream('cmdb'), uniqueStream('cmdc')];
        await store.append(a, [newEvent('Before'), newEvent('A1', {}, { commandId })], 'no_stream');
        await store.append(b, [newEvent('B1', {}, { commandId })], 'no_stream');
        await store.append(c, [newEvent('C1', {}, { commandId })], 'no_stream');
        await store.append(a, [newEvent('After')], 'any');
        // No waiting: the answer must not depend on anything that trails the log.
        expect((await store.findByCommandId(commandId, { streams: [a, b] })).map((e) => e.type)).toEqual(['A1', 'B1']);
        expect(await store.findByCommandId(commandId, { streams: [uniqueStream()] })).toEqual([]);
        expect(await store.findByCommandId(randomUUID(), { streams: [a, b, c] })).toEqual([]);
      });

      (writeForeign ? it : it.skip)(`skips an event the ledger did not write, in reads of the log and subscriptions${writeForeign ? '' : ' (skipped: nothing but the ledger can write to this store)'}`, async () => {
        const cat = `foreign${randomUUID().slice(0, 8)}`;
        const start = await store.headPosition();
        await store.append(`${cat}-1`, [newEvent('Mine', { n: 1 })], 'no_stream');
        await writeForeign!(`${cat}-2`);
        const last = await store.append(`${cat}-3`, [newEvent('Mine', { n: 2 })], 'no_stream');
        expect((await collect(store.readAll({ fromPosition: start, filter: { streamPrefixes: [`${cat}-`] } }))).map((e) => e.streamId)).toEqual([`${cat}-1`, `${cat}-3`]);
        expect((await collect(store.readAll({ fromPosition: start }))).some((e) => e.streamId === `${cat}-2`)).toBe(false);
        const sub = store.subscribe(start, { streamPrefixes: [`${cat}-`] });
        const seen = await collect(sub, 2);
        await sub.close();
        expect(seen.map((e) => e.position)).toEqual([expect.any(BigInt), last.position]);
        expect(await store.headPosition()).toBe(last.position);
      });
    });

    describe('subscribe', () => {
      it('catches up, then delivers live events in log order, filtered, and stops on close', async () => {
        const cat = `sub${randomUUID().slice(0, 8)}`;
        const start = await store.headPosition();
        await store.append(`${cat}-1`, [newEvent('A', { n: 1 }), newEvent('Skip')], 'no_stream');
        await store.append(`${cat}-2`, [newEvent('A', { n: 2 })], 'no_stream');
        const sub = store.subscribe(start, { eventTypes: ['A'], streamPrefixes: [`${cat}-`] });
        const seen: number[] = [];
        const done = (async () => {
          for await (const e of sub) {
            seen.push((e.data as { n: number }).n);
            if (seen.length === 4) break;
          }
        })();
        await waitUntil(async () => seen.length >= 2);
        await store.append(`${cat}-1`, [newEvent('A', { n: 3 })], 'any');
        await store.append(`${cat}-3`, [newEvent('Skip'), newEvent('A', { n: 4 })], 'any');
        await done;
        expect(seen).toEqual([1, 2, 3, 4]);
        await sub.close();
      });

      it('resumes after a given position without repeating it', async () => {
        const s = uniqueStream('resume');
        const r = await store.append(s, [newEvent('A', { n: 1 }), newEvent('A', { n: 2 }), newEvent('A', { n: 3 })], 'no_stream');
        const sub = store.subscribe(r.events[0]!.position, { streamPrefixes: [s] });
        const got: number[] = [];
        for await (const e of sub) {
          got.push((e.data as { n: number }).n);
          if (got.length === 2) break;
        }
        await sub.close();
        expect(got).toEqual([2, 3]);
      });

      it('close() ends a subscription that is waiting for live events', async () => {
        const sub = store.subscribe(await store.headPosition(), { streamPrefixes: [uniqueStream('idle')] });
        const ended = (async () => {
          let n = 0;
          for await (const _ of sub) n += 1;
          return n;
        })();
        await new Promise((r) => setTimeout(r, 50));
        await sub.close();
        await expect(ended).resolves.toBe(0);
      });
    });

    describe('tamper evidence', () => {
      it('verify passes on an untouched log and the digest moves with every append', async () => {
        await store.append(uniqueStream(), [newEvent('A')], 'no_stream');
        const d1 = await digestAt(store);
        const v = await verifyLog(store, { digest: d1.digest, position: d1.position });
        expect(v.ok).toBe(true);
        expect(v.digestMatches).toBe(true);
        expect(v.checkedEvents).toBeGreaterThan(0);
        await store.append(uniqueStream(), [newEvent('B')], 'no_stream');
        const d2 = await digestAt(store);
        expect(d2.digest).not.toBe(d1.digest);
        // The old digest still verifies at its own position: an auditor can check any past point.
        expect((await verifyLog(store, { position: d1.position, digest: d1.digest })).digestMatches).toBe(true);
        expect((await verifyLog(store, { digest: d1.digest })).digestMatches).toBe(false);
      });

      it('import keeps ids, record times and hashes, and refuses what does not continue a chain', async () => {
        const s = uniqueStream('imp');
        const source = await store.append(s, [newEvent('A'), newEvent('B')], 'no_stream');
        const other = await open();
        try {
          const t = uniqueStream('imp');
          const copy = source.events.map((e) => ({ ...e, streamId: t }));
          // Renaming the stream changes the hashed content, so the copy is refused as tampered.
          await expect(other.importRecorded(copy[0]!)).rejects.toThrow(/hash/);
          expect(await other.readStream(t)).toEqual([]);
        } finally {
          await other.close();
        }
        // An event already there with the same content is success (an import resumed after a failure that hid
        // its write), and answers where it is; a different event at that revision is refused.
        expect(await store.importRecorded(source.events[0]!)).toBe(source.events[0]!.position);
        expect(await store.importRecorded(source.events[1]!)).toBe(source.events[1]!.position);
        await expect(store.importRecorded({ ...source.events[1]!, eventId: randomUUID() })).rejects.toBeInstanceOf(WrongExpectedVersionError);
        expect(await store.readStream(s)).toHaveLength(2);
      });

      it('an import run again from its start goes on where it stopped', async () => {
        const s = uniqueStream('resume');
        const source = await store.append(s, [newEvent('A'), newEvent('B'), newEvent('C')], 'no_stream');
        const target = await open();
        try {
          const first = await target.importRecorded(source.events[0]!);
          // The run stops here (say a timeout hid the second write), and is started again from the beginning.
          await target.importRecorded(source.events[1]!);
          const again = [];
          for (const e of source.events) again.push(await target.importRecorded(e));
          expect(again[0]).toBe(first);
          expect((await target.readStream(s)).map((e) => e.eventId)).toEqual(source.events.map((e) => e.eventId));
        } finally {
          await target.close();
        }
      });

      (deleteStream ? it : it.skip)(`verify fails when a stream's events vanish from the store${deleteStream ? '' : ' (skipped: this store cannot delete)'}`, async () => {
        await store.append(uniqueStream('kept'), [newEvent('A')], 'no_stream');
        const doomed = uniqueStream('doomed');
        await store.append(doomed, [newEvent('A'), newEvent('B')], 'no_stream');
        const before = await verifyLog(store);
        expect(before.ok).toBe(true);
        await deleteStream!(doomed);
        const after = await verifyLog(store, { digest: before.digest, position: before.position });
        expect(after.ok).toBe(false);
        expect(after.reason).toMatch(doomed);
      });
    });
  });
}

/** Polls `cond`; a store that says it cannot answer yet (`QueryUnavailableError`) counts as "not yet". */
export async function waitUntil(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  const attempt = (): Promise<boolean> =>
    cond().catch((err: unknown) => {
      if (err instanceof QueryUnavailableError) return false;
      throw err;
    });
  while (!(await attempt())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
