import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Actor, DomainEventShape, EventMetadata, RecordedEvent } from '#events/envelope.js';
import { WrongExpectedVersionError, type AppendResult, type EventStore, type ExpectedRevision, type NewEvent } from '#libs/event-store/port.js';
import { canonicalJson } from '#libs/event-store/hashing.js';
import { commandIdForKey, eventIdFor, newCommandId } from '#libs/event-store/ids.js';
import { ProblemException } from '../platform/problem.js';
import { StreamStates, type FoldedStream } from './stream-states.js';

export const SCHEMA_VERSION = 1;
const MAX_ATTEMPTS = 8;

/** Who issued a command and how to find its earlier run: built once per request. */
export interface CommandContext {
  readonly actor: Actor;
  readonly commandId: string;
  readonly correlationId: string;
  readonly causationId: string;
  /** Set when the request carried an `Idempotency-Key`. */
  readonly requestHash?: string;
}

export interface CommandOutcome {
  /** Position of the last event appended, or the log's head when the command was a no-op. */
  readonly position: bigint;
  readonly events: readonly RecordedEvent[];
  /** True when these events were appended by an earlier run of the same command. */
  readonly replayed: boolean;
}

/** One append of the pipeline to the store, as instrumentation sees it. */
export interface AppendObservation {
  readonly streamId: string;
  /** The types of the events appended (or refused), in order: its length is the batch size. */
  readonly types: readonly string[];
  readonly seconds: number;
  /** `conflict`: the stream had moved past the expected revision (the pipeline reads again and retries). */
  readonly outcome: 'ok' | 'conflict' | 'error';
}

/**
 * Instrumentation of the pipeline (metrics, the command id in log lines). Every hook is optional and must not
 * throw; this file stays ignorant of Prometheus and of loggers.
 */
export interface CommandObserver {
  /** The executor is working on this command; called once per executor call, so possibly several times per command. */
  started?(ctx: CommandContext): void;
  /** An earlier run of the command was found in the log and is answered again; nothing new is appended. */
  replayed?(ctx: CommandContext, outcome: CommandOutcome): void;
  appended?(append: AppendObservation): void;
}

export class IdempotencyKeyReusedError extends ProblemException {
  constructor(detail: string) {
    super('idempotency-key-reused', detail);
  }
}

export class ConcurrencyConflictError extends ProblemException {
  constructor(detail: string) {
    super('concurrency-conflict', detail);
  }
}

/**
 * Builds the context of one command. With an `Idempotency-Key`, the command id is derived from the key and
 * the actor, so a retry has the same command id (and the same event ids) and finds its earlier events in
 * the log, even after a crash between the append and the answer.
 */
export function commandContext(actor: Actor, request: { idempotencyKey?: string; method: string; path: string; body: unknown; requestId?: string }): CommandContext {
  if (request.idempotencyKey === undefined) {
    const commandId = newCommandId();
    return { actor, commandId, correlationId: request.requestId ?? commandId, causationId: commandId };
  }
  const commandId = commandIdForKey(actor.id, request.idempotencyKey);
  const requestHash = createHash('sha256').update(`${request.method} ${request.path}\n${canonicalJson(request.body ?? {})}`).digest('hex');
  return { actor, commandId, correlationId: request.requestId ?? commandId, causationId: commandId, requestHash };
}

export interface StreamCommand<S, E extends DomainEventShape> {
  readonly streamId: string;
  readonly initialState: () => S;
  /**
   * Pure, and a module-level function rather than a closure made per command: folded states are cached per
   * stream and `evolve` function (StreamStates), so a new closure each time would never reuse one.
   */
  readonly evolve: (state: S, event: E) => S;
  /** Pure: the events to append for this state, [] for a no-op; throws a DomainError to refuse. */
  readonly decide: (state: S, now: Date) => readonly E[];
}

/**
 * The command pipeline (ARCHITECTURE.md): read the boundary's stream, fold it, decide, append with the
 * revision that was read; on a concurrency conflict read again and decide again, a bounded number of times.
 */
export class CommandExecutor {
  /** Folded stream states reused between commands (see StreamStates). */
  readonly states: StreamStates;

  constructor(
    private readonly store: EventStore,
    private readonly clock: { now(): Date },
    private readonly observer: CommandObserver = {},
    states?: StreamStates,
  ) {
    this.states = states ?? new StreamStates(store);
  }

  /**
   * A stream's current state for this command, and this command's own events in it. A command sent with an
   * `Idempotency-Key` may have run before (or be running twice): its stream is read in full, so those events
   * are found exactly as the log has them. Any other command has a fresh id that no stored event carries, and
   * reuses the cached fold, reading only what was appended since.
   */
  async load<S, E>(ctx: CommandContext, streamId: string, initialState: () => S, evolve: (state: S, event: E) => S): Promise<FoldedStream<S> & { mine: readonly RecordedEvent[] }> {
    if (ctx.requestHash === undefined) return { ...(await this.states.fold(streamId, initialState, evolve)), mine: [] };
    const events = await this.store.readStream(streamId);
    return { ...this.states.learn(streamId, events, initialState, evolve), mine: events.filter((e) => e.metadata.commandId === ctx.commandId) };
  }

