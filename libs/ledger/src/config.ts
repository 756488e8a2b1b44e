/**
 * The service's configuration, read once from the environment (API.md, "Configuration"). Every problem is
 * reported at once, so an operator fixes a bad deployment in one round rather than one variable at a time.
 */
export interface LedgerConfig {
  readonly port: number;
  readonly store: 'sqlite' | 'esdb';
  readonly dataDir: string;
  /** Required when `store` is `esdb`. */
  readonly esdbConnectionString?: string;
  readonly consistencyTimeoutMs: number;
  readonly nodeEnv: string;
  /** Raw `LEDGER_API_KEYS` (a JSON array); parsed and validated by `loadApiKeys`. */
  readonly apiKeys?: string;
  readonly apiKeysFile?: string;
  readonly logLevel: LogLevel;
  /** `/health/ready` reports not ready while a projection trails the log by more events than this. */
  readonly readyMaxLagEvents: number;
  /** ... and while a projection's oldest unapplied event has waited longer than this many seconds (0: no time bound). */
  readonly readyMaxLagSeconds: number;
  /** Requests one caller (an API key's actor, or an address without a valid key) may make per window; 0 turns the limit off. */
  readonly rateLimit: number;
  readonly rateLimitWindowMs: number;
  /** Open `/v1/events/stream` connections one API key may hold at once. */
  readonly sseMaxPerKey: number;
  /** `LEDGER_PUBLIC_URL`: where clients reach the service (behind a proxy); the AsyncAPI document's server. */
  readonly publicUrl?: string;
  /**
   * `LEDGER_PROJECTION_THREAD`: `worker` (default) applies the read models in a worker thread, off the event loop
   * that serves HTTP (SQLite store only; with EventStoreDB they are applied on the main thread); `main` keeps them
   * on it.
   */
  readonly projectionThread: 'main' | 'worker';
}

/** Generous: 100 requests per second sustained over a minute, in bursts of up to 6000; far above what a well-behaved client (or a test suite) sends, low enough to stop a runaway loop within a minute. */
export const DEFAULT_RATE_LIMIT = 6000;
export const DEFAULT_RATE_LIMIT_WINDOW_MS = 60_000;
export const DEFAULT_SSE_MAX_PER_KEY = 5;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Injection token of the `LedgerConfig` that `PlatformModule.forRoot` was given. */
export const LEDGER_CONFIG = Symbol('LEDGER_CONFIG');

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): LedgerConfig {
  const problems: string[] = [];
  // An empty variable is how shells and compose files spell "unset"; treating it as a value would turn
  // `PORT=` into port 0 or `LEDGER_API_KEYS=` into a JSON error.
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return Number(raw);
  };

  const port = integer('PORT', 3000, 0, 65535);
  const consistencyTimeoutMs = integer('LEDGER_CONSISTENCY_TIMEOUT_MS', 5000, 0, 3_600_000);
  const readyMaxLagEvents = integer('LEDGER_READY_MAX_LAG_EVENTS', 1000, 0, Number.MAX_SAFE_INTEGER);
  const readyMaxLagSeconds = integer('LEDGER_READY_MAX_LAG_SECONDS', 60, 0, 86_400);
  const rateLimit = integer('LEDGER_RATE_LIMIT', DEFAULT_RATE_LIMIT, 0, 1_000_000_000);
  const rateLimitWindowMs = integer('LEDGER_RATE_LIMIT_WINDOW_MS', DEFAULT_RATE_LIMIT_WINDOW_MS, 100, 86_400_000);
  const sseMaxPerKey = integer('LEDGER_SSE_MAX_PER_KEY', DEFAULT_SSE_MAX_PER_KEY, 1, 10_000);

  const storeRaw = get('LEDGER_STORE') ?? 'sqlite';
  let store: LedgerConfig['store'] = 'sqlite';
  if (storeRaw === 'sqlite' || storeRaw === 'esdb') store = storeRaw;
  else problems.push(`LEDGER_STORE must be "sqlite" or "esdb" (got ${JSON.stringify(storeRaw)})`);

  const esdbConnectionString = get('EVENTSTORE_CONNECTION_STRING');
  if (store === 'esdb' && esdbConnectionString === undefined) {
    problems.push('LEDGER_STORE=esdb needs EVENTSTORE_CONNECTION_STRING (e.g. esdb://localhost:2113?tls=false)');
  }

  const threadRaw = get('LEDGER_PROJECTION_THREAD') ?? 'worker';
  let projectionThread: LedgerConfig['projectionThread'] = 'worker';
  if (threadRaw === 'main' || threadRaw === 'worker') projectionThread = threadRaw;
  else problems.push(`LEDGER_PROJECTION_THREAD must be "worker" or "main" (got ${JSON.stringify(threadRaw)})`);

  const logLevelRaw = (get('LOG_LEVEL') ?? 'info').toLowerCase();
  let logLevel: LogLevel = 'info';
  if ((LOG_LEVELS as readonly string[]).includes(logLevelRaw)) logLevel = logLevelRaw as LogLevel;
  else problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(logLevelRaw)})`);

  const apiKeys = get('LEDGER_API_KEYS');
  const apiKeysFile = get('LEDGER_API_KEYS_FILE');
  if (apiKeys !== undefined && apiKeysFile !== undefined) {
    // Two sources would leave it unclear which keys are live; refusing is safer than merging.
    problems.push('set LEDGER_API_KEYS or LEDGER_API_KEYS_FILE, not both');
  }

  const publicUrl = get('LEDGER_PUBLIC_URL');
  if (publicUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(publicUrl)) {
    problems.push(`LEDGER_PUBLIC_URL must be an http(s) origin such as https://ledger.example.com (got ${JSON.stringify(publicUrl)})`);
  }

  if (problems.length) throw new ConfigError(problems);
  return {
    port,
    store,
    dataDir: get('LEDGER_DATA_DIR') ?? './data',
    ...(esdbConnectionString !== undefined && { esdbConnectionString }),
    consistencyTimeoutMs,
    nodeEnv: get('NODE_ENV') ?? 'development',
    ...(apiKeys !== undefined && { apiKeys }),
    ...(apiKeysFile !== undefined && { apiKeysFile }),
    logLevel,
    readyMaxLagEvents,
    readyMaxLagSeconds,
    rateLimit,
    rateLimitWindowMs,
    sseMaxPerKey,
    ...(publicUrl !== undefined && { publicUrl }),
    projectionThread,
  };
}
