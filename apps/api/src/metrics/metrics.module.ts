import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { PinoLogger } from 'nestjs-pino';
import { LEDGER_OBSERVER } from '../wiring/ledger.module.js';
import { CommandMetricsInterceptor, ledgerObserver } from './command-telemetry.js';
import { LedgerGauges } from './ledger-gauges.js';
import { MetricsController } from './metrics.controller.js';
import { Metrics } from './metrics.service.js';

/**
 * `GET /metrics` and the instrumentation behind it. Global, the one exception: instrumentation is cross-cutting
 * (the SSE endpoint counts its connections through `Metrics`), and the ledger core finds LEDGER_OBSERVER here
 * while this module reads the core's store and runner, a cycle that explicit imports cannot express.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    Metrics,
    LedgerGauges,
    { provide: APP_INTERCEPTOR, useClass: CommandMetricsInterceptor },
    {
      provide: LEDGER_OBSERVER,
      inject: [Metrics, { token: PinoLogger, optional: true }],
      useFactory: (metrics: Metrics, logger?: PinoLogger) => ledgerObserver(metrics, logger),
    },
  ],
  exports: [Metrics, LEDGER_OBSERVER],
})
export class MetricsModule {}
