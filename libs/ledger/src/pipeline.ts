import { performance } from 'node:perf_hooks';
import type { DomainEventShape, EventMetadata, Recorded, RecordedEvent } from '#events/envelope.js';
import { WrongExpectedVersionError, type AppendResult, type EventStore, type ExpectedRevision, type NewEvent, type StreamWrite } from '#libs/event-store/port.js';
import { eventIdFor } from '#libs/event-store/ids.js';
import type { Decider } from '#libs/kernel/decider.js';
import { ConcurrencyConflict, IdempotencyKeyReused } from '#libs/kernel/errors.js';
import { RecentMap } from '#libs/kernel/recent-map.js';
import type { CommandContext, CommandOutcome } from './context.js';
import type { Clock } from './tokens.js';
import { Turns } from './turns.js';

export const SCHEMA_VERSION = 1;

/**
 * The one retry policy. Commands of this process on one stream take turns (a queue per stream), so they never
 * collide with each other; an append can then only be refused because another process wrote the stream, and
 * such a command reads again and decides again, at most this many times, with jittered back-off.
 */
export const MAX_ATTEMPTS = 8;

/** One append of the pipeline to the store, as instrumentation sees it. */
export interface AppendObservation {
  readonly streamId: string;
  /** The types of the events appended (or refused), in order: its length is the batch size. */
  readonly types: readonly string[];
  readonly seconds: number;
  /** `conflict`: the stream had moved past the expected revision (the pipeline reads again and retries). */
  readonly outcome: 'ok' | 'conflict' | 'error';
}

/** Instrumentation (metrics, log correlation). Every hook is optional and must not throw. */
export interface CommandObserver {
  /** The pipeline started working on this command (once per command). */
  started?(ctx: CommandContext): void;
  /** An earlier run of the command was found in the log and is answered again; nothing new is appended. */
  replayed?(ctx: CommandContext, outcome: CommandOutcome): void;
  appended?(append: AppendObservation): void;
}

/**
 * The claim of a command that spans streams: a small bookkeeping stream (a partner domain, a deal id, an MDF
 * request or claim id) that makes something unique across consistency boundaries. `decide` sees the claim
 * stream as it stands and answers the claim events to append, [] to reuse the current claim as it is, or throws
 * a DomainError to refuse.
 */
export interface ClaimStep {
  readonly streamId: string;
  readonly decide: (events: readonly RecordedEvent[]) => readonly DomainEventShape[] | Promise<readonly DomainEventShape[]>;
  /**
   * Other streams `decide` may append to under the same command (a partner's capacity slots), named so that a
   * replay answers their events too: exactly what the first answer said.
   */
  readonly related?: readonly string[];
  /**
   * The command's appends to its related streams (a partner's capacity slot), made once `decide` has accepted the
   * claim (a refused claim takes nothing) and before the claim is appended. Their events join the answer, which
   * lists every event of the command in log order.
   */
  readonly alongside?: () => Promise<readonly RecordedEvent[]>;
  /**
   * The stream's last claim is its holder (a partner domain, a seller, a deal id, an MDF request or claim id), as
   * opposed to a stream where every claim keeps counting (a period's MDF budget, a deal's revenue). There, a claim
   * this command appended before a crash and others have followed since holds nothing: the claim it decides now is
   * a new one, written with event ids of its own. (Without it, its ids would be the earlier claim's, and the store
   * would answer the new claim as that stored one and write nothing: the stream would still name the other holder.)
   */
  readonly latestHolds?: boolean;
}

export interface PipelineOptions {
  /**
   * Append a claim and the events decided under it one after the other even where the store can commit them
   * together (`appendAll`): what happens on EventStoreDB. The crash tests use it to reach the window between the
   * two appends.
   */
  readonly separateClaimAppends?: boolean;
}

/** Events decided for another stream, to be appended in the same commit as the command's own (a claim's). */
interface CommitAlongside {
  readonly streamId: string;
  /** What the events' ids derive from (`ReadClaim.idScope`). */
  readonly idScope: string;
  readonly decided: readonly DomainEventShape[];
  readonly expected: ExpectedRevision;
  /** Told the recorded events once the commit is done. */
  readonly done: (events: readonly RecordedEvent[]) => void;
}

