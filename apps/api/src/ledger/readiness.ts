import type { Provider } from '@nestjs/common';
import type { EventStore } from '../../../../libs/event-store/src/port.js';
import { ProjectionRunner } from '../../../../projections/runner/runner.js';
import type { LedgerConfig } from '../platform/config.js';
import { READINESS_CHECKS, type ReadinessCheck } from '../platform/health.controller.js';
import { EVENT_STORE } from './tokens.js';

/** `/health/ready`: the store answers, and the read models are not further behind the log than allowed. */
export function readinessChecksProvider(config: LedgerConfig): Provider {
  return {
    provide: READINESS_CHECKS,
    inject: [EVENT_STORE, ProjectionRunner],
    useFactory: (store: EventStore, runner: ProjectionRunner): ReadinessCheck[] => [
      {
        name: 'event-store',
        async check() {
          await store.ping();
          return { ok: true };
        },
      },
      {
        name: 'projections',
        async check() {
          if (runner.error) return { ok: false, detail: `projection runner stopped: ${runner.error instanceof Error ? runner.error.message : String(runner.error)}` };
          const head = await store.headPosition();
          const lag = head - runner.position();
          const ok = lag <= BigInt(config.readyMaxLagEvents);
          return { ok, detail: ok ? `lag ${lag} events` : `read models lag ${lag} events behind the log (limit ${config.readyMaxLagEvents})` };
        },
      },
    ],
  };
}
