import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '#events/envelope.js';
import type { EventStore, ReadStreamOptions } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { newEvent } from '#libs/event-store/testing/fixtures.js';
import { CommandExecutor, commandContext } from './command-executor.js';
import { StreamStates } from './stream-states.js';

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
    async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
      const events = await store.readStream(streamId, options);
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
    const all = await store.readStream('t-4');
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

  it('the executor decides a first attempt on a state the caller folded, and reads again when it was stale', async () => {
    const s = counting(store);
    const executor = new CommandExecutor(s, { now: () => new Date('2026-01-01T00:00:00.000Z') });
    const actor = { id: 'k', role: 'admin' } as const;
    const command = {
      streamId: 't-7',
      initialState: initial,
      evolve,
      decide: (state: Tally) => [{ type: 'N', data: { n: state.seen.length } }],
    };
    const plain = () => commandContext(actor, { method: 'POST', path: '/x', body: {} });
    await put('t-7', 0);
    const known = await executor.states.fold('t-7', initial, evolve);
    s.reads.length = 0;
    const first = await executor.execute(plain(), command, { known });
    expect((first.events[0]!.data as { n: number }).n).toBe(1);
    expect(s.reads).toEqual([]);
    // Another writer moves the stream after the caller folded it: the append at the old revision is refused,
    // and the retry reads and decides on what is there now.
    const stale = await executor.states.fold('t-7', initial, evolve);
    await put('t-7', 99);
    s.reads.length = 0;
    const second = await executor.execute(plain(), command, { known: stale });
    expect((second.events[0]!.data as { n: number }).n).toBe(3);
    expect(s.reads.map((r) => r.from)).toEqual([2n]);
    expect((await store.readStream('t-7')).map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 99, 3]);
  });

  it('the executor decides on the reused state for a plain command, and reads in full for an idempotent one', async () => {
    const s = counting(store);
    const executor = new CommandExecutor(s, { now: () => new Date('2026-01-01T00:00:00.000Z') });
    const actor = { id: 'k', role: 'admin' } as const;
    const command = (n: number) => ({
      streamId: 't-6',
      initialState: initial,
      evolve,
      decide: (state: Tally) => [{ type: 'N', data: { n: state.seen.length + n } }],
    });
    const plain = () => commandContext(actor, { method: 'POST', path: '/x', body: {} });
    await executor.execute(plain(), command(0));
    await executor.execute(plain(), command(0));
    await put('t-6', 100);
    const third = await executor.execute(plain(), command(0));
    expect((third.events[0]!.data as { n: number }).n).toBe(3);
    expect(s.reads.map((r) => r.from)).toEqual([undefined, 1n, 2n]);
    s.reads.length = 0;
    const keyed = commandContext(actor, { method: 'POST', path: '/x', body: {}, idempotencyKey: 'k-1' });
    await executor.execute(keyed, command(0));
    expect(s.reads).toEqual([{ streamId: 't-6', from: undefined, events: 4 }]);
    // Its retry finds its own events in the stream and answers them again.
    const retry = await executor.execute(keyed, command(0));
    expect(retry.replayed).toBe(true);
    expect((await store.readStream('t-6')).length).toBe(5);
  });
});
