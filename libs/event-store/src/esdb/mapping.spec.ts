import { randomUUID } from 'node:crypto';
import {
  CancelledError,
  DeadlineExceededError,
  NotLeaderError,
  START,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
} from '@eventstore/db-client';
import fc from 'fast-check';
import type { EventMetadata, RecordedEvent } from '#events/envelope.js';
import { eventHash, GENESIS_HASH } from '../hashing.js';
import { DuplicateEventIdError, InvalidPositionError, StoreUnavailableError, WrongExpectedVersionError } from '../port.js';
import { newEvent } from '../testing/fixtures.js';
import {
  appendRevisionFor,
  assertEventIds,
  chainEvents,
  checkExpectedRevision,
  comparePositions,
  decodeMetadata,
  decodePosition,
  decodeRecorded,
  encodeMetadata,
  encodePosition,
  fromEsdbCurrentRevision,
  fromEsdbExpectedRevision,
  isSystemEvent,
  mapEsdbError,
  resolveRepeat,
  serverFilter,
  toEsdbExpectedRevision,
  toReadPosition,
  type EsdbRecordedEventLike,
} from './mapping.js';

const OFFSET = 1n << 24n;
const MAX_COMMIT = (1n << 39n) - 1n;
const MAX_LOG = (1n << 63n) - 1n;

/**
 * Positions the server can report (its `Position` refuses commit < prepare): commit anywhere in a 512 GiB log;
 * since v20 prepare = commit, and a legacy transaction's prepares lie before their commit record.
 */
const position = fc
  .record({ commit: fc.bigInt({ min: 0n, max: MAX_COMMIT }), offset: fc.bigInt({ min: 0n, max: OFFSET - 1n }) })
  .filter(({ commit, offset }) => offset <= commit)
  .map(({ commit, offset }) => ({ commit, prepare: commit - offset }));
const modern = fc.bigInt({ min: 0n, max: MAX_COMMIT }).map((c) => ({ commit: c, prepare: c }));

function sign(n: number | bigint): number {
  return n > 0 ? 1 : n < 0 ? -1 : 0;
}