  /**
   * The earlier run of this command, if the log has one. A command that writes several streams passes
   * `isComplete`, so that a run which crashed half-way is finished rather than replayed.
   */
  async findEarlier(ctx: CommandContext, isComplete: (events: readonly RecordedEvent[]) => boolean = () => true): Promise<CommandOutcome | undefined> {
    this.observer.started?.(ctx);
    if (ctx.requestHash === undefined) return undefined;
    const earlier = await this.store.findByCommandId(ctx.commandId);
    if (earlier.length === 0) return undefined;
    const replayed = this.replay(ctx, earlier);
    if (!isComplete(earlier)) return undefined;
    this.observer.replayed?.(ctx, replayed);
    return replayed;
  }

  async execute<S, E extends DomainEventShape>(
    ctx: CommandContext,
    command: StreamCommand<S, E>,
    options: {
      isComplete?: (events: readonly RecordedEvent[]) => boolean;
      /**
       * The stream as the caller has just folded it (with `load`): the first attempt decides on it without
       * reading again. Safe because the append is checked against its revision: if the stream moved since,
       * the append is refused and the next attempt reads. Ignored for a command with an Idempotency-Key.
       */
      known?: FoldedStream<S>;
    } = {},
  ): Promise<CommandOutcome> {
    const found = await this.findEarlier(ctx, options.isComplete);
    if (found) return found;
    for (let attempt = 1; ; attempt++) {
      const known = attempt === 1 && ctx.requestHash === undefined ? options.known : undefined;
      const { state, revision, mine } = known ? { ...known, mine: [] } : await this.load(ctx, command.streamId, command.initialState, command.evolve);
      if (mine.length) {
        const replayed = this.replay(ctx, mine);
        this.observer.replayed?.(ctx, replayed);
        return replayed;
      }
      const now = this.clock.now();
      const decided = command.decide(state, now);
      if (decided.length === 0) return { position: await this.store.headPosition(), events: [], replayed: false };
      const expected: ExpectedRevision = revision ?? 'no_stream';
      const metadata = this.metadata(ctx, now);
      try {
        const r = await this.append(
          command.streamId,
          decided.map((e, i) => ({ eventId: eventIdFor(ctx.commandId, command.streamId, i), type: e.type, data: e.data, metadata })),
          expected,
        );
        this.states.appended(command.streamId, state, revision, r.events, command.evolve);
        return { position: r.position, events: r.events, replayed: false };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        if (attempt >= MAX_ATTEMPTS) throw new ConcurrencyConflictError(`stream ${command.streamId} kept changing: gave up after ${attempt} attempts`);
        // Spread retries so that many writers on one stream do not collide in lockstep.
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * attempt * 5)));
      }
    }
  }

  /**
   * A claim on a small bookkeeping stream (a partner domain, a deal id, an MDF request or claim id): `decide`
   * sees the stream's events and answers what to append ([] for nothing), which is appended at the revision
   * read; when another command wrote the stream meanwhile, it is read and decided again, a bounded number of
   * times, then refused with `busy` as a 409. A command finds its own earlier claim (a retry, or the same
   * command racing itself) and gets it back instead of claiming again. Returns this command's events there.
   */
  async claim(
    ctx: CommandContext,
    streamId: string,
    decide: (events: readonly RecordedEvent[]) => readonly DomainEventShape[] | Promise<readonly DomainEventShape[]>,
    busy: string,
  ): Promise<readonly RecordedEvent[]> {
    for (let attempt = 1; ; attempt++) {
      const events = await this.store.readStream(streamId);
      const mine = events.filter((e) => e.metadata.commandId === ctx.commandId);
      if (mine.length) return mine;
      const decided = await decide(events);
      if (decided.length === 0) return [];
      try {
        return (await this.appendDecided(ctx, streamId, decided, events.length ? events[events.length - 1]!.revision : 'no_stream')).events;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        if (attempt >= MAX_ATTEMPTS) throw new ConcurrencyConflictError(busy);
      }
    }
  }

  /** Appends without deciding (for steps like a domain claim whose decision the caller made). */
  async appendDecided(ctx: CommandContext, streamId: string, events: readonly DomainEventShape[], expected: ExpectedRevision, indexOffset = 0): Promise<CommandOutcome> {
    this.observer.started?.(ctx);
    const metadata = this.metadata(ctx, this.clock.now());
    const r = await this.append(
      streamId,
      events.map((e, i) => ({ eventId: eventIdFor(ctx.commandId, streamId, indexOffset + i), type: e.type, data: e.data, metadata })),
      expected,
    );
    return { position: r.position, events: r.events, replayed: false };
  }

  private async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const started = performance.now();
    let outcome: AppendObservation['outcome'] = 'error';
    try {
      const result = await this.store.append(streamId, events, expected);
      outcome = 'ok';
      return result;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) outcome = 'conflict';
      throw error;
    } finally {
      this.observer.appended?.({ streamId, types: events.map((e) => e.type), seconds: (performance.now() - started) / 1000, outcome });
    }
  }

  metadata(ctx: CommandContext, now: Date): EventMetadata {
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
      throw new IdempotencyKeyReusedError('this Idempotency-Key was used for a different request');
    }
    return { position: events[events.length - 1]!.position, events, replayed: true };
  }
}
