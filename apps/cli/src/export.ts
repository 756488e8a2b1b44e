import { once } from 'node:events';
import { closeSync, createWriteStream, fsyncSync, linkSync, lstatSync, openSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, type Command } from 'commander';
import { toWire } from '#events/envelope.js';
import { exportHeader, exportTrailer, exportTreeHead } from '#libs/event-store/export-format.js';
import type { EventStore } from '#libs/event-store/port.js';
import { openEventStore } from '#libs/event-store/open.js';
import { loadConfig } from '#libs/ledger/config.js';
import { progress } from './progress.js';

export interface ExportSummary {
  readonly events: number;
  /** The head of the log when the export started: the export ends there. */
  readonly head: bigint;
  readonly lastPosition: bigint;
}

/**
 * Writes the log after `fromPosition` (exclusive) up to the head at the start as NDJSON, one wire envelope
 * a line. `readAll` pages the log and each line waits for the destination to drain when its buffer is
 * full, so memory holds one page and one buffer whatever the size of the log.
 */
export async function exportLog(
  store: EventStore,
  out: Writable,
  options: { fromPosition?: bigint; onProgress?: (position: bigint, head: bigint) => void } = {},
): Promise<ExportSummary> {
  const head = await store.headPosition();
  const from = options.fromPosition ?? 0n;
  let failure: Error | undefined;
  const onError = (error: Error): void => {
    failure = error;
  };
  out.on('error', onError);
  let events = 0;
  let lastPosition = from;
  try {
    out.write(`${JSON.stringify(exportHeader(from, head))}\n`);
    for await (const e of store.readAll({ fromPosition: from, toPosition: head })) {
      if (failure) throw failure;
      if (!out.write(`${JSON.stringify(toWire(e))}\n`)) await drained(out);
      events += 1;
      lastPosition = e.position;
      if (events % 1000 === 0) options.onProgress?.(e.position, head);
    }
    if (failure) throw failure;
    if (!out.write(`${JSON.stringify(exportTrailer(events, await exportTreeHead(store, head), head))}\n`)) await drained(out);
    if (failure) throw failure;
  } finally {
    out.off('error', onError);
  }
  options.onProgress?.(head, head);
  return { events, head, lastPosition };
}

/** Resolves when `out` can take more, or has closed (the next write then fails through its 'error'). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    out.on('error', done);
  });
}

/**
 * Refuses an `--out` that could destroy something: an existing path of any kind (a file, a device, a
 * dangling link), a directory that does not exist, and anything inside the data directory (the live log).
 */
export function checkOutPath(file: string, dataDir: string): string {
  const target = resolve(file);
  let exists = true;
  try {
    lstatSync(target);
  } catch {
    exists = false;
  }
  if (exists) throw new ExportError(`export: ${file} already exists: --out writes a new file only`);
  const parent = dirname(target);
  let realParent: string;
  try {
    realParent = realpathSync(parent);
  } catch {
    throw new ExportError(`export: the directory ${parent} does not exist`);
  }
  if (!statSync(realParent).isDirectory()) throw new ExportError(`export: ${parent} is not a directory`);
  let realData: string | undefined;
  try {
    realData = realpathSync(dataDir);
  } catch {
    realData = resolve(dataDir);
  }
  if (realParent === realData || realParent.startsWith(`${realData}${sep}`)) {
    throw new ExportError(`export: ${file} is inside the data directory ${dataDir}: write exports elsewhere`);
  }
  return join(realParent, basename(target));
}

export class ExportError extends Error {
  override readonly name = 'ExportError';
}

/**
 * `--out <file>`: written beside the target and given its name at the end with a hard link, which (unlike a
 * rename) fails rather than replace a file that appeared meanwhile; so a file by that name is a whole export.
 */
export async function exportToFile(store: EventStore, file: string, options: { fromPosition?: bigint; dataDir?: string; onProgress?: (position: bigint, head: bigint) => void } = {}): Promise<ExportSummary> {
  const target = options.dataDir === undefined ? resolve(file) : checkOutPath(file, options.dataDir);
  const partial = `${target}.partial-${process.pid}`;
  const out = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  try {
    await once(out, 'open');
    const summary = await exportLog(store, out, options);
    out.end();
    await once(out, 'finish');
    // On disk before it takes the name: a backup that a crash can truncate is not one.
    const fd = openSync(partial, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(partial, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ExportError(`export: ${file} appeared while exporting: not replaced`);
      throw error;
    }
    return summary;
  } catch (error) {
    out.destroy();
    throw error;
  } finally {
    rmSync(partial, { force: true });
  }
}

function position(value: string): bigint {
  if (!/^\d{1,20}$/.test(value)) throw new InvalidArgumentError('a position is a non-negative decimal integer');
  return BigInt(value);
}

/** `ledger export [--from-position <p>] [--out <file>]`: NDJSON on stdout (or into a file), progress on stderr. */
export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write the log as NDJSON, one event envelope a line (stdout by default); `ledger import` loads it into an empty store')
    .option('--from-position <p>', 'only the events after this position (exclusive)', position)
    .option('-o, --out <file>', 'write to this file (whole or not at all) instead of stdout')
    .action(async (opts: { fromPosition?: bigint; out?: string }) => {
      const config = loadConfig();
      // Refused before the store is opened: nothing is created for a command that cannot run.
      if (opts.out !== undefined) checkOutPath(opts.out, config.dataDir);
      const store = await openEventStore(config);
      try {
        const bar = progress('export');
        const options = { fromPosition: opts.fromPosition, onProgress: (at: bigint, head: bigint) => bar.update(at, head) };
        const r = opts.out === undefined ? await exportLog(store, process.stdout, options) : await exportToFile(store, opts.out, { ...options, dataDir: config.dataDir });
        bar.finish(`${r.events} events up to position ${r.head}${opts.out === undefined ? '' : ` written to ${opts.out}`}`);
      } finally {
        await store.close();
      }
    });
}