describe('positions', () => {
  it('round-trip through one bigint', () => {
    fc.assert(fc.property(position, (p) => expect(decodePosition(encodePosition(p))).toEqual(p)));
  });

  it('keep $all order (commit, then prepare) and stay unique', () => {
    fc.assert(
      fc.property(position, position, (a, b) => {
        expect(sign(encodePosition(a) - encodePosition(b))).toBe(sign(comparePositions(a, b)));
      }),
    );
  });

  it('keep the order of neighbouring commits, where a too-narrow offset field would overlap the next commit', () => {
    const neighbours = fc
      .tuple(position.filter((p) => p.commit <= MAX_COMMIT - 3n), fc.bigInt({ min: 0n, max: 3n }), fc.bigInt({ min: 0n, max: OFFSET - 1n }))
      .filter(([a, delta, offset]) => offset <= a.commit + delta)
      .map(([a, delta, offset]) => [a, { commit: a.commit + delta, prepare: a.commit + delta - offset }] as const);
    fc.assert(
      fc.property(neighbours, ([a, b]) => {
        expect(sign(encodePosition(a) - encodePosition(b))).toBe(sign(comparePositions(a, b)));
      }),
    );
  });

  it('keep the order of events that share a commit position, as a legacy multi-event append has them', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: OFFSET, max: MAX_COMMIT }), fc.uniqueArray(fc.bigInt({ min: 0n, max: OFFSET - 1n }), { minLength: 2 }), (commit, offsets) => {
        // Prepares in log order: the furthest from the commit record first.
        const prepares = offsets.map((o) => commit - o).sort((x, y) => sign(x - y));
        const encoded = prepares.map((prepare) => encodePosition({ commit, prepare }));
        for (let i = 1; i < encoded.length; i++) expect(encoded[i]!).toBeGreaterThan(encoded[i - 1]!);
      }),
    );
  });

  it('decode every value a position encodes to back to it, and refuse every other value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_COMMIT << 24n }), (n) => {
        let decoded: ReturnType<typeof decodePosition> | undefined;
        try {
          decoded = decodePosition(n);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidPositionError);
          return;
        }
        expect(decoded.commit).toBeGreaterThanOrEqual(decoded.prepare);
        expect(encodePosition(decoded)).toBe(n);
      }),
    );
  });

  it('encode what servers since v20 report (commit = prepare) as commit × 2^24, as earlier versions of the adapter did', () => {
    // Checkpoints and Last-Event-IDs handed out before the sign fix stay valid: nothing stored changes.
    fc.assert(fc.property(modern, (p) => expect(encodePosition(p)).toBe(p.commit << 24n)));
    expect(encodePosition({ commit: 0n, prepare: 0n })).toBe(0n);
    expect(encodePosition({ commit: 1n, prepare: 1n })).toBe(OFFSET);
    expect(encodePosition({ commit: 10n, prepare: 9n })).toBe(10n * OFFSET - 1n);
    expect(decodePosition(10n * OFFSET - 1n)).toEqual({ commit: 10n, prepare: 9n });
  });

  it('refuse what cannot be encoded in order', () => {
    // The server never reports a prepare after its commit.
    expect(() => encodePosition({ commit: 10n, prepare: 11n })).toThrow(/commit − prepare = -1/);
    expect(() => encodePosition({ commit: 10n + OFFSET, prepare: 10n })).toThrow(/outside \[0, 2\^24\)/);
    // What the gRPC API sends for "no position".
    expect(() => encodePosition({ commit: (1n << 64n) - 1n, prepare: (1n << 64n) - 1n })).toThrow(/no usable position/);
    expect(() => encodePosition({ commit: -1n, prepare: -1n })).toThrow(RangeError);
    // Beyond what a signed 64-bit checkpoint column can hold: the 512 GiB ceiling.
    expect(() => encodePosition({ commit: MAX_COMMIT + 1n, prepare: MAX_COMMIT + 1n })).toThrow(/512 GiB/);
    expect(encodePosition({ commit: MAX_COMMIT, prepare: MAX_COMMIT })).toBeLessThanOrEqual(MAX_LOG);
  });

  it('refuse positions the store never issued with InvalidPositionError (the caller\'s input, a 400)', () => {
    // A SQLite-era Last-Event-ID: the old decoding sent (commit 0, prepare 12345), which the server refuses.
    for (const n of [12345n, 1n, OFFSET - 2n, -1n, (MAX_COMMIT + 1n) << 24n, 1n << 63n]) {
      expect(() => decodePosition(n)).toThrow(InvalidPositionError);
    }
    expect(() => toReadPosition(12345n)).toThrow(InvalidPositionError);
  });

  it('read from the start for 0n and from the decoded position otherwise', () => {
    expect(toReadPosition(0n)).toBe(START);
    expect(toReadPosition(OFFSET * 7n - 3n)).toEqual({ commit: 7n, prepare: 4n });
  });

  it('compare commit first, then prepare', () => {
    expect(comparePositions({ commit: 1n, prepare: 1n }, { commit: 2n, prepare: 0n })).toBe(-1);
    expect(comparePositions({ commit: 2n, prepare: 2n }, { commit: 2n, prepare: 1n })).toBe(1);
    expect(comparePositions({ commit: 2n, prepare: 2n }, { commit: 2n, prepare: 2n })).toBe(0);
  });
});

describe('revisions', () => {
  it('map the port vocabulary to the client and back', () => {
    for (const r of ['any', 'no_stream', 'stream_exists', 0n, 41n] as const) {
      expect(fromEsdbExpectedRevision(toEsdbExpectedRevision(r))).toBe(r);
    }
    expect(toEsdbExpectedRevision(7n)).toBe(7n);
    expect(() => toEsdbExpectedRevision(-1n)).toThrow(RangeError);
    expect(fromEsdbExpectedRevision(-1n)).toBe('no_stream');
  });

  it('read the current revision as a bigint or no_stream', () => {
    expect(fromEsdbCurrentRevision(3n)).toBe(3n);
    expect(fromEsdbCurrentRevision(0n)).toBe(0n);
    expect(fromEsdbCurrentRevision('no_stream')).toBe('no_stream');
    expect(fromEsdbCurrentRevision(-1n)).toBe('no_stream');
    expect(fromEsdbCurrentRevision(undefined)).toBe('no_stream');
  });

  it.each([
    ['any', undefined, true],
    ['any', 4n, true],
    ['no_stream', undefined, true],
    ['no_stream', 0n, false],
    ['stream_exists', undefined, false],
    ['stream_exists', 0n, true],
    [2n, 2n, true],
    [2n, 3n, false],
    [2n, undefined, false],
    [0n, undefined, false],
  ] as const)('checks expected %s against head %s', (expected, head, ok) => {
    const check = (): void => checkExpectedRevision('s-1', expected, head);
    if (ok) {
      expect(check).not.toThrow();
      return;
    }
    expect(check).toThrow(WrongExpectedVersionError);
    try {
      check();
    } catch (err) {
      expect(err).toMatchObject({ streamId: 's-1', expected, actual: head ?? 'no_stream' });
    }
  });

  it('appends at the exact head read, or as a new stream', () => {
    expect(appendRevisionFor(undefined)).toBe('no_stream');
    expect(appendRevisionFor(0n)).toBe(0n);
    expect(appendRevisionFor(12n)).toBe(12n);
  });
});

