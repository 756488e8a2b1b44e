import type { ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { toWire, type RecordedEvent } from '#events/envelope.js';
import { StoreUnavailableError, type Subscription } from '#libs/event-store/port.js';
import { DEFAULT_SSE_MAX_PER_KEY, LEDGER_CONFIG, type LedgerConfig } from '#libs/ledger/config.js';
import { Metrics } from '../metrics/metrics.service.js';
import { ProblemException } from '../platform/problem.js';
import { toCloudEvent } from './cloud-events.js';

export const DEFAULT_HEARTBEAT_MS = 15_000;

/** What a test (or an operator's debugger) can see of one open stream. Counters, never timings. */
export interface EventStreamStats {
  readonly id: number;
  /** Events taken from the store subscription. */
  readonly pulled: number;
  /** Events written to the socket. */
  readonly written: number;
  /** Bytes accepted by `write` but not yet handed to the kernel. */
  readonly queuedBytes: number;
  readonly maxQueuedBytes: number;
  /** True while the connection waits for the client to read before pulling the next event. */
  readonly waitingForDrain: boolean;
  readonly lastPosition: string | null;
  /** Times the store subscription failed (UNAVAILABLE, a leader election) and was opened again. */
  readonly resubscribed: number;
}

/** Opens the store subscription again after `position` (exclusive), for a connection whose subscription failed. */
export type Resubscribe = (position: bigint) => Subscription;

/** First wait before subscribing again after a store error; doubles up to RESUBSCRIBE_MAX_MS. */
const RESUBSCRIBE_FIRST_MS = 100;
const RESUBSCRIBE_MAX_MS = 10_000;

/** One SSE message (the envelope is JSON on one line, so one `data:` field carries it). */
export function sseFrame(e: RecordedEvent): string {
  return `id: ${e.position}\nevent: ${e.type}\ndata: ${JSON.stringify(toWire(e))}\n\n`;
}

/** The same message with a structured-mode CloudEvent (JSON, one line) as its `data:`; `id:` and `event:` as in `sseFrame`. */
export function cloudEventFrame(source: string): (e: RecordedEvent) => string {
  return (e) => `id: ${e.position}\nevent: ${e.type}\ndata: ${JSON.stringify(toCloudEvent(e, source))}\n\n`;
}

const HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  // Reverse proxies (nginx) would otherwise buffer the stream.
  'X-Accel-Buffering': 'no',
};

/**
 * One `GET /v1/events/stream` connection. Back-pressure is the loop's shape: it pulls ONE event from the
 * store subscription, writes it, and when `write` reports a full socket it waits for `drain` before pulling
 * the next. The subscription is itself pull-based (it reads a page only when asked), so a client that
 * stops reading stops the reads: the server holds at most one event plus the socket's high-water mark,
 * never a queue that grows with the log.
 */
