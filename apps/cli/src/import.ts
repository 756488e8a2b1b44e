import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { fromWire, type RecordedEvent, type WireEvent } from '#events/envelope.js';
import { EXPORT_VERSION, isExportHeader, isExportTrailer, type ExportHeader, type ExportTrailer } from '#libs/event-store/export-format.js';
import type { EventStore } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { openEventStore, readModelsFile } from '#libs/event-store/open.js';
import { loadConfig } from '#libs/ledger/config.js';
import { progress } from './progress.js';

export class ImportError extends Error {
  override readonly name = 'ImportError';
}

export interface ImportSummary {
  readonly events: number;
  /** The last position of the file (the source log's numbering). */
  readonly lastSourcePosition: bigint;
  /** The target's head after the import (the same on SQLite; EventStoreDB assigns its own positions). */
  readonly head: bigint;
}

const DECIMAL = /^\d{1,20}$/;
const HASH = /^[0-9a-f]{64}$/;

/** One NDJSON line as a recorded event, or a refusal naming the line and what is wrong with it. */
export function parseExportLine(text: string, line: number): RecordedEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ImportError(`line ${line}: not JSON (a truncated export?)`);
  }
  const e = value as Partial<WireEvent> | null;
  const problems: string[] = [];
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new ImportError(`line ${line}: not an event envelope`);
  for (const f of ['eventId', 'type', 'streamId'] as const) if (typeof e[f] !== 'string' || e[f] === '') problems.push(`${f} must be a non-empty string`);
  for (const f of ['revision', 'position'] as const) if (typeof e[f] !== 'string' || !DECIMAL.test(e[f])) problems.push(`${f} must be a decimal string`);
  for (const f of ['prevHash', 'hash'] as const) if (typeof e[f] !== 'string' || !HASH.test(e[f])) problems.push(`${f} must be a SHA-256 hex digest`);
  if (!('data' in e)) problems.push('data is missing');
  const m = e.metadata as unknown as Record<string, unknown> | undefined;
  if (typeof m !== 'object' || m === null || typeof m.recordedAt !== 'string' || typeof m.commandId !== 'string') problems.push('metadata must carry recordedAt and commandId');
  if (problems.length) throw new ImportError(`line ${line}: ${problems.join('; ')}`);
  return fromWire(e as WireEvent);
}

/**
 * Refuses to import over anything: the store must be empty, and on SQLite the data directory must not
 * hold read models built from another log (they would not be rebuilt and would answer for the old one).
 */
export async function assertEmptyTarget(store: EventStore, readModelsFile?: string, resume = false): Promise<void> {
  const head = await store.headPosition();
  if (head !== 0n && !resume) throw new ImportError(`the target ${store.kind} store is not empty (its log reaches position ${head}): import only into an empty store`);
  if (readModelsFile !== undefined && existsSync(readModelsFile)) {
    const db = new Database(readModelsFile, { readonly: true, fileMustExist: true });
    try {
      const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'projection_checkpoints'").get();
      const row = table === undefined ? undefined : db.prepare<[], { p: number | null }>('SELECT MAX(position) AS p FROM projection_checkpoints').get();
      if (row?.p) throw new ImportError(`${readModelsFile} holds read models of another log (at position ${row.p}): remove it, or import into a fresh data directory`);
    } finally {
      db.close();
    }
  }
}

/**
 * Loads an export (`ledger export`, `GET /v1/audit/export`) into an empty store with `importRecorded`,
 * which keeps event ids, record times and hashes and refuses an event that does not continue its stream's
 * hash chain: afterwards `ledger verify` passes and the tree head equals the source's. Reads the file a line
 * at a time. All or nothing: the file must end with the trailer its header promises (an export cut at a line
 * boundary has none) and, on SQLite, the whole import is one transaction whose tree head must equal the
 * trailer's before it commits; anything wrong rolls it back and leaves the target as it was.
 */
