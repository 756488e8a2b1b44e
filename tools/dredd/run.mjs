// `npm run contract:dredd`: Dredd (an independent contract tester) against the built service, with the
// OpenAPI document's own examples. Starts dist/ on a temporary data directory and a free port with one admin
// key, saves its /docs-json, and runs Dredd through npx (not a dependency of the project: it pulls 227
// packages, `request` among them, and is only needed here). Extra arguments go to Dredd.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const DREDD = 'dredd@14.1.0';
const main = resolve('dist/apps/api/src/main.js');
if (!existsSync(main)) {
  process.stderr.write('run `npm run build` first\n');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'ledger-dredd-'));
const key = `dredd-${Date.now()}-0123456789abcdef`;
const service = spawn(process.execPath, [main], {
  env: { ...process.env, PORT: '0', LEDGER_DATA_DIR: join(dir, 'data'), LEDGER_API_KEYS: JSON.stringify([{ key, role: 'admin' }]), LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'pipe'],
});
const stop = () => {
  service.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
};
try {
  const url = await new Promise((ok, fail) => {
    let err = '';
    const timer = setTimeout(() => fail(new Error(`service did not start:\n${err}`)), 30_000);
    service.stderr.on('data', (chunk) => {
      err += chunk.toString();
      const m = /listening on http:\/\/[^\s:]+:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        ok(`http://127.0.0.1:${m[1]}`);
      }
    });
    service.on('exit', () => fail(new Error(`service exited:\n${err}`)));
  });
  const doc = join(dir, 'openapi.json');
  writeFileSync(doc, await (await fetch(`${url}/docs-json`)).text());
  const args = ['--yes', DREDD, doc, url, '--header', `Authorization: Bearer ${key}`, '--hookfiles', resolve('tools/dredd/hooks.cjs'), '--loglevel', 'warning', ...process.argv.slice(2)];
  const code = await new Promise((ok) => spawn('npx', args, { stdio: 'inherit' }).on('exit', (c) => ok(c ?? 1)));
  stop();
  process.exit(code);
} catch (error) {
  stop();
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