class EventStreamConnection {
  pulled = 0;
  written = 0;
  maxQueuedBytes = 0;
  waitingForDrain = false;
  lastPosition: bigint | undefined;
  resubscribed = 0;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    readonly id: number,
    /** The actor id of the key that opened it (connections per key are capped). */
    readonly owner: string,
    private readonly raw: ServerResponse,
    private subscription: Subscription,
    private readonly heartbeatMs: number,
    private readonly logger: Logger,
    private readonly resubscribe?: { readonly open: Resubscribe; readonly from: bigint; readonly firstMs?: number },
    private readonly frame: (e: RecordedEvent) => string = sseFrame,
    /** Counts each event written (`ledger_sse_events_sent_total`). */
    private readonly onWritten: () => void = () => undefined,
  ) {}

  async run(): Promise<void> {
    const raw = this.raw;
    raw.on('close', () => this.stop());
    raw.on('error', () => this.stop());
    raw.writeHead(200, HEADERS);
    // Sends the headers now (the client's EventSource opens) and tells it how soon to reconnect.
    raw.write(': channel-ledger event stream\nretry: 3000\n\n');
    const heartbeat = setInterval(() => {
      // A comment keeps proxies from timing the connection out; skipped while the client is not reading.
      if (!this.closed && !raw.writableNeedDrain) raw.write(': heartbeat\n\n');
    }, this.heartbeatMs);
    heartbeat.unref();
    try {
      let events = this.subscription[Symbol.asyncIterator]();
      let failures = 0;
      while (!this.closed) {
        let next: IteratorResult<RecordedEvent>;
        try {
          next = await events.next();
        } catch (error) {
          // A store that goes away (a leader election, a restart) does not end the stream: the client would only
          // reconnect; the connection waits (heartbeats go on) and subscribes again after the last event it sent.
          if (this.closed || !this.resubscribe || !(error instanceof StoreUnavailableError)) throw error;
          this.logger.warn(`event stream ${this.id}: the store subscription failed (${error.message}); subscribing again`);
          await this.subscription.close().catch(() => undefined);
          await this.pause(failures++);
          if (this.closed) break;
          this.subscription = this.resubscribe.open(this.lastPosition ?? this.resubscribe.from);
          this.resubscribed += 1;
          events = this.subscription[Symbol.asyncIterator]();
          continue;
        }
        failures = 0;
        if (next.done || this.closed) break;
        this.pulled += 1;
        const flowing = raw.write(this.frame(next.value));
        this.written += 1;
        this.onWritten();
        this.lastPosition = next.value.position;
        this.maxQueuedBytes = Math.max(this.maxQueuedBytes, raw.writableLength);
        if (!flowing) await this.drained();
      }
    } catch (error) {
      // The store closing under a stream at shutdown ends it like a stop; anything else is worth a line.
      if (!this.closed) this.logger.warn(`event stream ${this.id} ended: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.closed = true;
      clearInterval(heartbeat);
      await this.subscription.close().catch(() => undefined);
      // A client that is not reading would hold a graceful end (and the server's close) forever; it
      // resumes from its Last-Event-ID anyway.
      if (raw.writableNeedDrain) raw.destroy();
      else if (!raw.writableEnded) raw.end();
    }
  }

  /** Backoff with jitter before subscribing again; `stop()` cuts it short. */
  private pause(failures: number): Promise<void> {
    const first = this.resubscribe?.firstMs ?? RESUBSCRIBE_FIRST_MS;
    const ms = Math.min(RESUBSCRIBE_MAX_MS, first * 2 ** Math.min(failures, 16)) * (0.5 + Math.random() / 2);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Ends the stream: the pending `next()` of the subscription resolves done, a pending drain wait ends. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    void this.subscription.close().catch(() => undefined);
  }

  stats(): EventStreamStats {
    return {
      id: this.id,
      pulled: this.pulled,
      written: this.written,
      queuedBytes: this.raw.writableLength,
      maxQueuedBytes: this.maxQueuedBytes,
      waitingForDrain: this.waitingForDrain,
      lastPosition: this.lastPosition === undefined ? null : this.lastPosition.toString(),
      resubscribed: this.resubscribed,
    };
  }

  private drained(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.waitingForDrain = true;
    return new Promise((resolve) => {
      const done = (): void => {
        this.raw.off('drain', done);
        this.wake = undefined;
        this.waitingForDrain = false;
        resolve();
      };
      this.wake = done;
      this.raw.once('drain', done);
    });
  }
}

/** The open event streams: started here, ended here at shutdown so that SIGTERM does not wait on them. */
@Injectable()
export class EventStreams implements BeforeApplicationShutdown {
  private readonly logger = new Logger('EventStreams');
  private readonly open = new Map<EventStreamConnection, Promise<void>>();
  private readonly perOwner = new Map<string, number>();
  private nextId = 1;
  private closing = false;
  /** `LEDGER_SSE_HEARTBEAT_MS`, 15 s by default (API.md); tests shorten it. */
  heartbeatMs = heartbeatFromEnv(process.env.LEDGER_SSE_HEARTBEAT_MS);
  /**
   * `LEDGER_SSE_MAX_PER_KEY`: each stream holds a socket, a store subscription and a heartbeat timer for as long
   * as the client likes, so one key (a leaked one, a client reconnecting in a loop without closing) may not
   * hold more than this many at once.
   */
  readonly maxPerKey: number;

  constructor(
    @Inject(Metrics) private readonly metrics: Metrics,
    @Optional() @Inject(LEDGER_CONFIG) config?: LedgerConfig,
  ) {
    this.maxPerKey = config?.sseMaxPerKey ?? DEFAULT_SSE_MAX_PER_KEY;
  }

  get shuttingDown(): boolean {
    return this.closing;
  }

  /** Open streams of one key's actor. */
  openFor(owner: string): number {
    return this.perOwner.get(owner) ?? 0;
  }

  /**
   * Refuses a new stream for a key that already holds `maxPerKey` (429 `too-many-requests`). Call it right
   * before `start`, with no `await` between: the count is taken and raised in the same turn of the event loop.
   */
  admit(owner: string): void {
    const open = this.openFor(owner);
    if (open >= this.maxPerKey) {
      throw new ProblemException('too-many-requests', `This API key already has ${open} open event streams (at most ${this.maxPerKey}); close one first.`, {
        headers: { 'Retry-After': '5' },
        extensions: { openStreams: open, maxStreamsPerKey: this.maxPerKey },
      });
    }
  }

  /**
   * Takes over the raw response (already hijacked from Fastify) and streams `subscription` into it. With
   * `resubscribe`, a subscription that fails with StoreUnavailableError is opened again (with backoff) after
   * the last event sent, or after `resubscribe.from` when none was. `frame` writes one message (`sseFrame`, or
   * `cloudEventFrame` for `?format=cloudevents`).
   */
  start(
    raw: ServerResponse,
    subscription: Subscription,
    owner: string,
    resubscribe?: { readonly open: Resubscribe; readonly from: bigint; readonly firstMs?: number },
    frame: (e: RecordedEvent) => string = sseFrame,
  ): void {
    const connection = new EventStreamConnection(this.nextId++, owner, raw, subscription, this.heartbeatMs, this.logger, resubscribe, frame, () => this.metrics.sseEventsSent(1));
    this.perOwner.set(owner, this.openFor(owner) + 1);
    this.metrics.sseConnected();
    const done = connection.run().finally(() => {
      this.metrics.sseDisconnected();
      this.open.delete(connection);
      const left = this.openFor(owner) - 1;
      if (left > 0) this.perOwner.set(owner, left);
      else this.perOwner.delete(owner);
    });
    this.open.set(connection, done);
  }

  stats(): EventStreamStats[] {
    return [...this.open.keys()].map((c) => c.stats());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    const running = [...this.open.entries()];
    for (const [connection] of running) connection.stop();
    await Promise.all(running.map(([, done]) => done));
  }
}

function heartbeatFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_HEARTBEAT_MS;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 10 || n > 3_600_000) throw new Error(`LEDGER_SSE_HEARTBEAT_MS must be an integer from 10 to 3600000 (got ${JSON.stringify(raw)})`);
  return n;
}
