import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchReport } from './report.js';

const main = resolve('dist/bench/main.js');

/** Every figure the issues ask for (items 1 to 7), whatever the run measured. */
const EXPECTED = [
  'appends.c1',
  'appends.c64',
  'appends.c64.vs-batched',
  'http.deal-registration.rate',
  'http.deal-registration.p99',
  'http.deal-registration.p50',
  'rebuild.rate',
  'rebuild.peak-rss',
  'query.attribution-by-quarter.p99',
  'query.tier-standing.p99',
  'query.open-conflicts.p99',
  'query.mdf-funds.p99',
  'startup.ready',
  'tree.appends.c64',
  'tree.verifier.consistency',
  'tree.proof.inclusion.p50',
  'tree.proof.inclusion.p99',
  'tree.proof.consistency.p50',
  'tree.proof.consistency.p99',
  'statements.issue.p50',
  'statements.issue.p99',
  'payouts.run',
  'attribution.converted.p50',
  'attribution.converted.p99',
];

describe('npm run bench (quick mode, end to end)', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(main)) throw new Error('run `npm run build` first: the bench runs compiled, with child processes');
    dir = mkdtempSync(join(tmpdir(), 'ledger-bench-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the table and writes a JSON report with every figure next to its baseline', async () => {
    const results = join(dir, 'results');
    const args = ['--expose-gc', main, '--quick', '--events', '4000', '--duration', '1', '--query-requests', '10', '--data-dir', join(dir, 'data'), '--results', results];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect({ code, stderr: code === 0 ? '' : stderr.slice(-3000) }).toEqual({ code: 0, stderr: '' });

    const files = readdirSync(results).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const report = JSON.parse(readFileSync(join(results, files[0]!), 'utf8')) as BenchReport;
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.options).toEqual(expect.objectContaining({ quick: true, events: 4000 }));

    const byId = new Map(report.figures.map((f) => [f.id, f]));
    expect(EXPECTED.filter((id) => !byId.has(id))).toEqual([]);
    for (const f of report.figures) {
      // `pending` is allowed (a capability not there yet); a harness failure is not.
      expect({ id: f.id, status: f.status, note: f.note }).toEqual({ id: f.id, status: expect.stringMatching(/^(measured|pending)$/), note: f.note });
      if (f.status !== 'measured') continue;
      expect(typeof f.value).toBe('number');
      expect(Number.isFinite(f.value)).toBe(true);
      expect(f.baseline).toEqual(expect.objectContaining({ name: expect.any(String), value: expect.any(Number) }));
      if (f.target) expect(typeof f.met).toBe('boolean');
    }
    // The table names each figure, and the progress of the long phases went to stderr.
    for (const f of report.figures) expect(stdout).toContain(f.name);
    expect(stdout).toContain('| figure');
    expect(stderr).toMatch(/rebuild: .*events/);
    expect(stderr).toMatch(/dataset: writing 4000 events/);
  }, 600_000);
});
