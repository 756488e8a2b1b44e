import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '#events/envelope.js';
import { verifyLog } from '#libs/event-store/integrity.js';
import { WrongExpectedVersionError } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { newEvent } from '#libs/event-store/testing/fixtures.js';
import type { Decider } from '#libs/kernel/decider.js';
import { commandContext } from './context.js';
import { CommandPipeline, type ClaimStep } from './pipeline.js';

type Added = { type: 'Added'; data: { n: number } };
type Claimed = { type: 'Claimed'; data: { by: string } };
const counter: Decider<{ n: number }, number, Added> = {
  initialState: () => 0,
  evolve: (total, e) => total + e.data.n,
  decide: (c) => [{ type: 'Added', data: { n: c.n } }],
};
const clock = { now: () => new Date('2026-03-01T09:00:00.000Z') };
const ctx = () => commandContext({ id: 'ops', role: 'channel-ops' }, { method: 'POST', path: '/test', body: {} });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-pipeline-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The test's log through two connections, as two processes would hold it; both closed after `run`. */
async function onLog(run: (store: SqliteEventStore, other: SqliteEventStore) => Promise<void>): Promise<void> {
  const file = join(dir, 'events.sqlite');
  const store = SqliteEventStore.open(file);
  const other = SqliteEventStore.open(file);
  try {
    await run(store, other);
  } finally {
    await other.close();
    await store.close();
  }
}

/** A claim that takes `claim-x` when nobody holds it. */
function claimStep(decisions: { calls: number }, before?: () => Promise<void>): ClaimStep {
  return {
    streamId: 'claim-x',
    decide: async (events: readonly RecordedEvent[]) => {
      decisions.calls += 1;
      await before?.();
      return events.length === 0 ? [{ type: 'Claimed', data: { by: 'me' } } satisfies Claimed] : [];
    },
  };
}

describe('CommandPipeline.handleWithClaim on a store that commits several streams at once', () => {
  it('commits the claim with the decided events: one group commit, where separate appends take two', async () => {
    await onLog(async (store) => {
      const together = new CommandPipeline(store, clock);
      const before = store.groupCommits.commits;
      const outcome = await together.handleWithClaim(ctx(), 'count-1', counter, { n: 1 }, claimStep({ calls: 0 }));
      expect(store.groupCommits.commits - before).toBe(1);
      expect(outcome.events.map((e) => [e.streamId, e.type])).toEqual([
        ['claim-x', 'Claimed'],
        ['count-1', 'Added'],
      ]);
      expect(outcome.position).toBe(outcome.events[1]!.position);

      const separate = new CommandPipeline(store, clock, {}, undefined, { separateClaimAppends: true });
      const between = store.groupCommits.commits;
      await separate.handleWithClaim(ctx(), 'count-2', counter, { n: 1 }, { ...claimStep({ calls: 0 }), streamId: 'claim-y' });
      expect(store.groupCommits.commits - between).toBe(2);
    });
  });

  it('writes neither when the command stream moved meanwhile, then reads both again and commits once', async () => {
    await onLog(async (store, other) => {
      const pipeline = new CommandPipeline(store, clock);
      await pipeline.handle(ctx(), 'count-1', counter, { n: 1 });
      const decisions = { calls: 0 };
      let wrote = false;
      // Another process appends to the command's stream after it was read and decided, before the commit.
      const outcome = await pipeline.handleWithClaim(
        ctx(),
        'count-1',
        counter,
        { n: 10 },
        claimStep(decisions, async () => {
          if (wrote) return;
          wrote = true;
          await other.append('count-1', [newEvent('Added', { n: 100 })], 'any');
        }),
      );
      expect(decisions.calls).toBe(2);
      expect((await store.readStream('claim-x')).map((e) => e.type)).toEqual(['Claimed']);
      expect((await store.readStream('count-1')).map((e) => (e.data as { n: number }).n)).toEqual([1, 100, 10]);
      expect(outcome.events.map((e) => e.type)).toEqual(['Claimed', 'Added']);
      expect(await pipeline.state('count-1', counter)).toBe(111);
    });
  });

  it('writes neither when the claim was taken meanwhile; deciding again sees the other holder', async () => {
    await onLog(async (store, other) => {
      const pipeline = new CommandPipeline(store, clock);
      let wrote = false;
      const step: ClaimStep = {
        streamId: 'claim-x',
        decide: async (events) => {
          if (!wrote) {
            wrote = true;
            await other.append('claim-x', [newEvent('Claimed', { by: 'other' })], 'no_stream');
          }
          if (events.length > 0) throw new Error(`claim-x is held by ${(events[0]!.data as { by: string }).by}`);
          return [{ type: 'Claimed', data: { by: 'me' } }];
        },
      };
      await expect(pipeline.handleWithClaim(ctx(), 'count-1', counter, { n: 1 }, step)).rejects.toThrow('claim-x is held by other');
      expect(await store.readStream('count-1')).toEqual([]);
      expect((await store.readStream('claim-x')).map((e) => (e.data as { by: string }).by)).toEqual(['other']);
    });
  });
});