export async function importLog(
  store: EventStore,
  input: Readable,
  options: {
    readModelsFile?: string;
    onProgress?: (events: number, bytes: number) => void;
    /**
     * Run again over a target an earlier run of the same import stopped in (a timeout that may have hidden a
     * write, a crash): events already there with the same content are taken as imported, so it goes on where
     * it stopped. Anything else in the target still fails its line.
     */
    resume?: boolean;
  } = {},
): Promise<ImportSummary> {
  await assertEmptyTarget(store, options.readModelsFile, options.resume);
  if (!(store instanceof SqliteEventStore)) return load(store, input, options.onProgress);
  const db = store.database;
  // One transaction: a single commit at the end (no fsync per event), and a rollback undoes everything.
  db.exec('BEGIN IMMEDIATE');
  try {
    const r = await load(store, input, options.onProgress);
    db.exec('COMMIT');
    db.pragma('wal_checkpoint(FULL)');
    return r;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

async function load(store: EventStore, input: Readable, onProgress?: (events: number, bytes: number) => void): Promise<ImportSummary> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let events = 0;
  let bytes = 0;
  let line = 0;
  let last = 0n;
  let header: ExportHeader | undefined;
  let trailer: ExportTrailer | undefined;
  for await (const text of lines) {
    line += 1;
    bytes += Buffer.byteLength(text) + 1;
    if (text.trim() === '') continue;
    if (trailer) throw new ImportError(`line ${line}: content after the trailer line`);
    if (!header) {
      const h = parseJson(text, line);
      if (!isExportHeader(h)) throw new ImportError(`line ${line}: no export header: not an export of this ledger (exports from before v2 have none: export again)`);
      if (h.version !== EXPORT_VERSION) throw new ImportError(`line ${line}: export format version ${h.version}, this ledger reads ${EXPORT_VERSION}`);
      header = h;
      continue;
    }
    if (text.includes('"rootHash"') && !text.includes('"eventId"')) {
      const t = parseJson(text, line);
      if (isExportTrailer(t)) {
        trailer = t;
        continue;
      }
    }
    const e = parseExportLine(text, line);
    if (e.position <= last) throw new ImportError(`line ${line}: position ${e.position} does not follow ${last}: an export is in log order`);
    try {
      await store.importRecorded(e);
    } catch (error) {
      throw new ImportError(`line ${line} (position ${e.position}, ${e.streamId}@${e.revision}): ${error instanceof Error ? error.message : String(error)}`);
    }
    last = e.position;
    events += 1;
    if (events % 1000 === 0) onProgress?.(events, bytes);
  }
  if (!header) throw new ImportError('the file is empty: not an export');
  if (!trailer) throw new ImportError(`the export has no trailer line after its ${events} events: it was cut short; nothing imported`);
  if (trailer.count !== events) throw new ImportError(`the trailer promises ${trailer.count} events, the file has ${events}; nothing imported`);
  // Positions are kept on SQLite, so the tree is the source's; EventStoreDB numbers events its own way.
  if (store instanceof SqliteEventStore && header.fromPosition === '0') {
    const mine = await store.merkle.treeHead();
    if (mine.size !== trailer.size || mine.rootHash !== trailer.rootHash) {
      throw new ImportError(`the imported log's tree head (${mine.size} events, root ${mine.rootHash.slice(0, 12)}…) is not the trailer's (${trailer.size}, ${trailer.rootHash.slice(0, 12)}…); nothing imported`);
    }
  }
  onProgress?.(events, bytes);
  return { events, lastSourcePosition: last, head: await store.headPosition() };
}

function parseJson(text: string, line: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ImportError(`line ${line}: not JSON (a truncated export?)`);
  }
}

/**
 * `ledger import <file>` (or `-` for stdin) into the configured store (`LEDGER_STORE`, `LEDGER_DATA_DIR`,
 * `EVENTSTORE_CONNECTION_STRING`): the migration path from the embedded store to EventStoreDB (README).
 */
export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('load an export into an EMPTY store (sqlite or esdb, as configured), keeping event ids, record times and hashes')
    .argument('<file>', 'an NDJSON export (`ledger export`, GET /v1/audit/export), or - for stdin')
    .option('--resume', 'the target holds part of this same import (an earlier run stopped): go on where it stopped')
    .action(async (file: string, opts: { resume?: boolean }) => {
      const config = loadConfig();
      if (file !== '-' && !existsSync(file)) program.error(`import: no file ${file}`);
      const store = await openEventStore(config);
      try {
        const size = file === '-' ? 0 : statSync(file).size;
        const bar = progress('import');
        const input = file === '-' ? process.stdin : createReadStream(file);
        const r = await importLog(store, input, {
          readModelsFile: readModelsFile(config.dataDir),
          resume: opts.resume === true,
          onProgress: (events, bytes) => bar.update(size ? bytes : events, size || events),
        });
        bar.finish(`${r.events} events imported into the ${store.kind} store (source positions up to ${r.lastSourcePosition}, head now ${r.head}); check it with \`ledger verify\``);
      } catch (error) {
        if (error instanceof ImportError) {
          process.stderr.write(`import: ${error.message}${opts.resume ? '' : '\n(an import that stopped part-way can be run again with --resume)'}\n`);
          process.exitCode = 1;
          return;
        }
        throw error;
      } finally {
        await store.close();
      }
    });
}
