import { bootstrap } from './bootstrap.js';
import { ConfigError } from '#libs/ledger/config.js';
import { ApiKeyConfigError } from './platform/auth/api-keys.js';

/** A shutdown that cannot finish (a stuck client, a hung store) must not keep a dying process forever. */
const SHUTDOWN_DEADLINE_MS = 30_000;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    setTimeout(() => {
      process.stderr.write(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms: exiting\n`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
  });
}

try {
  await bootstrap();
} catch (error) {
  // Configuration mistakes are the operator's to fix: say what is wrong, without a stack trace.
  if (error instanceof ConfigError || error instanceof ApiKeyConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
