import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import type { LedgerCoreOptions } from './wiring/ledger.module.js';
import { loadConfig, type LedgerConfig } from '#libs/ledger/config.js';
import { configureApp, createFastifyAdapter } from './platform/http.js';
import type { PlatformOptions } from './platform/platform.module.js';

export interface BootstrapOptions {
  readonly config?: LedgerConfig;
  /** Bind address; all interfaces by default (containers), tests use 127.0.0.1. */
  readonly host?: string;
  readonly core?: Partial<LedgerCoreOptions>;
  readonly platform?: PlatformOptions;
}

/** Builds the application without listening (tests call `listen` themselves). */
export async function createApp(options: BootstrapOptions = {}): Promise<NestFastifyApplication> {
  const config = options.config ?? loadConfig();
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.core, options.platform), createFastifyAdapter(), {
    bufferLogs: true,
  });
  configureApp(app, config, { title: 'channel-ledger', version: '1' });
  return app;
}

export async function bootstrap(options: BootstrapOptions = {}): Promise<NestFastifyApplication> {
  const config = options.config ?? loadConfig();
  const app = await createApp({ ...options, config });
  await app.listen(config.port, options.host ?? '0.0.0.0');
  process.stderr.write(`channel-ledger listening on ${await app.getUrl()} (store: ${config.store}, data: ${config.dataDir})\n`);
  return app;
}
