import { Module } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { LEDGER_OBSERVER } from '../wiring/ledger.module.js';
import { ledgerObserver } from './command-telemetry.js';
import { Metrics } from './metrics.service.js';

/**
 * The app's metrics registry (`Metrics`) and the ledger core's instrumentation built on it (LEDGER_OBSERVER).
 * It needs nothing of the core, so the core imports it (`LedgerModule.forRoot({ instrumentation })`) as well as
 * the modules that record metrics (`MetricsModule`, `SubscriptionsModule`): one instance for all, no cycle and no
 * global module.
 */
@Module({
  providers: [
    Metrics,
    {
      provide: LEDGER_OBSERVER,
      inject: [Metrics, { token: PinoLogger, optional: true }],
      useFactory: (metrics: Metrics, logger?: PinoLogger) => ledgerObserver(metrics, logger),
    },
  ],
  exports: [Metrics, LEDGER_OBSERVER],
})
export class TelemetryModule {}