describe('a retry after a run that crashed between its two appends (EventStoreDB, or a version before appendAll)', () => {
  it('commits its events with the claim it finds, even when later claims follow its own', async () => {
    await onLog(async (store) => {
      const actor = { id: 'ops', role: 'channel-ops' } as const;
      const request = { idempotencyKey: 'K-1', method: 'POST', path: '/allocate', body: { n: 5 } };
      // A budget: every allocation reserves on it (its claims accumulate, like MDF allocations on a period's budget).
      const reserve = (n: number): ClaimStep => ({ streamId: 'budget', decide: () => [{ type: 'Reserved', data: { n } }] });
      const crashing = new CommandPipeline(
        store,
        clock,
        {
          appended: (a) => {
            if (a.streamId === 'budget' && a.outcome === 'ok') throw new Error('crashed after the claim');
          },
        },
        undefined,
        { separateClaimAppends: true },
      );
      await expect(crashing.handleWithClaim(commandContext(actor, request), 'fund-1', counter, { n: 5 }, reserve(5))).rejects.toThrow('crashed after the claim');
      const pipeline = new CommandPipeline(store, clock);
      await pipeline.handleWithClaim(ctx(), 'fund-2', counter, { n: 7 }, reserve(7));
      // The retry: same key and body, so the same command id and event ids; its reservation is not the last one now.
      const retry = await pipeline.handleWithClaim(commandContext(actor, request), 'fund-1', counter, { n: 5 }, reserve(5));
      expect(retry.events.map((e) => [e.streamId, e.type, (e.data as { n: number }).n])).toEqual([
        ['budget', 'Reserved', 5],
        ['fund-1', 'Added', 5],
      ]);
      expect((await store.readStream('budget')).map((e) => (e.data as { n: number }).n)).toEqual([5, 7]);
      expect((await store.readStream('fund-1')).length).toBe(1);
      // The reservation answered as stored was not a leaf again: the tree and the chains still verify.
      const head = await store.merkle.treeHead();
      expect(head.size).toBe(4);
      expect(await verifyLog(store, { rootHash: head.rootHash, size: head.size })).toMatchObject({ ok: true });
    });
  });
});

describe('a retry whose own claim others have followed, on a stream whose last claim holds (latestHolds)', () => {
  // The first run claimed and crashed; another command took the claim over; that holder no longer holds (it was
  // terminated, or abandoned its claim too), so the retry's claim is accepted and must be written as the new last.
  it.each([
    ['in one commit with its events (appendAll)', {}],
    ['appended on its own first (EventStoreDB)', { separateClaimAppends: true }],
  ])('writes its new claim %s, so the stream names it as the holder', async (_how, options) => {
    await onLog(async (store) => {
      const actor = { id: 'ops', role: 'channel-ops' } as const;
      const request = { idempotencyKey: 'K-1', method: 'POST', path: '/enroll', body: { n: 1 } };
      const take = (by: string): ClaimStep => ({ streamId: 'claim-x', latestHolds: true, decide: () => [{ type: 'Claimed', data: { by } }] });
      const crashing = new CommandPipeline(
        store,
        clock,
        {
          appended: (a) => {
            if (a.streamId === 'claim-x' && a.outcome === 'ok') throw new Error('crashed after the claim');
          },
        },
        undefined,
        { separateClaimAppends: true },
      );
      await expect(crashing.handleWithClaim(commandContext(actor, request), 'count-1', counter, { n: 1 }, take('me'))).rejects.toThrow('crashed after the claim');
      const pipeline = new CommandPipeline(store, clock, {}, undefined, options);
      await pipeline.handleWithClaim(ctx(), 'count-2', counter, { n: 2 }, take('other'));

      const retry = commandContext(actor, request);
      const outcome = await pipeline.handleWithClaim(retry, 'count-1', counter, { n: 1 }, take('me'));
      const claims = await store.readStream('claim-x');
      expect(claims.map((e) => (e.data as { by: string }).by)).toEqual(['me', 'other', 'me']);
      expect(claims[2]!.metadata.commandId).toBe(retry.commandId);
      expect(claims[2]!.eventId).not.toBe(claims[0]!.eventId);
      expect(outcome.events.map((e) => [e.streamId, e.type])).toEqual([
        ['claim-x', 'Claimed'],
        ['count-1', 'Added'],
      ]);
      expect(outcome.events[0]!.revision).toBe(2n);
      // Sent again, the command is answered as it stands now: its claims and its events, nothing written twice.
      const again = await pipeline.handleWithClaim(commandContext(actor, request), 'count-1', counter, { n: 1 }, take('me'));
      expect(again.replayed).toBe(true);
      expect((await store.readStream('claim-x')).length).toBe(3);
      expect((await store.readStream('count-1')).length).toBe(1);
    });
  });
});

describe('SqliteEventStore.appendAll', () => {
  it('is all or none, answers a resend of the same events as the first time, and refuses a stream written twice', async () => {
    await onLog(async (store) => {
      const a = newEvent('A');
      const b = newEvent('B');
      await store.append('s-2', [newEvent('X')], 'no_stream');
      // s-2 exists: its write expects none, so neither is written.
      await expect(store.appendAll([{ streamId: 's-1', events: [a], expected: 'no_stream' }, { streamId: 's-2', events: [b], expected: 'no_stream' }])).rejects.toThrow(WrongExpectedVersionError);
      expect(await store.readStream('s-1')).toEqual([]);
      const first = await store.appendAll([{ streamId: 's-1', events: [a], expected: 'no_stream' }, { streamId: 's-2', events: [b], expected: 0n }]);
      expect(first.map((r) => r.events.map((e) => e.type))).toEqual([['A'], ['B']]);
      const again = await store.appendAll([{ streamId: 's-1', events: [a], expected: 'no_stream' }, { streamId: 's-2', events: [b], expected: 0n }]);
      expect(again.map((r) => r.position)).toEqual(first.map((r) => r.position));
      expect((await store.readStream('s-2')).length).toBe(2);
      await expect(store.appendAll([{ streamId: 's-3', events: [newEvent('C')], expected: 'any' }, { streamId: 's-3', events: [newEvent('D')], expected: 'any' }])).rejects.toThrow(/twice/);
      // The chain and the tree took the events as any append does.
      expect((await store.readStream('s-1'))[0]!.prevHash).toMatch(/^0{64}$/);
    });
  });
});
