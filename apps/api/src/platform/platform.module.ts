import { type DynamicModule, type ModuleMetadata, Module, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { DestinationStream } from 'pino';
import { AccessGuard, AuthenticationGuard } from './auth/access.js';
import { API_KEYS, type ApiKeyRecord, loadApiKeys } from './auth/api-keys.js';
import { LEDGER_CONFIG, type LedgerConfig } from '#libs/ledger/config.js';
import { HealthController, READINESS_CHECKS } from './health.controller.js';
import { createLoggerModule } from './logging.js';
import { RateLimitGuard, rateLimitOptions } from './rate-limit.js';

export interface PlatformOptions {
  /** Keys already loaded (tests, or a caller that loaded them itself); by default `loadApiKeys(config)` runs. */
  readonly apiKeys?: readonly ApiKeyRecord[];
  /** Where `loadApiKeys` prints (the one-time admin key notice); stderr by default, to keep stdout for the JSON log lines. */
  readonly out?: (line: string) => void;
  /** Log destination instead of stdout (tests capture lines with it). */
  readonly logDestination?: DestinationStream;
  /**
   * The provider of READINESS_CHECKS (a `ReadinessCheck[]`). It becomes a provider of this module, so what it
   * injects must be exported by a global module (the ledger's store and projection runner are) or by a module
   * listed in `imports`. Without it, `/health/ready` is ready whenever the process is up.
   */
  readonly readinessChecks?: Provider;
  readonly imports?: ModuleMetadata['imports'];
}

/**
 * The HTTP platform: configuration, API keys, the global guards, structured logging, health.
 *
 *   imports: [
 *     PlatformModule.forRoot(config, {
 *       readinessChecks: { provide: READINESS_CHECKS, inject: [EVENT_STORE, ProjectionRunner], useFactory: (store, runner) => [...] },
 *     }),
 *     ...
 *   ]
 *
 * then `configureApp(app, config)` (http.ts) before `listen()`. The checks come in through `forRoot` rather
 * than being looked up across the app, so a missing or misnamed provider fails the start instead of
 * silently making readiness mean liveness.
 *
 * The global guards run in the order they are listed here: who is calling (`AuthenticationGuard`, never
 * refuses), the rate limit per caller (`RateLimitGuard`, 429; absent with `LEDGER_RATE_LIMIT=0`), then the
 * access rules (`AccessGuard`, 401/403).
 */
@Module({})
export class PlatformModule {
  static forRoot(config: LedgerConfig, options: PlatformOptions = {}): DynamicModule {
    // Loaded here, before the app is built, so a bad key configuration stops the start with its own message.
    const readiness = options.readinessChecks ?? { provide: READINESS_CHECKS, useValue: [] };
    if (typeof readiness !== 'object' || !('provide' in readiness) || readiness.provide !== READINESS_CHECKS) {
      throw new Error('PlatformModule.forRoot: readinessChecks must be a provider of READINESS_CHECKS');
    }
    const keys = options.apiKeys ?? loadApiKeys(config, options.out ?? ((line) => process.stderr.write(`${line}\n`))).keys;
    return {
      module: PlatformModule,
      global: true,
      imports: [createLoggerModule(config, options.logDestination), ThrottlerModule.forRoot(rateLimitOptions(config)), ...(options.imports ?? [])],
      controllers: [HealthController],
      providers: [
        { provide: LEDGER_CONFIG, useValue: config },
        { provide: API_KEYS, useValue: keys },
        { provide: APP_GUARD, useClass: AuthenticationGuard },
        ...(config.rateLimit > 0 ? [{ provide: APP_GUARD, useClass: RateLimitGuard }] : []),
        { provide: APP_GUARD, useClass: AccessGuard },
        readiness,
      ],
      exports: [LEDGER_CONFIG, API_KEYS],
    };
  }
}
