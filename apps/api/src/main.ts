import { bootstrap } from './bootstrap.js';
import { ConfigError } from './platform/config.js';
import { ApiKeyConfigError } from './platform/auth/api-keys.js';

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