/** A claim stream as `readClaim` finds it. */
interface ReadClaim {
  readonly events: readonly RecordedEvent[];
  /** Its last event. */
  readonly holder: RecordedEvent | undefined;
  /** This command's events in it, when the last is this command's (its claim, to reuse as it is). */
  readonly own: readonly RecordedEvent[] | undefined;
  /** What the ids of a claim decided now derive from. */
  readonly idScope: string;
}

/**
 * The command pipeline (ARCHITECTURE.md): load a consistency boundary, decide once, append at the revision
 * read, with idempotency, the folded-state cache and the retry policy inside, so that a handler only names
 * the stream, the decider and the command.
 *
 * Idempotency reads only the streams a command names: a command with an `Idempotency-Key` reads its stream in
 * full and finds its own events there (its command id is derived from the key), even after a crash between the
 * append and the answer; it never depends on a log-wide index or a system projection.
 */
export class CommandPipeline {
  readonly states: StreamStates;
  private readonly turns = new Turns();

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly observer: CommandObserver = {},
    states?: StreamStates,
    private readonly options: PipelineOptions = {},
  ) {
    this.states = states ?? new StreamStates(store);
  }

  /** Load → decide → append on one stream. */
  handle<C, S, E extends DomainEventShape>(ctx: CommandContext, streamId: string, decider: Decider<C, S, E>, command: C): Promise<CommandOutcome> {
    this.observer.started?.(ctx);
    return this.turns.run(streamId, () => this.decideAndAppend(ctx, streamId, decider, command));
  }

  /**
   * Claim-then-decide, for a command whose uniqueness spans streams. The command is decided once against its
   * own stream (a refusal appends nothing, not even the claim), the claim is appended, then the decided events at
   * the revision they were decided on; only a concurrent change of that stream makes it read and decide again.
   *
   * A retry (same Idempotency-Key) after a crash between the two appends finishes the run only while the claim is
   * still its own: a claim another command has taken over since is decided again like anyone else's, so the
   * retry is refused instead of landing beside the new holder, or, once that holder no longer holds, claims anew
   * (`latestHolds`: with ids of its own, so that the new claim is written, not answered as the overtaken one).
   *
   * Where the store commits several streams at once (`appendAll`: SQLite), the claim and the decided events are
   * one commit, so there is no such crash window (and a registration waits for one commit, not two); a conflict
   * on either stream writes neither, and the command reads both again and decides again.
   */
  handleWithClaim<C, S, E extends DomainEventShape>(ctx: CommandContext, streamId: string, decider: Decider<C, S, E>, command: C, claim: ClaimStep): Promise<CommandOutcome> {
    this.observer.started?.(ctx);
    return this.turns.run(streamId, async () => {
      let claimed: readonly RecordedEvent[] | undefined;
      const alongside: RecordedEvent[] = [];
      const also = claim.alongside;
      const step: ClaimStep = also === undefined ? claim : {
        ...claim,
        decide: async (events) => {
          const decided = await claim.decide(events);
          for (const e of await also()) if (!alongside.some((a) => a.eventId === e.eventId)) alongside.push(e);
          return decided;
        },
      };
      const together = this.store.appendAll !== undefined && this.options.separateClaimAppends !== true;
      const outcome = await this.decideAndAppend(
        ctx,
        streamId,
        decider,
        command,
        together
          ? () =>
              this.claimToCommit(ctx, step, (events) => {
                claimed = events;
              })
          : async () => {
              claimed ??= await this.claim(ctx, step);
              return undefined;
            },
      );
      // A replay answers what the first answer said: every event of the command in the streams it names, in log order.
      if (outcome.replayed) {
        return { ...outcome, events: await this.store.findByCommandId(ctx.commandId, { streams: [claim.streamId, ...(claim.related ?? []), streamId] }) };
      }
      // The answer names every event of the command in log order: the claim's first, then its related streams'.
      const mine = [...(claimed ?? []), ...alongside];
      const events = [...mine, ...outcome.events.filter((e) => !mine.some((c) => c.eventId === e.eventId))];
      return { ...outcome, events: alongside.length ? events.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0)) : events };
    });
  }

  /**
   * A stream's current state, folded by a decider (cached between commands, reading only what was appended
   * since): for facts a command needs from another boundary, such as a partner's status.
   */
  async state<S, E extends DomainEventShape>(streamId: string, decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>): Promise<S> {
    return (await this.states.fold(streamId, decider.initialState, decider.evolve)).state;
  }

  /**
   * The earlier run of a command that fans out over streams chosen at run time (an expiry run, a tier
   * evaluation): its events, found by command id. Such a run cannot find them in the streams it names, because
   * which streams it names depends on the read models when it runs.
   */
  async earlierRun(ctx: CommandContext): Promise<CommandOutcome | undefined> {
    if (ctx.requestHash === undefined) return undefined;
    const earlier = await this.store.findByCommandId(ctx.commandId);
    if (earlier.length === 0) return undefined;
    const replayed = this.replay(ctx, earlier);
    this.observer.replayed?.(ctx, replayed);
    return replayed;
  }

  private async decideAndAppend<C, S, E extends DomainEventShape>(
    ctx: CommandContext,
    streamId: string,
    decider: Decider<C, S, E>,
    command: C,
    beforeAppend?: () => Promise<CommitAlongside | undefined>,
  ): Promise<CommandOutcome> {
    for (let attempt = 1; ; attempt++) {
      const { state, revision, mine } = await this.load(ctx, streamId, decider);
      if (mine.length) {
        const replayed = this.replay(ctx, mine);
        this.observer.replayed?.(ctx, replayed);
        return replayed;
      }
      const now = this.clock.now();
      const decided = decider.decide(command, state, now);
      if (decided.length === 0) return { position: await this.store.headPosition(), events: [], replayed: false };
      const alongside = await beforeAppend?.();
      try {
        const r =
          alongside === undefined
            ? await this.append(ctx, streamId, decided, revision ?? 'no_stream', now)
            : await this.appendWith(ctx, alongside, { streamId, decided, expected: revision ?? 'no_stream' }, now);
        this.states.appended(streamId, state, revision, r.events as Recorded<E>[], decider.evolve);
        return { position: r.position, events: r.events, replayed: false };
      } catch (error) {
        await this.afterConflict(error, attempt, `stream ${streamId}${alongside ? ` or ${alongside.streamId}` : ''} kept changing: gave up after ${attempt} attempts`);
      }
    }
  }

  private async claim(ctx: CommandContext, step: ClaimStep): Promise<readonly RecordedEvent[]> {
    for (let attempt = 1; ; attempt++) {
      const { events, holder, own, idScope } = await this.readClaim(ctx, step);
      if (own !== undefined) return own;
      const decided = await step.decide(events);
      if (decided.length === 0) return [];
      try {
        return (await this.append(ctx, step.streamId, decided, holder?.revision ?? 'no_stream', this.clock.now(), idScope)).events;
      } catch (error) {
        await this.afterConflict(error, attempt, `${step.streamId} is being claimed concurrently; retry`);
      }
    }
  }

  /**
   * The claim as `claim` decides it, for a store that commits it with the command's events (`appendAll`): read and
   * decided again at every attempt, since a refused commit wrote nothing. Its own current claim (a run of this
   * command whose claim was appended alone, by a version or a store without `appendAll`) is reused as it is.
   */
  private async claimToCommit(ctx: CommandContext, step: ClaimStep, claimed: (events: readonly RecordedEvent[]) => void): Promise<CommitAlongside | undefined> {
    const { events, holder, own, idScope } = await this.readClaim(ctx, step);
    if (own !== undefined) {
      claimed(own);
      return undefined;
    }
    const decided = await step.decide(events);
    if (decided.length === 0) {
      claimed([]);
      return undefined;
    }
    return { streamId: step.streamId, idScope, decided, expected: holder?.revision ?? 'no_stream', done: claimed };
  }

  /**
   * The claim stream as it stands, and this command's events in it when the current claim is its own. Only the
   * current claim counts as this command's: an earlier claim of its own that another command took over since (the
   * run crashed, the claim was abandoned) is no longer its to reuse. On a stream whose last claim holds
   * (`latestHolds`), the claim decided after such a one gets ids of its own (`idScope`: the stream at the holder's
   * revision, the same for every attempt at that revision).
   */
  private async readClaim(ctx: CommandContext, step: ClaimStep): Promise<ReadClaim> {
    const events = await this.store.readStream(step.streamId);
    const holder = events[events.length - 1];
    const mine = events.filter((e) => e.metadata.commandId === ctx.commandId);
    const own = holder !== undefined && holder.metadata.commandId === ctx.commandId ? this.replay(ctx, mine).events : undefined;
    const overtaken = own === undefined && mine.length > 0 && step.latestHolds === true;
    return { events, holder, own, idScope: overtaken ? `${step.streamId}@${holder!.revision}` : step.streamId };
  }

  /** The claim's events and the command's in one commit (`appendAll`); answers the command's own append. */
  private async appendWith(ctx: CommandContext, claim: CommitAlongside, own: { streamId: string; decided: readonly DomainEventShape[]; expected: ExpectedRevision }, now: Date): Promise<AppendResult> {
    const appendAll = this.store.appendAll?.bind(this.store);
    if (appendAll === undefined) throw new Error('appendWith needs a store with appendAll');
    const metadata = this.metadata(ctx, now);
    const writes: StreamWrite[] = [claim, { ...own, idScope: own.streamId }].map((w) => ({ streamId: w.streamId, expected: w.expected, events: this.newEvents(ctx, w.idScope, w.decided, metadata) }));
    const [claimResult, ownResult] = await this.observed(writes, () => appendAll(writes));
    claim.done(claimResult!.events);
    return ownResult!;
  }

  /**
   * A stream's state for this command, and this command's own events in it. A command sent with an
   * `Idempotency-Key` may have run before: its stream is read in full, so those events are found exactly as the
   * log has them. Any other command has a fresh id that no stored event carries, and reuses the cached fold.
   */
  private async load<S, E extends DomainEventShape>(ctx: CommandContext, streamId: string, decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>): Promise<FoldedStream<S> & { mine: readonly RecordedEvent[] }> {
    if (ctx.requestHash === undefined) return { ...(await this.states.fold(streamId, decider.initialState, decider.evolve)), mine: [] };
    const events = await this.store.readStream<E>(streamId);
    return { ...this.states.learn(streamId, events, decider.initialState, decider.evolve), mine: events.filter((e) => e.metadata.commandId === ctx.commandId) };
  }

  private async afterConflict(error: unknown, attempt: number, gaveUp: string): Promise<void> {
    if (!(error instanceof WrongExpectedVersionError)) throw error;
    if (attempt >= MAX_ATTEMPTS) throw new ConcurrencyConflict(gaveUp);
    // Spread retries so that writers of several processes on one stream do not collide in lockstep.
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * attempt * 5)));
  }

  private async append(ctx: CommandContext, streamId: string, decided: readonly DomainEventShape[], expected: ExpectedRevision, now: Date, idScope = streamId): Promise<AppendResult> {
    const events = this.newEvents(ctx, idScope, decided, this.metadata(ctx, now));
    return this.observed([{ streamId, expected, events }], () => this.store.append(streamId, events, expected));
  }

  /**
   * A commit of `writes`, as instrumentation sees it: one observation per stream written (a joint commit gives one
   * per stream, as separate appends would), each with the commit's time and outcome.
   */
  private async observed<T>(writes: readonly StreamWrite[], commit: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome: AppendObservation['outcome'] = 'error';
    try {
      const result = await commit();
      outcome = 'ok';
      return result;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) outcome = 'conflict';
      throw error;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      for (const w of writes) this.observer.appended?.({ streamId: w.streamId, types: w.events.map((e) => e.type), seconds, outcome });
    }
  }

  /** `idScope`: the stream, or for a claim decided anew after an own one others followed, the stream at a revision. */
  private newEvents(ctx: CommandContext, idScope: string, decided: readonly DomainEventShape[], metadata: EventMetadata): NewEvent[] {
    // Event ids derive from the command id: a retried append of the same command is recognised by the store.
    return decided.map((e, i) => ({ eventId: eventIdFor(ctx.commandId, idScope, i), type: e.type, data: e.data, metadata }));
  }

  private metadata(ctx: CommandContext, now: Date): EventMetadata {
    return {
      schemaVersion: SCHEMA_VERSION,
      actor: ctx.actor,
      commandId: ctx.commandId,
      correlationId: ctx.correlationId,
      causationId: ctx.causationId,
      recordedAt: now.toISOString(),
      ...(ctx.requestHash !== undefined ? { requestHash: ctx.requestHash } : {}),
    };
  }

  private replay(ctx: CommandContext, events: readonly RecordedEvent[]): CommandOutcome {
    if (events.some((e) => e.metadata.requestHash !== ctx.requestHash)) {
      throw new IdempotencyKeyReused('this Idempotency-Key was used for a different request');
    }
    return { position: events[events.length - 1]!.position, events, replayed: true };
  }
}