/** What the client builds from a gRPC error: a ServiceError whose metadata says what went wrong. */
function serviceError(map: Record<string, string>, code = 2): never {
  return { code, details: 'x', message: 'from server', metadata: { getMap: () => map } } as never;
}

describe('errors', () => {
  it('maps the client wrong-expected-version to the port one, with the actual revision', () => {
    const err = new EsdbWrongExpectedVersionError(undefined, { streamName: 'deal-1', expected: 3n, current: 5n });
    const mapped = mapEsdbError(err);
    expect(mapped).toBeInstanceOf(WrongExpectedVersionError);
    expect(mapped).toMatchObject({ streamId: 'deal-1', expected: 3n, actual: 5n });
  });

  it('reports what the caller expected and the stream it named, not the exact revision the adapter sent', () => {
    const err = new EsdbWrongExpectedVersionError(undefined, { streamName: 'deal-1', expected: 3n, current: 'no_stream' });
    expect(mapEsdbError(err, { streamId: 'deal-1', expected: 'stream_exists' })).toMatchObject({ streamId: 'deal-1', expected: 'stream_exists', actual: 'no_stream' });
  });

  it('maps a wrong-expected-version built from gRPC metadata', () => {
    const err = new EsdbWrongExpectedVersionError(serviceError({ 'stream-name': 'p-1', 'expected-version': '1', 'actual-version': '4' }));
    expect(mapEsdbError(err)).toMatchObject({ streamId: 'p-1', expected: 1n, actual: 4n });
    const none = new EsdbWrongExpectedVersionError(serviceError({ 'stream-name': 'p-2', 'expected-version': '0' }));
    expect(mapEsdbError(none)).toMatchObject({ streamId: 'p-2', actual: 'no_stream' });
  });

  it('recognises the error by its type tag when instanceof cannot (a second copy of the client)', () => {
    const foreign = Object.assign(new Error('wev'), { type: 'wrong-expected-version', streamName: 's-9', expectedVersion: 2n, actualVersion: 3n });
    expect(mapEsdbError(foreign)).toMatchObject({ streamId: 's-9', expected: 2n, actual: 3n });
    const down = Object.assign(new Error('down'), { type: 'unavailable' });
    expect(mapEsdbError(down)).toBeInstanceOf(StoreUnavailableError);
  });

  it.each([
    ['UnavailableError', () => new UnavailableError()],
    ['DeadlineExceededError', () => new DeadlineExceededError()],
    ['TimeoutError', () => new TimeoutError()],
    ['CancelledError', () => new CancelledError()],
    ['NotLeaderError', () => new NotLeaderError(serviceError({ 'leader-endpoint-host': 'node2', 'leader-endpoint-port': '2113' }))],
    ['a failed cluster discovery', () => new Error('Failed to discover after 10 attempts.')],
  ])('maps %s to StoreUnavailableError, keeping the cause', (_, make) => {
    const err = make();
    const mapped = mapEsdbError(err);
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect((mapped as StoreUnavailableError).cause).toBe(err);
    expect((mapped as Error).message).toMatch(/^EventStoreDB unavailable/);
  });

  it('passes anything else through unchanged', () => {
    for (const err of [new StreamNotFoundError(undefined, 's-1'), new Error('boom'), new TypeError('bad'), 'a string', undefined]) {
      expect(mapEsdbError(err)).toBe(err);
    }
  });

  it('leaves errors already in the port vocabulary alone', () => {
    const ours = [new WrongExpectedVersionError('s', 1n, 2n), new StoreUnavailableError('x'), new DuplicateEventIdError('e')];
    for (const err of ours) expect(mapEsdbError(err, { streamId: 'other', expected: 'any' })).toBe(err);
  });
});

const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });

const metadataArb: fc.Arbitrary<EventMetadata> = fc.record(
  {
    schemaVersion: fc.integer({ min: 1, max: 9 }),
    actor: fc.record({ id: fc.string(), role: fc.constantFrom('admin', 'partner', 'finance' as const), partnerId: fc.string() }, { requiredKeys: ['id', 'role'] }),
    commandId: fc.uuid(),
    correlationId: fc.uuid(),
    causationId: fc.uuid(),
    recordedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    requestHash: hex64,
  },
  { requiredKeys: ['schemaVersion', 'actor', 'commandId', 'correlationId', 'causationId', 'recordedAt'] },
);

