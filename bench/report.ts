import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Items of the performance issue, in its numbering. */
export type Item = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** What "met" means for a figure: its ratio to the baseline at least, and/or its value below a bound. */
export interface Target {
  readonly ratioAtLeast?: number;
  readonly valueBelow?: number;
  /** As printed in the table, e.g. "≥ 10× baseline". */
  readonly text: string;
}

export interface Measured {
  readonly name: string;
  readonly value: number | null;
  readonly unit: string;
}

/**
 * One row of the table and of the JSON. `status` is `pending` for an item whose capability the service does
 * not have yet (the row still appears, with the reason in `note`), `failed` when its measurement threw.
 */
export interface Figure {
  readonly id: string;
  readonly item: Item;
  readonly name: string;
  readonly value: number | null;
  readonly unit: string;
  readonly baseline?: Measured;
  readonly ratio: number | null;
  readonly target?: Target;
  readonly met: boolean | null;
  readonly status: 'measured' | 'pending' | 'failed';
  readonly note?: string;
  readonly details?: Record<string, unknown>;
}

export function figure(f: {
  id: string;
  item: Item;
  name: string;
  value: number;
  unit: string;
  baseline?: Measured;
  target?: Target;
  note?: string;
  details?: Record<string, unknown>;
}): Figure {
  const ratio = f.baseline?.value ? f.value / f.baseline.value : null;
  let met: boolean | null = null;
  if (f.target) {
    met = true;
    if (f.target.ratioAtLeast !== undefined) met = ratio !== null && ratio >= f.target.ratioAtLeast;
    if (f.target.valueBelow !== undefined) met = met && f.value < f.target.valueBelow;
  }
  return { ...f, ratio, met, status: 'measured' };
}

/** A row that could not be measured: kept in the table and the JSON, with the reason. */
export function unmeasured(f: { id: string; item: Item; name: string; unit: string; target?: Target; baseline?: Measured }, status: 'pending' | 'failed', note: string): Figure {
  return { ...f, value: null, ratio: null, met: null, status, note };
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryMiB: number;
  readonly freeMemoryMiB: number;
  readonly node: string;
  readonly platform: string;
  readonly sqlite: string;
  /** 1, 5 and 15 minute load averages when the report was written: above the CPU count, other work shared the machine. */
  readonly loadAverage: readonly number[];
}

export function machine(): MachineInfo {
  const db = new Database(':memory:');
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  db.close();
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    freeMemoryMiB: Math.round(freemem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    sqlite,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly seconds: number;
  readonly machine: MachineInfo;
  readonly options: Record<string, unknown>;
  readonly figures: readonly Figure[];
}

function fmt(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined) return '—';
  const abs = Math.abs(v);
  const n = abs >= 1000 ? Math.round(v).toLocaleString('en-US') : abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : v.toFixed(2);
  return unit ? `${n} ${unit}` : n;
}

/** The table: figure | value | baseline | ratio | target | met? */
export function table(figures: readonly Figure[]): string {
  const rows = [['#', 'figure', 'value', 'baseline', 'ratio', 'target', 'met?']];
  for (const f of figures) {
    rows.push([
      String(f.item),
      f.name,
      f.status === 'measured' ? fmt(f.value, f.unit) : f.status,
      f.baseline ? `${fmt(f.baseline.value, f.baseline.unit)} (${f.baseline.name})` : '',
      f.ratio === null ? '' : `${f.ratio.toFixed(2)}×`,
      f.target?.text ?? '',
      f.met === null ? (f.status === 'measured' ? '' : '—') : f.met ? 'yes' : 'NO',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const sep = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const notes = figures.filter((f) => f.note).map((f) => `  [${f.id}] ${f.note}`);
  return [line(rows[0]!), sep, ...rows.slice(1).map(line), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

/** Writes `<dir>/<timestamp>.json` and returns its path. */
export function writeReport(dir: string, report: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/** Peak resident set size, sampled (the process-lifetime maximum is `process.resourceUsage().maxRSS`). */
export function rssSampler(everyMs = 50): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
