import { mkdtempSync, rmSync } from 'node:fs';
import { mulberry32 } from '#libs/kernel/seeded-random.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '#events/envelope.js';
import { canonicalJson } from '#libs/event-store/hashing.js';
import type { EventStore, NewEvent, ReadAllOptions } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { newEvent } from '#libs/event-store/testing/fixtures.js';
import { computeStatement, restatementOf, type StatementSourceIndex } from '#libs/ledger/statements.js';
import { STATEMENT_SOURCE_TYPES, statementSubjects } from '#libs/statements/content.js';
import { openReadModels, ProjectionRunner } from '../runner/runner.js';
import { statementSourceIndex } from './statement-sources.index.js';
import { statementSourcesProjection } from './statement-sources.projection.js';

/**
 * Issue #21: a statement read through the per-partner index (its partner's events and the policy events, by
 * position, then the log past the index's checkpoint) is the statement the full scan computes, for every
 * partner, period and position; the index is complete after a restart, a reset and a rebuild.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-statement-sources-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PARTNERS = ['P1', 'P2', 'P3', 'P4', 'P5'];
const PERIODS = ['2025-Q3', '2025-Q4', '2025-08', '2026-Q1', '2026-02', '2026-Q2'];
const TIERS = ['Registered', 'Silver', 'Gold'];
const CURRENCIES = ['USD', 'EUR'];

/** Random source events of every type (and some that are not), the fields the fold reads, times around the periods. */
function generator(seed: number) {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (n: number) => Math.floor(r() * n);
  // From 2025-05 to 2026-08: before, inside and after the periods sampled.
  const at = () => new Date(Date.UTC(2025, 4, 1) + int(480) * 86_400_000 + int(86_400) * 1000).toISOString();
  const money = () => ({ amountMinor: 1 + int(100_000), currency: pick(CURRENCIES) });
  let program = 0;
  let plan = 0;
  let attribution = 0;
  const allocations = () => {
    const n = 1 + int(3);
    return Array.from({ length: n }, () => ({ partnerId: pick(PARTNERS), type: pick(['sourced', 'influenced']), amountMinor: 1 + int(50_000), ...(r() < 0.3 ? { reportingAmountMinor: 1 + int(60_000) } : {}) }));
  };
  const makers: (() => [string, unknown])[] = [
    () => ['TierProgramDefined', { version: (program += r() < 0.8 ? 1 : 0), reportingCurrency: pick(CURRENCIES) }],
    () => ['CommissionPlanDefined', { version: (plan += 1) }],
    () => ['PartnerEnrolled', { partnerId: pick(PARTNERS), tier: pick(TIERS), enrolledAt: at() }],
    () => ['PartnerTierChanged', { partnerId: pick(PARTNERS), to: pick(TIERS), kind: pick(['promotion', 'demotion']), asOf: at() }],
    () => ['PartnerTierOverridden', { partnerId: pick(PARTNERS), tier: pick(TIERS), overriddenAt: at() }],
    () => ['PartnerTierOverrideEnded', { partnerId: pick(PARTNERS), restoredTier: pick(TIERS), endedAt: at() }],
    () => ['RevenueAttributed', { attributionId: `A${(attribution += 1)}`, reportingCurrency: pick(CURRENCIES), recognizedAt: at(), allocations: allocations() }],
    () => ['RevenueAttributionReversed', { attributionId: `A${1 + int(Math.max(1, attribution))}`, reportingCurrency: pick(CURRENCIES), reversedAt: at(), allocations: allocations() }],
    () => ['DealRegistered', { partnerId: pick(PARTNERS), registeredAt: at() }],
    () => ['DealRegistrationApproved', { partnerId: pick(PARTNERS), approvedAt: at() }],
    () => ['DealRegistrationRejected', { partnerId: pick(PARTNERS), rejectedAt: at() }],
    () => ['DealRegistrationExpired', { partnerId: pick(PARTNERS), asOf: at() }],
    () => ['DealWon', { partnerId: pick(PARTNERS), amount: money(), closedAt: at() }],
    () => ['DealLost', { partnerId: pick(PARTNERS), lostAt: at() }],
    () => ['MdfFundsAllocated', { partnerId: pick(PARTNERS), amount: money(), allocatedAt: at() }],
    () => ['MdfApproved', { partnerId: pick(PARTNERS), amount: money(), approvedAt: at() }],
    () => ['MdfApprovalReleased', { partnerId: pick(PARTNERS), amount: money(), releasedAt: at() }],
    () => ['MdfClaimSubmitted', { partnerId: pick(PARTNERS), amount: money(), submittedAt: at() }],
    () => ['MdfClaimApproved', { partnerId: pick(PARTNERS), amount: money(), approvedAt: at() }],
    () => ['MdfClaimPaid', { partnerId: pick(PARTNERS), amount: money(), paidAt: at() }],
    () => ['CommissionAccrued', { partnerId: pick(PARTNERS), amountMinor: 1 + int(5_000), recognizedAt: at() }],
    () => ['CommissionClawedBack', { partnerId: pick(PARTNERS), amountMinor: 1 + int(2_000), reversedAt: at() }],
    () => ['PayoutLinePaid', { partnerId: pick(PARTNERS), amountMinor: 1 + int(5_000), paidAt: at() }],
    // Not read by statements (bookkeeping, other capabilities), interleaved.
    () => ['DealIdClaimed', { partnerId: pick(PARTNERS), dealId: `D${int(1000)}` }],
    () => ['PartnerActivated', { partnerId: pick(PARTNERS), at: at() }],
  ];
  return {
    r,
    pick,
    int,
    /** `n` events in appends of one to four events to random streams. */
    async append(store: EventStore, n: number): Promise<void> {
      let left = n;
      while (left > 0) {
        const size = Math.min(left, 1 + int(4));
        const events: NewEvent[] = Array.from({ length: size }, () => {
          const [type, data] = pick(makers)();
          return newEvent(type, data);
        });
        await store.append(`s-${int(40)}`, events, 'any');
        left -= size;
      }
    },
  };
}

