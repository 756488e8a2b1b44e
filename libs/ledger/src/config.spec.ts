import { ConfigError, loadConfig } from './config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof ConfigError)) throw new Error('expected a ConfigError');
  return thrown.problems;
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      store: 'sqlite',
      dataDir: './data',
      consistencyTimeoutMs: 5000,
      nodeEnv: 'development',
      logLevel: 'info',
      readyMaxLagEvents: 1000,
      readyMaxLagSeconds: 60,
      rateLimit: 6000,
      rateLimitWindowMs: 60000,
      sseMaxPerKey: 5,
      projectionThread: 'worker',
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '8080',
        LEDGER_STORE: 'esdb',
        EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false',
        LEDGER_DATA_DIR: '/var/lib/ledger',
        LEDGER_CONSISTENCY_TIMEOUT_MS: '250',
        NODE_ENV: 'production',
        LEDGER_API_KEYS: '[]',
        LOG_LEVEL: 'DEBUG',
        LEDGER_READY_MAX_LAG_EVENTS: '0',
        LEDGER_READY_MAX_LAG_SECONDS: '0',
        LEDGER_RATE_LIMIT: '0',
        LEDGER_RATE_LIMIT_WINDOW_MS: '60000',
        LEDGER_SSE_MAX_PER_KEY: '2',
        LEDGER_PUBLIC_URL: 'https://ledger.example.com',
        LEDGER_PROJECTION_THREAD: 'main',
      }),
    ).toEqual({
      port: 8080,
      store: 'esdb',
      esdbConnectionString: 'esdb://localhost:2113?tls=false',
      dataDir: '/var/lib/ledger',
      consistencyTimeoutMs: 250,
      nodeEnv: 'production',
      apiKeys: '[]',
      logLevel: 'debug',
      readyMaxLagEvents: 0,
      readyMaxLagSeconds: 0,
      rateLimit: 0,
      rateLimitWindowMs: 60000,
      sseMaxPerKey: 2,
      publicUrl: 'https://ledger.example.com',
      projectionThread: 'main',
    });
  });

  it('refuses a projection thread other than worker or main', () => {
    expect(problemsOf({ LEDGER_PROJECTION_THREAD: 'both' })).toEqual([expect.stringMatching(/LEDGER_PROJECTION_THREAD must be "worker" or "main"/)]);
  });

  it('refuses a public URL that is not an http(s) origin', () => {
    expect(problemsOf({ LEDGER_PUBLIC_URL: 'ledger.example.com' })).toEqual([expect.stringMatching(/LEDGER_PUBLIC_URL/)]);
    expect(problemsOf({ LEDGER_PUBLIC_URL: 'https://ledger.example.com/api' })).toEqual([expect.stringMatching(/LEDGER_PUBLIC_URL/)]);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', LEDGER_API_KEYS: ' ', LEDGER_STORE: '' })).toMatchObject({ port: 3000, store: 'sqlite' });
    expect(loadConfig({ LEDGER_API_KEYS: '' }).apiKeys).toBeUndefined();
  });

  it('refuses esdb without a connection string', () => {
    expect(problemsOf({ LEDGER_STORE: 'esdb' })).toEqual([expect.stringMatching(/EVENTSTORE_CONNECTION_STRING/)]);
  });

  it('refuses bad values, all reported at once', () => {
    const problems = problemsOf({
      PORT: 'http',
      LEDGER_STORE: 'postgres',
      LEDGER_CONSISTENCY_TIMEOUT_MS: '-5',
      LOG_LEVEL: 'loud',
      LEDGER_READY_MAX_LAG_EVENTS: '1.5',
      LEDGER_RATE_LIMIT: '-1',
      LEDGER_RATE_LIMIT_WINDOW_MS: '10',
      LEDGER_SSE_MAX_PER_KEY: '0',
    });
    expect(problems).toHaveLength(8);
    expect(problems.join('\n')).toMatch(/PORT must be an integer from 0 to 65535 \(got "http"\)/);
    expect(problems.join('\n')).toMatch(/LEDGER_STORE must be "sqlite" or "esdb"/);
    expect(problems.join('\n')).toMatch(/LEDGER_CONSISTENCY_TIMEOUT_MS/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL must be one of/);
    expect(problems.join('\n')).toMatch(/LEDGER_READY_MAX_LAG_EVENTS/);
    expect(problems.join('\n')).toMatch(/LEDGER_RATE_LIMIT must be an integer from 0/);
    expect(problems.join('\n')).toMatch(/LEDGER_RATE_LIMIT_WINDOW_MS must be an integer from 100/);
    expect(problems.join('\n')).toMatch(/LEDGER_SSE_MAX_PER_KEY must be an integer from 1/);
  });

  it('refuses an out-of-range port and two key sources', () => {
    expect(problemsOf({ PORT: '70000' })).toEqual([expect.stringMatching(/^PORT/)]);
    expect(problemsOf({ LEDGER_API_KEYS: '[]', LEDGER_API_KEYS_FILE: '/etc/keys.json' })).toEqual([expect.stringMatching(/not both/)]);
  });
});
