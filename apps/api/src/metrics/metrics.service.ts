import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppendObservation } from '#libs/ledger/pipeline.js';
import type { LedgerLag } from '../wiring/readiness.js';

/** Outcome label of `ledger_commands_total`: `ok`, `replayed`, `refused-<problem slug>` (4xx) or `error` (5xx). */
export type CommandOutcomeLabel = 'ok' | 'replayed' | 'error' | `refused-${string}`;

/** What the ledger looks like at scrape time (read from the store and the projection runner). */
export interface LedgerState {
  readonly storeUp: boolean;
  readonly runnerUp: boolean;
  /** Undefined when the store could not be read. */
  readonly lag?: LedgerLag;
}

const SECONDS_FAST = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const SECONDS_REQUEST = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The service's Prometheus metrics, in a registry of this app instance (not prom-client's global one, so
 * several apps in one process, as in tests, do not collide). Everything that records a metric goes through
 * a method here, so the series and their labels are defined in one place (docs/operations.md explains them).
 *
 * For the subscriptions endpoint: call `sseConnected()` when an SSE stream opens, `sseDisconnected()` exactly
 * once when it ends (client gone, error or shutdown), and `sseEventsSent(n)` after writing events.
 */
@Injectable()
export class Metrics implements OnModuleDestroy {
  readonly registry = new Registry();

  private readonly commands = new Counter({
    name: 'ledger_commands_total',
    help: 'Commands (POST/PUT/PATCH/DELETE routes) by route and outcome: ok, replayed, refused-<problem type>, error',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly commandSeconds = new Histogram({
    name: 'ledger_command_duration_seconds',
    help: 'Time to handle a command, from validation to the answer, whatever its outcome',
    labelNames: ['command'] as const,
    buckets: SECONDS_REQUEST,
    registers: [this.registry],
  });
  private readonly replays = new Counter({
    name: 'ledger_idempotent_replays_total',
    help: 'Commands answered from their earlier run in the log (a retried Idempotency-Key); nothing was appended',
    registers: [this.registry],
  });
  private readonly appendSeconds = new Histogram({
    name: 'ledger_event_store_append_duration_seconds',
    help: 'Time of one append to the event store (a durable commit), by outcome: ok, conflict (expected revision moved), error',
    labelNames: ['outcome'] as const,
    buckets: SECONDS_FAST,
    registers: [this.registry],
  });
  private readonly appendBatch = new Histogram({
    name: 'ledger_event_store_append_batch_size',
    help: 'Events per successful append',
    buckets: [1, 2, 3, 5, 10, 20, 50, 100],
    registers: [this.registry],
  });
  private readonly appended = new Counter({
    name: 'ledger_events_appended_total',
    help: 'Events appended by this instance, by event type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  private readonly storeUp = new Gauge({
    name: 'ledger_event_store_up',
    help: '1 when the event store answered at the last scrape, 0 when it did not',
    registers: [this.registry],
  });
  private readonly head = new Gauge({
    name: 'ledger_event_store_head_position',
    help: 'Position of the last event in the log (EventStoreDB positions are large and sparse: compare, do not subtract)',
    registers: [this.registry],
  });
  private readonly runnerUp = new Gauge({
    name: 'ledger_projection_runner_up',
    help: '1 while the projection runner follows the log, 0 once it stopped on an error (restart the service)',
    registers: [this.registry],
  });
  private readonly projectionPosition = new Gauge({
    name: 'ledger_projection_position',
    help: 'Log position a read model has applied up to (its checkpoint)',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  private readonly projectionLagEvents = new Gauge({
    name: 'ledger_projection_lag_events',
    help: 'Events in the log a read model has not applied yet (counted up to 100000)',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  private readonly projectionLagSeconds = new Gauge({
    name: 'ledger_projection_lag_seconds',
    help: 'How long the oldest event a read model has not applied has waited (now minus its recordedAt; 0 when caught up)',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  private readonly projectionEvents = new Counter({
    name: 'ledger_projection_events_applied_total',
    help: 'Events the projection runner has applied (each event once, for all read models, in one transaction per batch)',
    registers: [this.registry],
  });
  private readonly projectionBatchSeconds = new Histogram({
    name: 'ledger_projection_batch_duration_seconds',
    help: 'Time to apply one batch of events to the read models and move their checkpoints',
    buckets: SECONDS_FAST,
    registers: [this.registry],
  });
  private readonly projectionLastApplied = new Gauge({
    name: 'ledger_projection_last_applied_event_timestamp_seconds',
    help: 'recordedAt (Unix seconds) of the last event the projection runner applied',
    registers: [this.registry],
  });
  private readonly sse = new Gauge({
    name: 'ledger_sse_connections',
    help: 'Open Server-Sent Events subscriptions (/v1/events/stream)',
    registers: [this.registry],
  });
  private readonly sseEvents = new Counter({
    name: 'ledger_sse_events_sent_total',
    help: 'Events written to Server-Sent Events subscriptions',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** An SSE subscription opened. */
  sseConnected(): void {
    this.sse.inc();
  }

  /** An SSE subscription ended; call once per `sseConnected()`. */
  sseDisconnected(): void {
    this.sse.dec();
  }

  /** Events written to an SSE subscription. */
  sseEventsSent(count = 1): void {
    this.sseEvents.inc(count);
  }

  /** A command route answered (the interceptor calls this). */
  commandFinished(command: string, outcome: CommandOutcomeLabel, seconds: number): void {
    this.commands.inc({ command, outcome });
    this.commandSeconds.observe({ command }, seconds);
  }

  idempotentReplay(): void {
    this.replays.inc();
  }

  /** One append of the command pipeline. */
  append(a: AppendObservation): void {
    this.appendSeconds.observe({ outcome: a.outcome }, a.seconds);
    if (a.outcome !== 'ok') return;
    this.appendBatch.observe(a.types.length);
    for (const type of a.types) this.appended.inc({ type });
  }

  /** One batch applied by the projection runner. */
  projectionBatch(b: { readonly events: number; readonly seconds: number; readonly lastRecordedAt: string }): void {
    this.projectionEvents.inc(b.events);
    this.projectionBatchSeconds.observe(b.seconds);
    const at = Date.parse(b.lastRecordedAt);
    if (Number.isFinite(at)) this.projectionLastApplied.set(at / 1000);
  }

  /** Scrape-time state. A store that did not answer clears the lag series rather than leaving stale values. */
  ledgerState(s: LedgerState): void {
    this.storeUp.set(s.storeUp ? 1 : 0);
    this.runnerUp.set(s.runnerUp ? 1 : 0);
    this.projectionPosition.reset();
    this.projectionLagEvents.reset();
    this.projectionLagSeconds.reset();
    if (s.lag === undefined) return;
    this.head.set(Number(s.lag.head));
    for (const p of s.lag.projections) {
      this.projectionPosition.set({ projection: p.name }, Number(p.position));
      this.projectionLagEvents.set({ projection: p.name }, p.events);
      this.projectionLagSeconds.set({ projection: p.name }, p.seconds);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  onModuleDestroy(): void {
    this.registry.clear();
  }
}
