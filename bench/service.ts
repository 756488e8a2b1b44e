import { Body, Controller, HttpCode, Module, Post, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '#api/app.module.js';
import { createApp } from '#api/bootstrap.js';
import { Allow, PartnerScoped } from '#api/platform/auth/access.js';
import { loadConfig, type LedgerConfig } from '#libs/ledger/config.js';
import { configureApp, createFastifyAdapter } from '#api/platform/http.js';

/** Keys of the bench's service instances (never used outside a bench data directory). */
export const BENCH_KEYS = {
  admin: 'bench-admin-key-0123456789abcdef',
  ops: 'bench-ops-key-0123456789abcdef',
  finance: 'bench-finance-key-0123456789abcdef',
} as const;

const KEY_CONFIG = [
  { key: BENCH_KEYS.admin, role: 'admin', id: 'bench-admin' },
  { key: BENCH_KEYS.ops, role: 'channel-ops', id: 'bench-ops' },
  { key: BENCH_KEYS.finance, role: 'finance', id: 'bench-finance' },
];

export function benchConfig(dataDir: string): LedgerConfig {
  return loadConfig({
    LEDGER_DATA_DIR: dataDir,
    LEDGER_API_KEYS: JSON.stringify(KEY_CONFIG),
    // Request logs cost the same on both sides of a comparison; `info` is what production runs.
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    NODE_ENV: 'production',
    PORT: '0',
    // The load generator is one caller standing for many clients: the per-caller limit would measure itself.
    LEDGER_RATE_LIMIT: '0',
    // Where the read models are applied (the service's default, a worker thread, unless set: `main` compares).
    ...(process.env.LEDGER_PROJECTION_THREAD ? { LEDGER_PROJECTION_THREAD: process.env.LEDGER_PROJECTION_THREAD } : {}),
  });
}

/**
 * The baseline of the HTTP figures: a command route that does nothing, behind the same guard, body parser,
 * pipes, filters and logger as every command. Registered only in the bench's app instance.
 */
@Controller('bench')
class NoopController {
  @Post('noop')
  @Allow('channel-ops', 'finance')
  @PartnerScoped()
  @HttpCode(201)
  noop(@Body() _body: unknown): { ok: true } {
    return { ok: true };
  }
}

@Module({})
class BenchAppModule {
  static forRoot(config: LedgerConfig): DynamicModule {
    return { module: BenchAppModule, imports: [AppModule.forRoot(config)], controllers: [NoopController] };
  }
}

export interface RunningService {
  readonly url: string;
  readonly app: NestFastifyApplication;
  close(): Promise<void>;
}

/** The service on `dataDir`, listening on a free port of 127.0.0.1; with `noop`, plus `POST /bench/noop`. */
export async function startService(dataDir: string, options: { noop?: boolean } = {}): Promise<RunningService> {
  const config = benchConfig(dataDir);
  let app: NestFastifyApplication;
  if (options.noop) {
    // What createApp does, with the bench's module around the application's.
    app = await NestFactory.create<NestFastifyApplication>(BenchAppModule.forRoot(config), createFastifyAdapter(), { bufferLogs: true });
    configureApp(app, config, { title: 'channel-ledger (bench)', version: '1' });
  } else {
    app = await createApp({ config });
  }
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { url, app, close: () => app.close() };
}