/** A client recorded event as a read returns it, after the JSON trip through the server. */
function stored(overrides: Partial<EsdbRecordedEventLike> & { metadata: unknown }): EsdbRecordedEventLike {
  return {
    streamId: 'partner-1',
    id: randomUUID(),
    revision: 0n,
    type: 'PartnerRegistered',
    isJson: true,
    data: { name: 'Acme' },
    position: { commit: 4096n, prepare: 4096n },
    ...overrides,
    metadata: JSON.parse(JSON.stringify(overrides.metadata)) as unknown,
  };
}

describe('metadata and recorded events', () => {
  const meta: EventMetadata = {
    schemaVersion: 1,
    actor: { id: 'k1', role: 'partner', partnerId: 'P1' },
    commandId: 'cmd-1',
    correlationId: 'corr-1',
    causationId: 'cause-1',
    recordedAt: '2026-01-01T00:00:00.000Z',
  };

  it("stores the hash chain and ESDB's correlation members beside our metadata", () => {
    expect(encodeMetadata(meta, 'p'.repeat(64), 'h'.repeat(64))).toEqual({
      ...meta,
      prevHash: 'p'.repeat(64),
      hash: 'h'.repeat(64),
      $correlationId: 'cmd-1',
      $causationId: 'cause-1',
    });
  });

  it('round-trips any metadata, without the members the adapter adds', () => {
    fc.assert(
      fc.property(metadataArb, hex64, (m, h) => {
        const decoded = decodeMetadata(JSON.parse(JSON.stringify(encodeMetadata(m, GENESIS_HASH, h))), 'e');
        expect(decoded).toEqual({ metadata: m, prevHash: GENESIS_HASH, hash: h });
      }),
    );
  });

  it('decodes a stored event into one whose hash recomputes, as verify needs', () => {
    const e = newEvent('PartnerRegistered', { name: 'Acme', tiers: [1, 2] });
    const [c] = chainEvents('partner-1', [e], undefined);
    const r = decodeRecorded({
      event: stored({ id: e.eventId, data: e.data, revision: 0n, metadata: encodeMetadata(e.metadata, c!.prevHash, c!.hash), position: { commit: 8192n, prepare: 8192n } }),
    });
    expect(r).toEqual({
      eventId: e.eventId,
      type: 'PartnerRegistered',
      streamId: 'partner-1',
      revision: 0n,
      position: 8192n << 24n,
      data: e.data,
      metadata: e.metadata,
      prevHash: GENESIS_HASH,
      hash: c!.hash,
    });
    expect(eventHash(r.prevHash, r)).toBe(r.hash);
  });

  it('decodes the event a resolved link points to', () => {
    const target = stored({ metadata: encodeMetadata(meta, GENESIS_HASH, 'h'.repeat(64)) });
    const link = stored({ streamId: '$bc-cmd-1', type: '$>', isJson: false, data: new Uint8Array(), metadata: {} });
    expect(decodeRecorded({ event: target, link }).eventId).toBe(target.id);
  });

  it('refuses what the ledger did not write', () => {
    const ok = encodeMetadata(meta, GENESIS_HASH, 'h'.repeat(64));
    const link = stored({ streamId: '$bc-cmd-1', type: '$>', metadata: {} });
    expect(() => decodeRecorded({ link })).toThrow(/no longer exists/);
    expect(() => decodeRecorded({ event: link })).toThrow(/system event/);
    expect(() => decodeRecorded({ event: stored({ isJson: false, metadata: ok }) })).toThrow(/not JSON/);
    expect(() => decodeRecorded({ event: { ...stored({ metadata: ok }), position: undefined } })).toThrow(/without a log position/);
    expect(() => decodeRecorded({ event: stored({ metadata: meta }) })).toThrow(/no hash chain/);
    expect(() => decodeRecorded({ event: { ...stored({ metadata: ok }), metadata: undefined } })).toThrow(/no JSON metadata/);
  });

  it.each([
    [{ streamId: '$ce-partner', type: '$>' }, true],
    [{ streamId: '$stats-127.0.0.1:2113', type: '$statsCollected' }, true],
    [{ streamId: '$$partner-1', type: '$metadata' }, true],
    [{ streamId: 'partner-1', type: '$streamDeleted' }, true],
    [{ streamId: 'partner-1', type: 'PartnerRegistered' }, false],
    [{ streamId: 'partner-$1', type: 'Tier$Changed' }, false],
  ])('isSystemEvent(%o) is %s', (e, expected) => {
    expect(isSystemEvent(e)).toBe(expected);
  });
});

