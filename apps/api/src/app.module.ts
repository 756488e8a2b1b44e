import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ALL_PROJECTIONS } from '#projections/index.js';
import { LedgerModule, withLedger, type LedgerCoreOptions } from './wiring/ledger.module.js';
import { PartnersModule } from './partners/partners.module.js';
import { DealsModule } from './deals/deals.module.js';
import { TiersModule } from './tiers/tiers.module.js';
import { AttributionModule } from './attribution/attribution.module.js';
import { MdfModule } from './mdf/mdf.module.js';
import { ExchangeRatesModule } from './exchange-rates/exchange-rates.module.js';
import { ProgramModule } from './program/program.module.js';
import { CommissionsModule } from './commissions/commissions.module.js';
import { StatementsModule } from './statements/statements.module.js';
import type { LedgerConfig } from '#libs/ledger/config.js';
import { PlatformModule, type PlatformOptions } from './platform/platform.module.js';
import { readinessChecksProvider } from './wiring/readiness.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { TelemetryModule } from './metrics/telemetry.module.js';
import { AuditModule } from './audit/audit.module.js';
import { SubscriptionsModule } from './subscriptions/subscriptions.module.js';

@Module({})
export class AppModule {
  static forRoot(config: LedgerConfig, overrides: Partial<LedgerCoreOptions> = {}, platform: PlatformOptions = {}): DynamicModule {
    const core = LedgerModule.forRoot({
      store: config.store,
      dataDir: config.dataDir,
      esdbConnectionString: config.esdbConnectionString,
      consistencyTimeoutMs: config.consistencyTimeoutMs,
      projectionThread: config.projectionThread,
      projections: ALL_PROJECTIONS,
      instrumentation: TelemetryModule,
      ...overrides,
    });
    const capabilities = [ProgramModule, PartnersModule, DealsModule, TiersModule, AttributionModule, MdfModule, ExchangeRatesModule, AuditModule, SubscriptionsModule, CommissionsModule, StatementsModule];
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot(config, { readinessChecks: readinessChecksProvider(config), imports: [core], ...platform }),
        CqrsModule.forRoot(),
        core,
        withLedger(MetricsModule, core),
        ...capabilities.map((m) => withLedger(m, core)),
      ],
    };
  }
}
