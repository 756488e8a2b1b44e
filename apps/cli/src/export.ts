import { once } from 'node:events';
import { closeSync, createWriteStream, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, type Command } from 'commander';
import { toWire } from '#events/envelope.js';
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
  let failure: Error | undefined;
  const onError = (error: Error): void => {
    failure = error;
  };
  out.on('error', onError);
  let events = 0;
  let lastPosition = options.fromPosition ?? 0n;
  try {
    for await (const e of store.readAll({ fromPosition: options.fromPosition ?? 0n, toPosition: head })) {
      if (failure) throw failure;
      if (!out.write(`${JSON.stringify(toWire(e))}\n`)) await drained(out);
      events += 1;
      lastPosition = e.position;
      if (events % 1000 === 0) options.onProgress?.(e.position, head);
    }
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

/** `--out <file>`: written beside the target and renamed at the end, so a file by that name is always a whole export. */
export async function exportToFile(store: EventStore, file: string, options: { fromPosition?: bigint; onProgress?: (position: bigint, head: bigint) => void } = {}): Promise<ExportSummary> {
  const partial = `${file}.partial`;
  const out = createWriteStream(partial, { flags: 'w', mode: 0o600 });
  try {
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
    renameSync(partial, file);
    return summary;
  } catch (error) {
    out.destroy();
    rmSync(partial, { force: true });
    throw error;
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
      const store = await openEventStore(config);
      try {
        const bar = progress('export');
        const options = { fromPosition: opts.fromPosition, onProgress: (at: bigint, head: bigint) => bar.update(at, head) };
        const r = opts.out === undefined ? await exportLog(store, process.stdout, options) : await exportToFile(store, opts.out, options);
        bar.finish(`${r.events} events up to position ${r.head}${opts.out === undefined ? '' : ` written to ${opts.out}`}`);
      } finally {
        await store.close();
      }
    });
}
