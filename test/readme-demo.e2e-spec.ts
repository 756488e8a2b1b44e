import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir } from './support/app.js';
import { MAIN } from './support/service-process.js';

/**
 * README.md's "A populated demo", run as written: the two code blocks marked `readme-demo:server` and
 * `readme-demo:client`, in order, against a temporary data directory and a free port instead of ./demo and
 * 3000. `npm ci` and `npm run build` are what the suite itself stands on (`npm test` builds first), and
 * `npm start` is run as the `node [flags] dist/...` its script ends with, so that no build races the other suites.
 */
const README = readFileSync('README.md', 'utf8');

function block(marker: string): string[] {
  const at = README.indexOf(`<!-- readme-demo:${marker}`);
  if (at < 0) throw new Error(`README.md has no <!-- readme-demo:${marker} --> block`);
  const fence = README.indexOf('```bash\n', at);
  const end = README.indexOf('\n```', fence + 8);
  return README.slice(fence + 8, end)
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '');
}

describe('README demo, pasted in order on a fresh clone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-readme-'));
  const data = join(dir, 'demo');
  let child: ReturnType<typeof spawn> | undefined;

  afterAll(() => {
    child?.kill('SIGTERM');
    removeDir(dir);
  });

  it('simulates into ./demo, serves it with the admin key it created there, and every query answers data', async () => {
    const server = block('server');
    expect(server).toEqual(['npm ci', 'npm run build', 'export LEDGER_DATA_DIR=./demo', 'npm run ledger -- simulate', 'npm start']);
    const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    // `node [flags] dist/apps/api/src/main.js`: run below with the same flags (the image's, docs/operations.md).
    const startScript = /node((?: --[\w-]+=\S+)*) dist\/apps\/api\/src\/main\.js$/.exec(start);
    expect(startScript).not.toBeNull();
    const nodeFlags = startScript![1]!.trim().split(' ').filter((f) => f !== '');
    expect(nodeFlags).toEqual(['--max-semi-space-size=32']);

    // A shell without configured keys, as on a fresh clone.
    const env: NodeJS.ProcessEnv = { ...process.env, LEDGER_DATA_DIR: data, PORT: '0', LOG_LEVEL: 'warn' };
    delete env.LEDGER_API_KEYS;
    delete env.LEDGER_API_KEYS_FILE;
    delete env.NODE_ENV;
    execFileSync('bash', ['-c', 'npm run --silent ledger -- simulate'], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

    child = spawn(process.execPath, [...nodeFlags, MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.resume();
    const origin = await new Promise<string>((ok, fail) => {
      let err = '';
      const timer = setTimeout(() => fail(new Error(`service did not start:\n${err}`)), 30_000);
      child!.stderr!.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        const m = /listening on http:\/\/([^\s]+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          ok(`127.0.0.1:${new URL(`http://${m[1]}`).port}`);
        }
      });
    });

    const client = block('client');
    expect(client[0]).toBe('KEY=$(cat demo/admin.key)');
    const separator = '<<<readme-demo>>>';
    const script = client
      .map((line) => line.replaceAll('demo/admin.key', join(data, 'admin.key')).replaceAll('localhost:3000', origin))
      .join(`\necho '${separator}'\n`);
    const out = execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    const answers = out.split(`${separator}\n`).slice(1);
    expect(answers).toHaveLength(client.length - 1);
    answers.forEach((text, i) => {
      const body = JSON.parse(text) as { items?: unknown[]; status?: number };
      expect({ command: client[i + 1], problem: typeof body.status === 'number' ? body : undefined }).toEqual({ command: client[i + 1], problem: undefined });
      expect({ command: client[i + 1], items: (body.items ?? []).length > 0 }).toEqual({ command: client[i + 1], items: true });
    });
  }, 180_000);

  it("promises only partner statuses the default simulation produces", () => {
    const summary = JSON.parse(
      execFileSync('bash', ['-c', 'npm run --silent ledger -- simulate --json'], {
        env: { ...process.env, LEDGER_DATA_DIR: join(dir, 'again'), LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 120_000,
      }),
    ) as { partnersByStatus: Record<string, number>; commands: Record<string, { issued: number }> };
    const promised = /20 partners of\s+every type \(([^)]*)\)/.exec(README)?.[1] ?? '';
    expect(promised).not.toBe('');
    for (const [word, happened] of [
      ['terminated', (summary.partnersByStatus.terminated ?? 0) > 0],
      ['suspended', (summary.commands.SuspendPartner?.issued ?? 0) > 0],
      ['reinstated', (summary.commands.ReinstatePartner?.issued ?? 0) > 0],
      ['pending', (summary.partnersByStatus.pending ?? 0) > 0],
    ] as const) {
      expect({ word, promised: promised.includes(word) && !promised.includes(`no ${word}`) }).toEqual({ word, promised: promised.includes(word) ? happened : false });
    }
  }, 180_000);
});
