import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { PinoLogger } from 'nestjs-pino';
import { LEDGER_OBSERVER } from '../ledger/ledger.module.js';
import { CommandMetricsInterceptor, ledgerObserver } from './command-telemetry.js';
import { MetricsController } from './metrics.controller.js';
import { Metrics } from './metrics.service.js';

/**
 * `GET /metrics` and the instrumentation behind it. Global, so any module can inject `Metrics` (the SSE
 * endpoint counts its connections through it), and so the ledger core finds LEDGER_OBSERVER.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    Metrics,
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
