import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The compiled child entry beside this file (the bench always runs from dist/). */
export const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

/** Extra node flags for the children, e.g. BENCH_CHILD_ARGS="--cpu-prof --cpu-prof-dir=prof" to profile them. */
const CHILD_ARGS = (process.env.BENCH_CHILD_ARGS ?? '').split(' ').filter(Boolean);

/**
 * The V8 flags the image runs the service with (Dockerfile `CMD`): the service child is measured as production runs
 * it, the no-op baseline of item 2 included (same process).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

function firstJsonLine(child: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let settled = false;
    lines.on('line', (line) => {
      if (settled || !line.startsWith('{')) return;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        // The service logs JSON lines too: the answer is the line with what the parent asked for.
        if (!('url' in parsed) && !('events' in parsed)) return;
        settled = true;
        resolve(parsed);
      } catch {
        // Not the answer.
      }
    });
    child.once('exit', (code, signal) => {
      if (!settled) reject(new Error(`bench child exited (${code ?? signal}) without an answer`));
    });
    child.once('error', reject);
  });
}

/** Runs a child to its end and returns its answer. */
export async function runChild(mode: 'rebuild' | 'raw-read', dataDir: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [...CHILD_ARGS, CHILD, mode, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [answer] = await Promise.all([
    firstJsonLine(child),
    new Promise<void>((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench child ${mode} exited with ${code}`))))),
  ]);
  return answer;
}

export interface ServiceChild {
  readonly spawnedAt: number;
  readonly url: Promise<string>;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts the service in a child process; `url` resolves once it listens. */
export function startServiceChild(dataDir: string, options: { noop?: boolean } = {}): ServiceChild {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...CHILD_ARGS, CHILD, 'serve', dataDir, ...(options.noop ? ['--noop'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = firstJsonLine(child).then((a) => String(a.url));
  // Keep draining stdout (request logs) so the child never blocks on a full pipe.
  child.stdout!.resume();
  return {
    spawnedAt,
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls `url` until it answers 200; resolves with the time it did (performance.now()). */
export async function waitFor200(url: string, timeoutMs: number, everyMs = 5): Promise<number> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      // Not listening yet.
    }
    if (performance.now() > end) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
