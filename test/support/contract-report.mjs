// Jest global setup and teardown for the response-validation contract (test/support/contract.ts): setup clears
// the fragments of the previous run, teardown merges this run's into reports/contract/violations.{json,md}.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(process.cwd(), 'reports', 'contract');
const FRAGMENTS = join(DIR, 'fragments');

export function clearFragments() {
  rmSync(FRAGMENTS, { recursive: true, force: true });
}

/** Merges the fragments: `{ checked, violations, byRoute: { 'METHOD /path status': { kind: { count, messages, tests } } } }`. */
export function mergeFragments() {
  if (!existsSync(FRAGMENTS)) return undefined;
  let checked = 0;
  let violations = 0;
  const byRoute = {};
  for (const file of readdirSync(FRAGMENTS).sort()) {
    const fragment = JSON.parse(readFileSync(join(FRAGMENTS, file), 'utf8'));
    checked += fragment.checked;
    const test = fragment.testPath ? fragment.testPath.replace(`${process.cwd()}/`, '') : 'unknown';
    for (const v of fragment.violations) {
      violations += 1;
      const kinds = (byRoute[v.key] ??= {});
      const entry = (kinds[v.kind] ??= { count: 0, messages: [], tests: [] });
      entry.count += 1;
      if (entry.messages.length < 5 && !entry.messages.includes(v.message)) entry.messages.push(v.message);
      if (!entry.tests.includes(test)) entry.tests.push(test);
    }
  }
  return { checked, violations, routes: Object.keys(byRoute).length, byRoute };
}

function markdown(report) {
  const lines = [
    '# Responses that do not match the OpenAPI document',
    '',
    `${report.checked} answers checked, ${report.violations} violations on ${report.routes} route+status pairs.`,
    '',
  ];
  for (const key of Object.keys(report.byRoute).sort()) {
    lines.push(`## ${key}`);
    for (const [kind, e] of Object.entries(report.byRoute[key])) {
      lines.push(`- ${kind} ×${e.count} (${e.tests.join(', ')})`);
      for (const m of e.messages) lines.push(`  - ${m}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function writeReport() {
  const report = mergeFragments();
  if (report === undefined) return undefined;
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, 'violations.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(DIR, 'violations.md'), markdown(report));
  return report;
}

export default function contractTeardown() {
  const report = writeReport();
  if (report === undefined) return;
  process.stderr.write(
    `\ncontract: ${report.checked} answers checked against /docs-json, ${report.violations} violations on ${report.routes} route+status pairs` +
      ` (reports/contract/violations.md${report.violations === 0 ? '' : process.env.CONTRACT_STRICT === '0' || process.env.CONTRACT_STRICT === 'false' ? '; CONTRACT_STRICT=0: reported only' : '; the test files that saw them failed'})\n`,
  );
}