describe('appends', () => {
  it('accepts lower-case UUIDs only, each once', () => {
    expect(() => assertEventIds([newEvent('A'), newEvent('B')])).not.toThrow();
    expect(() => assertEventIds([{ eventId: 'evt-1' }])).toThrow(TypeError);
    expect(() => assertEventIds([{ eventId: randomUUID().toUpperCase() }])).toThrow(/lower-case UUID/);
    const e = newEvent('A');
    expect(() => assertEventIds([e, e])).toThrow(DuplicateEventIdError);
  });

  it('chains from the genesis hash on a new stream, as the SQLite adapter does', () => {
    const [a, b] = [newEvent('A', { n: 1 }), newEvent('B', { n: 2 })];
    const chained = chainEvents('deal-1', [a, b], undefined);
    expect(chained.map((c) => c.revision)).toEqual([0n, 1n]);
    expect(chained[0]!.prevHash).toBe(GENESIS_HASH);
    expect(chained[0]!.hash).toBe(eventHash(GENESIS_HASH, { ...a, streamId: 'deal-1', revision: 0n }));
    expect(chained[1]!.prevHash).toBe(chained[0]!.hash);
    expect(chained[1]!.hash).toBe(eventHash(chained[0]!.hash, { ...b, streamId: 'deal-1', revision: 1n }));
  });

  it('continues from the head it read', () => {
    const e = newEvent('C');
    const [c] = chainEvents('deal-1', [e], { revision: 6n, hash: 'f'.repeat(64) });
    expect(c).toMatchObject({ revision: 7n, prevHash: 'f'.repeat(64), hash: eventHash('f'.repeat(64), { ...e, streamId: 'deal-1', revision: 7n }) });
  });

  function recorded(eventId: string, streamId: string, revision: bigint): RecordedEvent {
    return { eventId, streamId, revision, position: 100n + revision, type: 'T', data: {}, metadata: newEvent('T').metadata, prevHash: GENESIS_HASH, hash: 'h' };
  }

  it('answers a resend with what the first append stored', () => {
    const [a, b] = [newEvent('A'), newEvent('B')];
    const found = new Map([
      [a.eventId, recorded(a.eventId, 's-1', 3n)],
      [b.eventId, recorded(b.eventId, 's-1', 4n)],
    ]);
    expect(resolveRepeat('s-1', [a, b], found)).toEqual({ nextRevision: 4n, position: 104n, events: [found.get(a.eventId), found.get(b.eventId)] });
    expect(resolveRepeat('s-1', [newEvent('C')], found)).toBeUndefined();
  });

  it.each([
    ['in another stream', (a: string, b: string) => [recorded(a, 's-2', 3n), recorded(b, 's-2', 4n)]],
    ['in another order', (a: string, b: string) => [recorded(a, 's-1', 4n), recorded(b, 's-1', 3n)]],
    ['not adjacent', (a: string, b: string) => [recorded(a, 's-1', 3n), recorded(b, 's-1', 5n)]],
    ['only in part', (a: string) => [recorded(a, 's-1', 3n)]],
  ])('refuses ids stored %s as a different event', (_, make) => {
    const [a, b] = [newEvent('A'), newEvent('B')];
    const found = new Map(make(a.eventId, b.eventId).map((r) => [r.eventId, r]));
    expect(() => resolveRepeat('s-1', [a, b], found)).toThrow(DuplicateEventIdError);
  });
});

describe('subscription server filter', () => {
  it('narrows by stream prefix first, since it is what the ledger subscribes by', () => {
    expect(serverFilter({ streamPrefixes: ['deal-', 'partner-'], eventTypes: ['DealApproved'] })).toMatchObject({ filterOn: 'streamName', prefixes: ['deal-', 'partner-'] });
  });

  it('narrows by event type when there are no stream prefixes', () => {
    expect(serverFilter({ eventTypes: ['DealApproved', 'Deal.X'] })).toMatchObject({ filterOn: 'eventType', regex: '^(?:DealApproved|Deal\\.X)$' });
  });

  it('otherwise only drops system events, as a prefix that could match them must not narrow', () => {
    const excludeSystem = { filterOn: 'eventType', regex: '^[^$].*' };
    expect(serverFilter(undefined)).toMatchObject(excludeSystem);
    expect(serverFilter({})).toMatchObject(excludeSystem);
    expect(serverFilter({ streamPrefixes: [] })).toMatchObject(excludeSystem);
    expect(serverFilter({ streamPrefixes: ['deal-', ''] })).toMatchObject(excludeSystem);
    expect(serverFilter({ eventTypes: ['$>'] })).toMatchObject(excludeSystem);
  });
});
