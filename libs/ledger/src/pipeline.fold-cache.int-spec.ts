import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainEventShape, Recorded } from '#events/envelope.js';
import type { EventStore, ReadStreamOptions } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { newEvent } from '#libs/event-store/testing/fixtures.js';
import type { Decider } from '#libs/kernel/decider.js';
import { commandContext } from './context.js';
import { CommandPipeline, StreamStates } from './pipeline.js';

interface Tally {
  readonly seen: readonly number[];
}
type Ev = { type: string; data: { n: number } };
const initial = (): Tally => ({ seen: [] });
const evolve = (s: Tally, e: Ev): Tally => ({ seen: [...s.seen, e.data.n] });
const evolveOther = (s: Tally, e: Ev): Tally => ({ seen: [...s.seen, -e.data.n] });

/** The store, counting the events each readStream returned and the revision it started from. */
function counting(store: EventStore): EventStore & { reads: { streamId: string; from: bigint | undefined; events: number }[] } {
  const reads: { streamId: string; from: bigint | undefined; events: number }[] = [];
  return Object.assign(Object.create(store) as EventStore, {
    reads,
    async readStream<E extends DomainEventShape>(streamId: string, options?: ReadStreamOptions): Promise<Recorded<E>[]> {
      const events = await store.readStream<E>(streamId, options);
      reads.push({ streamId, from: options?.fromRevision, events: events.length });
      return events;
    },
  });
}

