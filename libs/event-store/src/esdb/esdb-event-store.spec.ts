import { createServer, type Server, type Socket } from 'node:net';
import { AccessDeniedError, MaxAppendSizeExceededError, StreamDeletedError as EsdbStreamDeletedError, UnavailableError, UnknownError, DeadlineExceededError } from '@eventstore/db-client';
import { verifyLog } from '../integrity.js';
import {
  AppendTooLargeError,
  InvalidPositionError,
  QueryUnavailableError,
  StoreAccessDeniedError,
  StoreUnavailableError,
  StreamDeletedError,
  type EventStore,
} from '../port.js';
import { eventStoreContract } from '../testing/contract.js';
import { FakeEsdbClient } from '../testing/fake-esdb-client.js';
import { collect, newEvent, uniqueStream } from '../testing/fixtures.js';
import { EsdbEventStore, deadlineFrom, splitNamespace } from './esdb-event-store.js';
import { encodePosition } from './mapping.js';

// The whole shared contract against the in-memory server, then what only faults can show. The same contract
// runs against a live server in esdb-event-store.int-spec.ts when EVENTSTORE_CONNECTION_STRING is set.
let shared = new FakeEsdbClient();
beforeEach(() => {
  shared = new FakeEsdbClient();
});
eventStoreContract('EventStoreDB adapter on an in-memory server', async () => new EsdbEventStore(shared.asClient(), { deadlineMs: 2000 }), {
  crossStreamEventIds: false,
  deleteStream: async (id) => {
    shared.deleteStream(id);
    shared.scavenge();
  },
  writeForeign: async (id) => {
    shared.writeForeign(id, 'SomethingElse', { not: 'ours' });
  },
});

// The same contract for a ledger in a namespace, beside another ledger's events on the same server.
eventStoreContract(
  'EventStoreDB adapter in a namespace, sharing an in-memory server',
  async () => {
    const neighbour = new EsdbEventStore(shared.asClient(), { namespace: 'other.' });
    await neighbour.append(uniqueStream(), [newEvent('Neighbour')], 'any');
    return new EsdbEventStore(shared.asClient(), { deadlineMs: 2000, namespace: 'mine.' });
  },
  {
    crossStreamEventIds: false,
    deleteStream: async (id) => {
      shared.deleteStream(`mine.${id}`);
      shared.scavenge();
    },
    writeForeign: async (id) => {
      shared.writeForeign(`mine.${id}`, 'SomethingElse', { not: 'ours' });
    },
  },
);

describe('namespaces', () => {
  it('two ledgers on one server use the same stream ids without seeing each other', async () => {
    const fake = new FakeEsdbClient();
    const a = new EsdbEventStore(fake.asClient(), { namespace: 'a.' });
    const b = new EsdbEventStore(fake.asClient(), { namespace: 'b.' });
    await a.append('partner-P1', [newEvent('Enrolled', { by: 'a' })], 'no_stream');
    await b.append('partner-P1', [newEvent('Enrolled', { by: 'b' })], 'no_stream');
    expect(fake.log.map((r) => r.streamId)).toEqual(['a.partner-P1', 'b.partner-P1']);
    expect((await a.readStream('partner-P1')).map((e) => e.data)).toEqual([{ by: 'a' }]);
    expect((await collect(b.readAll())).map((e) => [e.streamId, e.data])).toEqual([['partner-P1', { by: 'b' }]]);
    expect(await a.headPosition()).toBeLessThan(await b.headPosition());
    expect((await verifyLog(a)).ok).toBe(true);
  });

  it('comes from the connection string, which the client gets without it', () => {
    expect(splitNamespace('esdb://h:2113?tls=false&ledgerNamespace=t1.&defaultDeadline=5')).toEqual({ clientString: 'esdb://h:2113?tls=false&defaultDeadline=5', namespace: 't1.' });
    expect(splitNamespace('esdb://h:2113?ledgerNamespace=t1.')).toEqual({ clientString: 'esdb://h:2113', namespace: 't1.' });
    expect(splitNamespace('esdb://h:2113?ledgerNamespace=t1.&tls=false')).toEqual({ clientString: 'esdb://h:2113?tls=false', namespace: 't1.' });
    expect(splitNamespace('esdb://h:2113?tls=false')).toEqual({ clientString: 'esdb://h:2113?tls=false' });
  });
});