// --- The fold cache: the pipeline's stream states, kept between commands. ---

/** A stream's state as of `revision` (undefined: the stream has no events). */
export interface FoldedStream<S> {
  readonly state: S;
  readonly revision: bigint | undefined;
}

interface Entry {
  readonly evolve: unknown;
  readonly state: unknown;
  readonly revision: bigint;
}

export const DEFAULT_STREAM_STATE_CAPACITY = 10_000;

/**
 * Folded stream states kept between commands, so a command reads only the events appended since the state
 * it reuses instead of the whole stream (the profile of deal registration had a fifth of its time in reading
 * and folding the partner's and the account's streams). Streams are append-only and events never change, so
 * the fold of revisions 0..n stays valid for ever: each `fold` still asks the store for everything after
 * `n`, so the answer is as fresh as a full read, from this or any other process.
 *
 * Entries are keyed by stream and by the `evolve` function that made them (two folds of one stream with
 * different functions do not share), bounded to `capacity` streams, least recently used out first. States
 * are shared between commands, so `evolve` and `decide` must never mutate them (the deciders build new
 * objects; under NODE_ENV=test cached states are frozen, so a mutation fails the tests loudly).
 */
export class StreamStates {
  private readonly entries: RecentMap<string, Entry>;
  private readonly freeze = process.env.NODE_ENV === 'test';
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly store: EventStore,
    capacity = DEFAULT_STREAM_STATE_CAPACITY,
  ) {
    this.entries = new RecentMap(capacity);
  }

  async fold<S, E extends DomainEventShape>(streamId: string, initialState: () => S, evolve: (state: S, event: E) => S): Promise<FoldedStream<S>> {
    const cached = this.entries.get(streamId);
    const usable = cached !== undefined && cached.evolve === evolve ? cached : undefined;
    const events = await this.store.readStream<E>(streamId, usable ? { fromRevision: usable.revision + 1n } : {});
    if (usable) this.hits += 1;
    else this.misses += 1;
    let state = usable ? (usable.state as S) : initialState();
    for (const e of events) state = evolve(state, e);
    const revision = events.length > 0 ? events[events.length - 1]!.revision : usable?.revision;
    if (revision !== undefined && events.length > 0) this.remember(streamId, { evolve, state, revision });
    else if (usable) this.touch(streamId, usable);
    return { state, revision };
  }

  /** The fold of events the caller has already read in full (the cache learns from it too). */
  learn<S, E extends DomainEventShape>(streamId: string, events: readonly Recorded<E>[], initialState: () => S, evolve: (state: S, event: E) => S): FoldedStream<S> {
    let state = initialState();
    for (const e of events) state = evolve(state, e);
    const revision = events.length > 0 ? events[events.length - 1]!.revision : undefined;
    if (revision !== undefined) this.remember(streamId, { evolve, state, revision });
    return { state, revision };
  }

  /**
   * The state after an append of the caller's own: `events` were written right after `revision` (the append
   * was checked against it), so the fold of `state` over them is the stream's state at their last revision.
   */
  appended<S, E extends DomainEventShape>(streamId: string, state: S, revision: bigint | undefined, events: readonly Recorded<E>[], evolve: (state: S, event: E) => S): void {
    const last = events[events.length - 1];
    if (last === undefined || events[0]!.revision !== (revision ?? -1n) + 1n) return;
    let next = state;
    for (const e of events) next = evolve(next, e);
    this.remember(streamId, { evolve, state: next, revision: last.revision });
  }

  /** Reuse counts since start (tests, diagnostics). */
  get stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hits, misses: this.misses, size: this.entries.size };
  }

  private remember(streamId: string, entry: Entry): void {
    const current = this.entries.get(streamId);
    // Two folds of one stream can finish out of order: never replace a later state with an earlier one.
    if (current !== undefined && current.evolve === entry.evolve && current.revision >= entry.revision) return this.touch(streamId, current);
    if (this.freeze) deepFreeze(entry.state);
    this.entries.set(streamId, entry);
  }

  /** Marks the entry as just used (RecentMap keeps the most recently set). */
  private touch(streamId: string, entry: Entry): void {
    this.entries.set(streamId, entry);
  }
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}
