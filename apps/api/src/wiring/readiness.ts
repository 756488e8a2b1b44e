import type { Provider } from '@nestjs/common';
import type { EventStore } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { ProjectionRunner } from '#projections/runner/runner.js';
import type { LedgerConfig } from '#libs/ledger/config.js';
import { READINESS_CHECKS, type ReadinessCheck } from '../platform/health.controller.js';
import { CLOCK, EVENT_STORE, type Clock } from '#libs/ledger/tokens.js';

/** How far one read model trails the log. */
export interface ProjectionLag {
  readonly name: string;
  readonly position: bigint;
  /** Events in the log after `position`, counted up to the cap it was measured with. */
  readonly events: number;
  /** True when there are more than `events` (the count stopped at the cap). */
  readonly atLeast: boolean;
  /** How long the oldest event the read model has not applied has waited (0 when caught up). */
  readonly seconds: number;
}

export interface LedgerLag {
  readonly head: bigint;
  readonly projections: readonly ProjectionLag[];
}

/**
 * Each read model's distance from the log's head, in events and in seconds. Events are counted rather than
 * subtracted: EventStoreDB positions are not dense (commit × 2^24 − offset), and neither are SQLite ones after
 * an import. The age is that of the oldest unapplied event, not of the last applied one: after a quiet hour a
 * new event would otherwise look an hour late the moment it arrives.
 */
export async function measureLag(store: EventStore, runner: ProjectionRunner, clock: Clock, maxCount: number): Promise<LedgerLag> {
  const head = await store.headPosition();
  const cap = Math.max(1, maxCount);
  // Read models normally share one position: measure each distinct position once.
  const measured = new Map<bigint, Promise<{ events: number; atLeast: boolean; seconds: number }>>();
  const projections = await Promise.all(
    runner.projections.map(async (p) => {
      const position = runner.position(p.name);
      let m = measured.get(position);
      if (m === undefined) {
        m = behind(store, position, head, cap, clock);
        measured.set(position, m);
      }
      return { name: p.name, position, ...(await m) };
    }),
  );
  return { head, projections };
}

async function behind(store: EventStore, position: bigint, head: bigint, cap: number, clock: Clock): Promise<{ events: number; atLeast: boolean; seconds: number }> {
  if (position >= head) return { events: 0, atLeast: false, seconds: 0 };
  let oldest: string | undefined;
  let events = 0;
  if (store instanceof SqliteEventStore) {
    // Positions are rowids: counting a range of them is an index walk, without reading the events.
    const row = store.database
      .prepare<[bigint, bigint, number], { n: number }>('SELECT COUNT(*) AS n FROM (SELECT 1 FROM events WHERE position > ? AND position <= ? LIMIT ?)')
      .get(position, head, cap + 1);
    events = row?.n ?? 0;
    for await (const e of store.readAll({ fromPosition: position, toPosition: head, limit: 1 })) oldest = e.metadata.recordedAt;
  } else {
    for await (const e of store.readAll({ fromPosition: position, toPosition: head, limit: cap + 1 })) {
      oldest ??= e.metadata.recordedAt;
      events += 1;
    }
  }
  const waitedMs = oldest === undefined ? 0 : clock.now().getTime() - Date.parse(oldest);
  return { events: Math.min(events, cap), atLeast: events > cap, seconds: Number.isFinite(waitedMs) ? Math.max(0, waitedMs / 1000) : 0 };
}

/**
 * `/health/ready`: the store answers, and no read model is further behind the log than allowed (in events,
 * and in how long its oldest unapplied event has waited). `/health` stays liveness only, so a lagging or
 * disconnected instance is taken out of the load balancer instead of being restarted.
 */
export function readinessChecksProvider(config: LedgerConfig): Provider {
  return {
    provide: READINESS_CHECKS,
    inject: [EVENT_STORE, ProjectionRunner, CLOCK],
    useFactory: (store: EventStore, runner: ProjectionRunner, clock: Clock): ReadinessCheck[] => [
      {
        name: 'event-store',
        async check() {
          await store.ping();
          return { ok: true, detail: `${store.kind} answers` };
        },
      },
      {
        name: 'projections',
        async check() {
          if (runner.error) {
            const why = runner.error instanceof Error ? runner.error.message : String(runner.error);
            return { ok: false, detail: runner.reconnecting ? `projection runner reconnecting to the store (it resumes from its checkpoints): ${why}` : `projection runner stopped: ${why}` };
          }
          if (runner.rebuildingTo !== undefined) return { ok: false, detail: `rebuilding read models out of step with the log: at ${runner.position()} of ${runner.rebuildingTo}` };
          const maxEvents = config.readyMaxLagEvents;
          const maxSeconds = config.readyMaxLagSeconds;
          const lag = await measureLag(store, runner, clock, maxEvents + 1);
          const late = lag.projections.filter((p) => p.events > maxEvents || (maxSeconds > 0 && p.seconds > maxSeconds));
          if (late.length) {
            // Read models usually lag together: one phrase per distinct lag, naming them all.
            const groups = new Map<string, string[]>();
            for (const p of late) {
              const how = `${p.atLeast ? 'more than ' : ''}${p.events} events and ${Math.round(p.seconds)} s behind the log`;
              groups.set(how, [...(groups.get(how) ?? []), p.name]);
            }
            const phrases = [...groups].map(([how, names]) => `${names.join(', ')} ${how}`);
            return {
              ok: false,
              detail: `read models lag: ${phrases.join('; ')} (limits ${maxEvents} events${maxSeconds > 0 ? `, ${maxSeconds} s` : ''}; head ${lag.head})`,
            };
          }
          const worst = lag.projections.reduce((w, p) => Math.max(w, p.events), 0);
          return { ok: true, detail: `lag ${worst} events` };
        },
      },
    ],
  };
}