describe('EventStoreDB adapter on an in-memory server, with legacy (pre-v20) positions', () => {
  it('keeps log order and exact positions when the events of one append share a commit position', async () => {
    const fake = new FakeEsdbClient();
    fake.legacyTransactions = true;
    const store = new EsdbEventStore(fake.asClient());
    const s = uniqueStream();
    const r = await store.append(s, [newEvent('A'), newEvent('B'), newEvent('C')], 'no_stream');
    const one = await store.append(s, [newEvent('D')], 'any');
    const positions = [...r.events.map((e) => e.position), one.position];
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    expect(new Set(positions).size).toBe(4);
    expect(fake.log.map((x) => encodePosition(x.position))).toEqual(positions);
    const read = await collect(store.readAll({ fromPosition: r.events[0]!.position }));
    expect(read.map((e) => e.type)).toEqual(['B', 'C', 'D']);
    // Point reads (a statement's index): each event by its own position, inside a transaction too.
    expect((await collect(store.readAt([positions[1]!, positions[2]!, positions[3]!]))).map((e) => e.type)).toEqual(['B', 'C', 'D']);
    await store.close();
  });
});

describe('point reads (readAt)', () => {
  it('one round trip a position, in the order given; another namespace\'s event is skipped', async () => {
    const fake = new FakeEsdbClient();
    const a = new EsdbEventStore(fake.asClient(), { namespace: 'a.' });
    const b = new EsdbEventStore(fake.asClient(), { namespace: 'b.' });
    const mine = await a.append('s-1', Array.from({ length: 20 }, (_, i) => newEvent('A', { i })), 'no_stream');
    const theirs = await b.append('s-1', [newEvent('B')], 'no_stream');
    const wanted = [...mine.events.map((e) => e.position), theirs.position];
    const before = fake.calls.length;
    const read = await collect(a.readAt(wanted));
    expect(read).toEqual(mine.events.map((e) => ({ ...e, streamId: 's-1' })));
    expect(fake.calls.slice(before)).toEqual(Array.from({ length: 21 }, () => 'readAll'));
    await a.close();
    await b.close();
  });
});

