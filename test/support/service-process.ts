import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { KEY_CONFIG } from './app.js';

export const MAIN = resolve('dist/apps/api/src/main.js');

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The compiled service as a child process on a free port, the way `npm start` runs it. */
export async function startService(dataDir: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  if (!existsSync(MAIN)) throw new Error('run `npm run build` first: this test runs the compiled service');
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: '0', LEDGER_DATA_DIR: dataDir, LEDGER_API_KEYS: JSON.stringify(KEY_CONFIG), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => {
      // Never leave the child behind (a test that gave up on it must not leak a running service).
      child.kill('SIGKILL');
      fail(new Error(`service did not start within 45 s (a bound, not a measurement):\n${err}`));
    }, 45_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1'));
      }
    });
    void exited.then(() => fail(new Error(`service exited before listening:\n${err}`)));
  });
  return { child, url, stderr: () => err, exited };
}