describe('StreamStates: folded stream states reused between commands', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stream-states-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const put = (streamId: string, ...ns: number[]) => store.append(streamId, ns.map((n) => newEvent('N', { n })), 'any');

  it('reads only what was appended since the state it reuses, and answers what a full fold answers', async () => {
    const s = counting(store);
    const states = new StreamStates(s);
    await put('t-1', 1, 2, 3);
    expect(await states.fold('t-1', initial, evolve)).toEqual({ state: { seen: [1, 2, 3] }, revision: 2n });
    await put('t-1', 4);
    expect(await states.fold('t-1', initial, evolve)).toEqual({ state: { seen: [1, 2, 3, 4] }, revision: 3n });
    expect(await states.fold('t-1', initial, evolve)).toEqual({ state: { seen: [1, 2, 3, 4] }, revision: 3n });
    expect(s.reads).toEqual([
      { streamId: 't-1', from: undefined, events: 3 },
      { streamId: 't-1', from: 3n, events: 1 },
      { streamId: 't-1', from: 4n, events: 0 },
    ]);
    expect(states.stats).toEqual({ hits: 2, misses: 1, size: 1 });
  });

  it('sees events appended by another process (another connection to the same file)', async () => {
    const states = new StreamStates(store);
    await put('t-2', 1);
    await states.fold('t-2', initial, evolve);
    const other = SqliteEventStore.open(store.file);
    await other.append('t-2', [newEvent('N', { n: 2 })], 0n);
    await other.close();
    expect((await states.fold('t-2', initial, evolve)).state.seen).toEqual([1, 2]);
  });

  it('an empty stream folds to the initial state at no revision, and is not remembered', async () => {
    const states = new StreamStates(store);
    expect(await states.fold('t-none', initial, evolve)).toEqual({ state: { seen: [] }, revision: undefined });
    expect(states.stats.size).toBe(0);
  });

  it('does not share a state between two evolve functions', async () => {
    const states = new StreamStates(store);
    await put('t-3', 1, 2);
    expect((await states.fold('t-3', initial, evolve)).state.seen).toEqual([1, 2]);
    expect((await states.fold('t-3', initial, evolveOther)).state.seen).toEqual([-1, -2]);
    expect((await states.fold('t-3', initial, evolve)).state.seen).toEqual([1, 2]);
  });

  it('keeps at most `capacity` streams, least recently used out first', async () => {
    const s = counting(store);
    const states = new StreamStates(s, 2);
    for (const id of ['a-1', 'a-2', 'a-3']) await put(id, 1);
    await states.fold('a-1', initial, evolve);
    await states.fold('a-2', initial, evolve);
    await states.fold('a-1', initial, evolve); // a-1 is now the most recent
    await states.fold('a-3', initial, evolve); // evicts a-2
    s.reads.length = 0;
    await states.fold('a-1', initial, evolve);
    await states.fold('a-2', initial, evolve);
    expect(s.reads.map((r) => [r.streamId, r.from])).toEqual([
      ['a-1', 1n],
      ['a-2', undefined],
    ]);
    expect(states.stats.size).toBe(2);
  });

  it('never replaces a later state with an earlier one when folds finish out of order', async () => {
    const s = counting(store);
    const states = new StreamStates(s);
    await put('t-4', 1, 2, 3);
    const all = await store.readStream<Ev>('t-4');
    states.learn('t-4', all, initial, evolve);
    states.learn('t-4', all.slice(0, 1), initial, evolve);
    expect((await states.fold('t-4', initial, evolve)).state.seen).toEqual([1, 2, 3]);
    expect(s.reads).toEqual([{ streamId: 't-4', from: 3n, events: 0 }]);
  });

  it('freezes cached states under test, so an evolve that mutates its input fails loudly', async () => {
    const mutating = (s: { seen: number[] }, e: Ev) => {
      s.seen.push(e.data.n);
      return s;
    };
    const states = new StreamStates(store);
    await put('t-5', 1);
    await states.fold('t-5', () => ({ seen: [] as number[] }), mutating);
    await put('t-5', 2);
    await expect(states.fold('t-5', () => ({ seen: [] as number[] }), mutating)).rejects.toThrow(TypeError);
  });

  it('the pipeline decides once on the cached state, and reads and decides again only when another writer moved the stream in between', async () => {
    const s = counting(store);
    const pipeline = new CommandPipeline(s, { now: () => new Date('2026-01-01T00:00:00.000Z') });
    const actor = { id: 'k', role: 'admin' } as const;
    const plain = () => commandContext(actor, { method: 'POST', path: '/x', body: {} });
    let decisions = 0;
    let interfere = false;
    const decider: Decider<number, Tally, Ev> = {
      initialState: initial,
      evolve,
      decide: (n, state) => {
        decisions += 1;
        // Another process appends between this decision's read and its append, once.
        if (interfere) {
          interfere = false;
          void put('t-7', 99);
        }
        return [{ type: 'N', data: { n: state.seen.length + n } }];
      },
    };
    await put('t-7', 0);
    await pipeline.handle(plain(), 't-7', decider, 0);
    expect(decisions).toBe(1);
    interfere = true;
    decisions = 0;
    const second = await pipeline.handle(plain(), 't-7', decider, 0);
    expect(decisions).toBe(2);
    expect((second.events[0]!.data as { n: number }).n).toBe(3);
    expect((await store.readStream<Ev>('t-7')).map((e) => e.data.n)).toEqual([0, 1, 99, 3]);
  });

  it('the pipeline decides on the reused state for a plain command, and reads in full for an idempotent one', async () => {
    const s = counting(store);
    const pipeline = new CommandPipeline(s, { now: () => new Date('2026-01-01T00:00:00.000Z') });
    const actor = { id: 'k', role: 'admin' } as const;
    const decider: Decider<number, Tally, Ev> = { initialState: initial, evolve, decide: (n, state) => [{ type: 'N', data: { n: state.seen.length + n } }] };
    const plain = () => commandContext(actor, { method: 'POST', path: '/x', body: {} });
    await pipeline.handle(plain(), 't-6', decider, 0);
    await pipeline.handle(plain(), 't-6', decider, 0);
    await put('t-6', 100);
    const third = await pipeline.handle(plain(), 't-6', decider, 0);
    expect((third.events[0]!.data as { n: number }).n).toBe(3);
    expect(s.reads.map((r) => r.from)).toEqual([undefined, 1n, 2n]);
    s.reads.length = 0;
    const keyed = commandContext(actor, { method: 'POST', path: '/x', body: {}, idempotencyKey: 'k-1' });
    await pipeline.handle(keyed, 't-6', decider, 0);
    expect(s.reads).toEqual([{ streamId: 't-6', from: undefined, events: 4 }]);
    // Its retry finds its own events in the stream and answers them again.
    const retry = await pipeline.handle(keyed, 't-6', decider, 0);
    expect(retry.replayed).toBe(true);
    expect((await store.readStream('t-6')).length).toBe(5);
  });
});