describe('EventStoreDB adapter faults', () => {
  let fake: FakeEsdbClient;
  let store: EventStore;
  beforeEach(() => {
    fake = new FakeEsdbClient();
    store = new EsdbEventStore(fake.asClient(), { deadlineMs: 300 });
  });
  afterEach(async () => {
    await store.close();
  });

  describe('round trips per append (defect 8)', () => {
    it('a one-event append is two calls (head, append), a multi-event one three', async () => {
      const s = uniqueStream();
      await store.append(s, [newEvent('A')], 'no_stream');
      expect(fake.calls).toEqual(['readStream', 'appendToStream']);
      fake.calls.length = 0;
      await store.append(s, [newEvent('B'), newEvent('C')], 0n);
      expect(fake.calls).toEqual(['readStream', 'appendToStream', 'readStream']);
    });

    it('the position a one-event append answers is the one reads return', async () => {
      const s = uniqueStream();
      const r = await store.append(s, [newEvent('A', { n: 1 })], 'no_stream');
      const [read] = await store.readStream(s);
      expect(read).toEqual(r.events[0]);
    });

    it('any goes on past ten lost races', async () => {
      const s = uniqueStream();
      await store.append(s, [newEvent('A')], 'no_stream');
      // Another writer wins each of the next 15 attempts.
      const other = new EsdbEventStore(fake.asClient());
      const realAppend = fake.appendToStream.bind(fake);
      let lost = 0;
      fake.appendToStream = (async (...args: Parameters<FakeEsdbClient['appendToStream']>) => {
        if (args[0] === s && lost < 15) {
          lost += 1;
          fake.appendToStream = realAppend;
          await other.append(s, [newEvent('Other')], 'any');
          fake.appendToStream = wrapped;
        }
        return realAppend(...args);
      }) as FakeEsdbClient['appendToStream'];
      const wrapped = fake.appendToStream;
      const store2 = new EsdbEventStore(fake.asClient(), { deadlineMs: 5000 });
      const r = await store2.append(s, [newEvent('Mine')], 'any');
      fake.appendToStream = realAppend;
      expect(lost).toBe(15);
      expect(r.nextRevision).toBe(16n);
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', ...Array(15).fill('Other'), 'Mine']);
    });
  });

  describe('deadlines (defect 2)', () => {
    it.each([
      ['a ping', (st: EventStore) => st.ping(), 'readAll'],
      ['a stream read', (st: EventStore) => st.readStream('s-1'), 'readStream'],
      ['the head', (st: EventStore) => st.headPosition(), 'readAll'],
      ['an append', (st: EventStore) => st.append(uniqueStream(), [newEvent('A')], 'any'), 'readStream'],
      ['a read of the log', (st: EventStore) => collect(st.readAll({ fromPosition: 0n, toPosition: 1n << 40n })), 'subscribeToAll'],
    ] as const)('%s that is never answered fails with StoreUnavailableError', async (_, call, method) => {
      fake.fail(method, 'hang');
      await expect(call(store)).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('an append whose answer never comes fails with StoreUnavailableError', async () => {
      fake.fail('appendToStream', 'hang');
      await expect(store.append(uniqueStream(), [newEvent('A')], 'any')).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('a subscription the server never confirms ends with StoreUnavailableError', async () => {
      fake.fail('subscribeToAll', 'hang');
      const sub = store.subscribe(0n);
      await expect(collect(sub, 1)).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('takes the deadline from the connection string', () => {
      expect(deadlineFrom('esdb://u:p@a:2113,b:2113?tls=true&defaultDeadline=2500')).toBe(2500);
      expect(deadlineFrom('esdb://localhost:2113?tls=false')).toBeUndefined();
    });
  });

  describe('a node that accepts connections and never answers (defect 2, the real client)', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    it('ping fails within its deadline instead of hanging', async () => {
      const { port } = server.address() as { port: number };
      const real = EsdbEventStore.connect(`esdb://127.0.0.1:${port}?tls=false&defaultDeadline=400`);
      try {
        await expect(real.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(real.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);
      } finally {
        await real.close();
      }
    }, 10_000);
  });

  describe('positions (defect 3)', () => {
    it('refuses a position the store never issued with InvalidPositionError, before any call', () => {
      // A SQLite-era Last-Event-ID: decodes to a negative prepare position.
      expect(() => store.subscribe(12345n)).toThrow(InvalidPositionError);
      expect(fake.calls).toEqual([]);
    });

    it('a read of the log from such a position fails the same way', async () => {
      await expect(collect(store.readAll({ fromPosition: 12345n, toPosition: 1n << 40n }))).rejects.toBeInstanceOf(InvalidPositionError);
    });

    it('resumes from every position it issued', async () => {
      const s = uniqueStream();
      const r = await store.append(s, [newEvent('A'), newEvent('B'), newEvent('C')], 'no_stream');
      for (const [i, e] of r.events.entries()) {
        const rest = await collect(store.readAll({ fromPosition: e.position }));
        expect(rest.map((x) => x.type)).toEqual(['A', 'B', 'C'].slice(i + 1));
      }
    });
  });

  describe('errors (defect 4)', () => {
    it.each([
      ['AccessDenied', () => new AccessDeniedError(), StoreAccessDeniedError],
      ['StreamDeleted', () => EsdbStreamDeletedError.fromStreamName('s-1'), StreamDeletedError],
      ['MaximumAppendSizeExceeded', () => MaxAppendSizeExceededError.fromMaxAppendSize(1048576), AppendTooLargeError],
      ['Unknown', () => new UnknownError(), StoreUnavailableError],
      ['Unavailable', () => new UnavailableError(), StoreUnavailableError],
    ] as const)('%s from an append comes out typed', async (_, make, type) => {
      fake.fail('appendToStream', { error: make() });
      await expect(store.append(uniqueStream(), [newEvent('A')], 'any')).rejects.toBeInstanceOf(type);
    });

    it('a deleted stream read comes out as StreamDeletedError naming it', async () => {
      fake.fail('readStream', { error: EsdbStreamDeletedError.fromStreamName('partner-9') });
      await expect(store.readStream('partner-9')).rejects.toMatchObject({ name: 'StreamDeletedError', streamId: 'partner-9' });
    });
  });

  describe('findByCommandId (defect 5)', () => {
    it('without streams, refuses to answer while $by_correlation_id is not running, instead of answering nothing', async () => {
      const e = newEvent('A');
      await store.append(uniqueStream(), [e], 'no_stream');
      fake.byCorrelation = { status: 'Stopped' };
      await expect(store.findByCommandId(e.metadata.commandId)).rejects.toBeInstanceOf(QueryUnavailableError);
    });

    it('without streams, refuses to answer while $by_correlation_id trails the head', async () => {
      const e = newEvent('A');
      await store.append(uniqueStream(), [e], 'no_stream');
      fake.byCorrelation = { status: 'Running', position: 'C:1/P:1' };
      await expect(store.findByCommandId(e.metadata.commandId)).rejects.toBeInstanceOf(QueryUnavailableError);
    });

    it('with streams, answers exactly whatever the projection does', async () => {
      const e = newEvent('A');
      const s = uniqueStream();
      await store.append(s, [e], 'no_stream');
      fake.byCorrelation = { status: 'Stopped' };
      expect((await store.findByCommandId(e.metadata.commandId, { streams: [s] })).map((x) => x.eventId)).toEqual([e.eventId]);
    });

    it('searches a long stream back to its start', async () => {
      const s = uniqueStream();
      const first = newEvent('First');
      await store.append(s, [first], 'no_stream');
      for (let i = 0; i < 3; i++) await store.append(s, Array.from({ length: 400 }, () => newEvent('Filler')), 'any');
      expect((await store.findByCommandId(first.metadata.commandId, { streams: [s] })).map((x) => x.eventId)).toEqual([first.eventId]);
    });
  });

  describe('resumable import (defect 6)', () => {
    it('an import whose write was hidden by a timeout succeeds when run again, and goes on', async () => {
      const source = new EsdbEventStore(new FakeEsdbClient().asClient());
      const s = uniqueStream();
      const r = await source.append(s, [newEvent('A'), newEvent('B')], 'no_stream');
      // The server writes the event, and the answer is lost.
      fake.fail('appendToStream', { error: new DeadlineExceededError(), after: 'write' });
      await expect(store.importRecorded(r.events[0]!)).rejects.toBeInstanceOf(StoreUnavailableError);
      const again = await store.importRecorded(r.events[0]!);
      await store.importRecorded(r.events[1]!);
      const copied = await store.readStream(s);
      expect(copied.map((e) => e.eventId)).toEqual(r.events.map((e) => e.eventId));
      expect(again).toBe(copied[0]!.position);
      expect((await verifyLog(store)).ok).toBe(true);
      await source.close();
    });
  });

  describe('filtering on the server (defect 7)', () => {
    it('reads of the log ask the server for the filter, and skip events the ledger did not write', async () => {
      const cat = `cat${Date.now()}`;
      await store.append(`${cat}-1`, [newEvent('Keep')], 'no_stream');
      fake.writeForeign(`${cat}-2`, 'Keep', 'not json', undefined, false);
      fake.writeForeign(`${cat}-3`, 'Keep', { x: 1 }, { no: 'hash chain' });
      fake.writeForeign('$stats-node', '$statsCollected', {});
      await store.append(`${cat}-4`, [newEvent('Keep'), newEvent('Drop')], 'no_stream');
      const seen: unknown[] = [];
      const subscribe = fake.subscribeToAll.bind(fake);
      fake.subscribeToAll = ((options: Parameters<FakeEsdbClient['subscribeToAll']>[0]) => {
        seen.push(options?.filter);
        return subscribe(options);
      }) as FakeEsdbClient['subscribeToAll'];
      const kept = await collect(store.readAll({ filter: { eventTypes: ['Keep'] } }));
      expect(kept.map((e) => e.streamId)).toEqual([`${cat}-1`, `${cat}-4`]);
      expect(seen).toEqual([expect.objectContaining({ filterOn: 'eventType', regex: '^(?:Keep)$' })]);
      const all = await collect(store.readAll());
      expect(all.map((e) => e.type)).toEqual(['Keep', 'Keep', 'Drop']);
      expect(seen[1]).toEqual(expect.objectContaining({ filterOn: 'eventType', regex: '^[^$].*' }));
    });

    it('a read of the log ends at its bound even when the last events do not match the filter', async () => {
      const s = uniqueStream();
      await store.append(s, [newEvent('Keep')], 'no_stream');
      for (let i = 0; i < 100; i++) await store.append(s, [newEvent('Other')], 'any');
      expect(await collect(store.readAll({ filter: { eventTypes: ['Keep'] } }))).toHaveLength(1);
    });
  });

  describe('deleted streams (defect 9)', () => {
    it('verify names a stream deleted and scavenged, and a stream deleted but not yet scavenged', async () => {
      const gone = uniqueStream('gone');
      const soon = uniqueStream('soon');
      await store.append(gone, [newEvent('A')], 'no_stream');
      await store.append(soon, [newEvent('A')], 'no_stream');
      await store.append(uniqueStream('kept'), [newEvent('A')], 'no_stream');
      const before = await verifyLog(store);
      expect(before.ok).toBe(true);
      fake.deleteStream(gone);
      fake.scavenge();
      fake.deleteStream(soon);
      const after = await verifyLog(store, { digest: before.digest, position: before.position });
      expect(after.ok).toBe(false);
      expect(after.reason).toMatch(gone);
      expect(after.reason).toMatch(soon);
      expect(after.digestMatches).toBe(false);
    });
  });
});