/** The store, counting the events each path reads (to show the index reads the partner's events only). */
function counted(store: SqliteEventStore): { store: EventStore; read: { scanned: number; byPosition: number } } {
  const read = { scanned: 0, byPosition: 0 };
  const wrapped = Object.create(store) as EventStore & { readAt: NonNullable<EventStore['readAt']> };
  wrapped.readAll = async function* (options?: ReadAllOptions): AsyncGenerator<RecordedEvent> {
    for await (const e of store.readAll(options)) {
      read.scanned += 1;
      yield e;
    }
  };
  wrapped.readAt = async function* (positions: readonly bigint[]): AsyncGenerator<RecordedEvent> {
    for await (const e of store.readAt(positions)) {
      read.byPosition += 1;
      yield e;
    }
  };
  return { store: wrapped, read };
}

async function expectSameStatements(store: EventStore, index: StatementSourceIndex, gen: ReturnType<typeof generator>, positions: readonly bigint[]): Promise<number> {
  let checked = 0;
  for (const position of positions) {
    for (const partnerId of [...PARTNERS, 'P-unknown']) {
      const period = gen.pick(PERIODS);
      const scanned = await computeStatement(store, partnerId, period, position);
      const indexed = await computeStatement(store, partnerId, period, position, index);
      expect(canonicalJson(indexed.content)).toBe(canonicalJson(scanned.content));
      expect(indexed).toEqual(scanned);
      checked += 1;
    }
  }
  return checked;
}

function samplePositions(gen: ReturnType<typeof generator>, head: bigint, extra: readonly bigint[]): bigint[] {
  const out = new Set<bigint>([0n, 1n, head, ...extra]);
  for (let i = 0; i < 6; i++) out.add(BigInt(gen.int(Number(head) + 1)));
  return [...out].filter((p) => p >= 0n && p <= head).sort((a, b) => (a < b ? -1 : 1));
}

describe('statement-sources index', () => {
  it.each([1, 2, 3, 4])('gives the full scan\'s statement for every partner, period and position sampled (seed %i)', async (seed) => {
    const gen = generator(seed);
    const store = new SqliteEventStore(join(dir, `events-${seed}.sqlite`));
    const db = openReadModels(join(dir, `read-models-${seed}.sqlite`));
    const runner = new ProjectionRunner(store, db, [statementSourcesProjection]);
    const index = statementSourceIndex(runner)!;
    try {
      // Nothing indexed yet: the index answers nothing, everything is read from the log.
      await gen.append(store, 300 + gen.int(200));
      let checked = await expectSameStatements(store, index, gen, samplePositions(gen, await store.headPosition(), []));
      // Indexed up to `built`, then more events: the index up to its checkpoint, the log past it.
      await runner.catchUp();
      const built = await store.headPosition();
      await gen.append(store, 200 + gen.int(200));
      expect(runner.position(statementSourcesProjection.name)).toBe(built);
      checked += await expectSameStatements(store, index, gen, samplePositions(gen, await store.headPosition(), [built, built + 1n]));
      // Indexed to the head.
      await runner.catchUp();
      const head = await store.headPosition();
      checked += await expectSameStatements(store, index, gen, samplePositions(gen, head, [built]));
      expect(checked).toBeGreaterThan(50);

      // Restatements: with the index (and its shortcut when nothing of the partner moved) as without it.
      for (let i = 0; i < 12; i++) {
        const partnerId = gen.pick(PARTNERS);
        const period = gen.pick(PERIODS);
        const at = BigInt(1 + gen.int(Number(head)));
        const issued = { partnerId, period, position: at.toString(), content: (await computeStatement(store, partnerId, period, at)).content };
        expect(await restatementOf(store, issued, head, index)).toEqual(await restatementOf(store, issued, head));
      }
    } finally {
      db.close();
      await store.close();
    }
  });

  it('reads only the partner\'s and the policy events once built, and answers an unchanged restatement without reading any', async () => {
    const gen = generator(7);
    const sqlite = new SqliteEventStore(join(dir, 'events-count.sqlite'));
    const { store, read } = counted(sqlite);
    const db = openReadModels(':memory:');
    const runner = new ProjectionRunner(sqlite, db, [statementSourcesProjection]);
    const index = statementSourceIndex(runner)!;
    try {
      await gen.append(sqlite, 1000);
      await runner.catchUp();
      const head = await sqlite.headPosition();
      const all: RecordedEvent[] = [];
      for await (const e of sqlite.readAll({ filter: { eventTypes: STATEMENT_SOURCE_TYPES } })) all.push(e);
      const own = all.filter((e) => {
        const s = statementSubjects(e.type, e.data);
        return s === 'policy' || s.includes('P1');
      });
      expect(own.length).toBeLessThan(all.length / 2);
      read.scanned = 0;
      const indexed = await computeStatement(store, 'P1', '2025-Q4', head, index);
      expect(read).toEqual({ scanned: 0, byPosition: own.length });
      read.byPosition = 0;
      expect(await computeStatement(store, 'P1', '2025-Q4', head)).toEqual(indexed);
      expect(read).toEqual({ scanned: all.length, byPosition: 0 });

      // Issued at the head; other partners' events appended after: no changes, nothing read.
      const issued = { partnerId: 'P1', period: '2025-Q4', position: head.toString(), content: indexed.content };
      await sqlite.append('s-other', [newEvent('DealRegistered', { partnerId: 'P2', registeredAt: '2025-11-02T00:00:00.000Z' })], 'any');
      await runner.catchUp();
      read.scanned = 0;
      read.byPosition = 0;
      const now = await sqlite.headPosition();
      expect(await restatementOf(store, issued, now, index)).toEqual({ asOfPosition: now.toString(), changes: [] });
      expect(read).toEqual({ scanned: 0, byPosition: 0 });
      // A late P1 event in the period, past the index's checkpoint: found in the log's tail, and restated.
      await sqlite.append('s-late', [newEvent('DealRegistered', { partnerId: 'P1', registeredAt: '2025-11-03T00:00:00.000Z' })], 'any');
      const later = await sqlite.headPosition();
      const restated = await restatementOf(store, issued, later, index);
      expect(restated.changes).toEqual([{ path: 'deals.registered', issued: indexed.content.deals.registered, now: indexed.content.deals.registered + 1 }]);
      expect(restated).toEqual(await restatementOf(store, issued, later));
      // A new program version changes every partner's statement: never answered "no changes" unread.
      await runner.catchUp();
      const reissued = { ...issued, position: later.toString(), content: (await computeStatement(store, 'P1', '2025-Q4', later)).content };
      await sqlite.append('program', [newEvent('TierProgramDefined', { version: 99, reportingCurrency: 'EUR' })], 'any');
      await runner.catchUp();
      const policy = await restatementOf(store, reissued, await sqlite.headPosition(), index);
      expect(policy).toEqual(await restatementOf(store, reissued, await sqlite.headPosition()));
      expect(policy.changes.map((c) => c.path)).toContain('reportingCurrency');
      // A statement of another content format is recomputed, not assumed unchanged.
      const top = await sqlite.headPosition();
      const otherFormat = { ...reissued, position: top.toString(), content: { ...(await computeStatement(store, 'P1', '2025-Q4', top)).content, format: 'channel-ledger/statement/0' } };
      expect((await restatementOf(store, otherFormat, await sqlite.headPosition(), index)).changes.map((c) => c.path)).toEqual(['format']);
    } finally {
      db.close();
      await sqlite.close();
    }
  });

  it('is complete after a restart, a reset and a rebuild, and after read models built from another log are realigned', async () => {
    const gen = generator(11);
    const file = join(dir, 'read-models-restart.sqlite');
    const store = new SqliteEventStore(join(dir, 'events-restart.sqlite'));
    const rows = (db: ReturnType<typeof openReadModels>) => ({
      partners: db.prepare('SELECT partner_id, position FROM statement_sources ORDER BY partner_id, position').all(),
      policy: db.prepare('SELECT position FROM statement_policy ORDER BY position').all(),
    });
    try {
      await gen.append(store, 600);
      const first = openReadModels(file);
      await new ProjectionRunner(store, first, [statementSourcesProjection]).catchUp();
      const built = rows(first);
      first.close();
      await gen.append(store, 100);

      // Restart: the index and its checkpoint are where they were; the runner goes on from there.
      const db = openReadModels(file);
      const runner = new ProjectionRunner(store, db, [statementSourcesProjection]);
      const index = statementSourceIndex(runner)!;
      expect(rows(db)).toEqual(built);
      expect(runner.position(statementSourcesProjection.name)).toBe(600n);
      const head = await store.headPosition();
      await expectSameStatements(store, index, gen, [300n, 600n, head]);
      runner.start();
      expect(await runner.waitFor(head, 10_000)).toBe(true);
      await runner.stop();
      const followed = rows(db);
      await expectSameStatements(store, index, gen, [head]);

      // Reset (what a version change or `alignWithLog` does): nothing indexed, statements read the log.
      runner.reset([statementSourcesProjection.name]);
      expect(index.sources('P1', 0n, head)).toEqual({ through: 0n, positions: [] });
      await expectSameStatements(store, index, gen, [head]);
      // Rebuilt from zero: the same rows as built by following.
      await runner.catchUp();
      expect(rows(db)).toEqual(followed);
      db.close();

      // Another log beside these read models: realigned (reset), then exact on the new log, rebuilt or not.
      const other = new SqliteEventStore(join(dir, 'events-other.sqlite'));
      try {
        await generator(12).append(other, 800);
        const db2 = openReadModels(file);
        const runner2 = new ProjectionRunner(other, db2, [statementSourcesProjection]);
        expect(await runner2.alignWithLog(() => undefined)).toEqual([statementSourcesProjection.name]);
        const index2 = statementSourceIndex(runner2)!;
        await expectSameStatements(other, index2, gen, [400n, 800n]);
        await runner2.catchUp();
        await expectSameStatements(other, index2, gen, [400n, 800n]);
        db2.close();
      } finally {
        await other.close();
      }
    } finally {
      await store.close();
    }
  });

  it('is not offered by a runner that does not keep the read model', () => {
    const db = openReadModels(':memory:');
    try {
      expect(statementSourceIndex(new ProjectionRunner({} as EventStore, db, []))).toBeUndefined();
    } finally {
      db.close();
    }
  });
});
