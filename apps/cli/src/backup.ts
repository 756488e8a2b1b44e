import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { verifySqliteFile } from '#libs/event-store/sqlite/verify-file.js';
import { eventsFile, readModelsFile } from '#libs/event-store/open.js';
import { loadConfig } from '#libs/ledger/config.js';
import { progress } from './progress.js';

export const BACKUP_FORMAT = 'channel-ledger-backup/1';
export const MANIFEST_FILE = 'backup.json';

export interface BackupManifest {
  readonly format: typeof BACKUP_FORMAT;
  readonly createdAt: string;
  readonly source: string;
  readonly events: {
    readonly file: string;
    readonly bytes: number;
    readonly count: number;
    /** The last position in the copy: `ledger verify --position <head> --digest <digest>` after a restore. */
    readonly head: string;
    /** Digest of all stream heads at `head`; absent with --no-verify. */
    readonly digest?: string;
    readonly verified: boolean;
  };
  /** Absent when the data directory had no read models yet (they are rebuilt from the log on start). */
  readonly readModels?: {
    readonly file: string;
    readonly bytes: number;
    readonly checkpoints: readonly { readonly name: string; readonly version: number; readonly position: string }[];
  };
}

export interface BackupOptions {
  readonly dataDir: string;
  /** A directory to create; refused if it exists. */
  readonly target: string;
  /** Recompute the copy's hash chain (default true). */
  readonly verify?: boolean;
  /** Progress and phase lines (stderr by default). */
  readonly stream?: OutputStream;
}

/** What progress output needs of a stream (stderr, or a test's capture). */
export type OutputStream = Pick<NodeJS.WriteStream, 'write'> & { readonly isTTY?: boolean };

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/**
 * An online backup of the embedded store: the read models first, then the event log, each copied with SQLite's
 * backup API from one read snapshot. WAL readers do not block the writer, so the service keeps answering.
 *
 * The order matters: the read models' checkpoints in the copy are then at or before the copied log's head, so
 * after a restore they catch up on events the copy holds rather than claiming events it does not.
 *
 * The copy is built in `<target>.partial-<pid>` and renamed into place only once complete and verified, so a
 * directory named like a backup is always a whole one.
 */
export async function backupDataDir(options: BackupOptions): Promise<BackupManifest> {
  const stream = options.stream ?? process.stderr;
  const say = (line: string) => stream.write(`${line}\n`);
  const sourceEvents = eventsFile(options.dataDir);
  const sourceReadModels = readModelsFile(options.dataDir);
  const target = resolve(options.target);
  if (!existsSync(sourceEvents)) throw new BackupError(`no event log at ${sourceEvents}: is LEDGER_DATA_DIR right?`);
  if (existsSync(target)) throw new BackupError(`${target} already exists: a backup never overwrites anything, name a new directory`);
  if (!existsSync(dirname(target))) throw new BackupError(`${dirname(target)} does not exist`);

  const partial = join(dirname(target), `${basename(target)}.partial-${process.pid}`);
  // Backups hold every event and read model: owner-only, like the data directory's admin key.
  mkdirSync(partial, { mode: 0o700 });
  try {
    let readModels: BackupManifest['readModels'];
    if (existsSync(sourceReadModels)) {
      const file = join(partial, 'read-models.sqlite');
      await copyDatabase(sourceReadModels, file, 'backup read models', stream);
      readModels = { file: 'read-models.sqlite', bytes: 0, checkpoints: checkpointsOf(file) };
    } else {
      say(`backup: no read models at ${sourceReadModels} (they will be rebuilt from the log on start)`);
    }

    const eventsCopy = join(partial, 'events.sqlite');
    await copyDatabase(sourceEvents, eventsCopy, 'backup events', stream);
    const { head, count } = logOf(eventsCopy);

    let digest: string | undefined;
    if (options.verify !== false) {
      // Read-only, from the file: the same check as `ledger verify` (chain, stored JSON, Merkle tree).
      const bar = progress('verify backup', stream as NodeJS.WriteStream);
      const r = verifySqliteFile(eventsCopy, { onProgress: (_n, at) => bar.update(at, head) });
      bar.finish(`${r.checkedEvents} events, hash chain ${r.ok ? 'intact' : 'BROKEN'}`);
      if (!r.ok) throw new BackupError(`the copy does not verify at position ${r.firstInvalidPosition} (${r.reason}): the live log needs \`ledger verify\``);
      digest = r.digest;
    }

    // Single files without -wal/-shm companions: a restore is a plain copy.
    const finalize = (file: string) => {
      const db = new Database(file, { fileMustExist: true });
      try {
        db.pragma('journal_mode = DELETE');
        const check = db.pragma('quick_check', { simple: true });
        if (check !== 'ok') throw new BackupError(`${file} fails SQLite's quick_check: ${String(check)}`);
      } finally {
        db.close();
      }
      fsyncFile(file);
      return statSync(file).size;
    };
    if (readModels) readModels = { ...readModels, bytes: finalize(join(partial, readModels.file)) };
    const eventsBytes = finalize(eventsCopy);

    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      source: resolve(options.dataDir),
      events: { file: 'events.sqlite', bytes: eventsBytes, count, head: head.toString(), ...(digest !== undefined ? { digest } : {}), verified: digest !== undefined },
      ...(readModels ? { readModels } : {}),
    };
    const manifestFile = join(partial, MANIFEST_FILE);
    writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    fsyncFile(manifestFile);
    renameSync(partial, target);
    fsyncFile(dirname(target));
    return manifest;
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

/** Most pages copied per step: a step is one read snapshot, and the copy restarts if another connection writes between steps. */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies one SQLite database with the backup API. It starts in steps of about 2 % of the pages, for progress
 * output. A write by another connection (the running service) between two steps makes SQLite restart the
 * copy; on the first restart the rest is copied in a single step, inside one read snapshot, which under a
 * steady write load is the only way to finish. Either way the copy is one consistent snapshot.
 */
async function copyDatabase(source: string, destination: string, label: string, stream: OutputStream): Promise<void> {
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    const bar = progress(label, stream as NodeJS.WriteStream);
    let lastRemaining = Number.POSITIVE_INFINITY;
    let onePass = false;
    let total = 0;
    await db.backup(destination, {
      progress: ({ totalPages, remainingPages }) => {
        total = totalPages;
        if (!onePass && remainingPages > lastRemaining) {
          onePass = true;
          stream.write(`${label}: the service wrote during the copy; copying the whole database in one read snapshot\n`);
        }
        lastRemaining = remainingPages;
        bar.update(totalPages - remainingPages, totalPages);
        return onePass ? ALL_PAGES : Math.max(64, Math.ceil(totalPages / 50));
      },
    });
    bar.finish(`${total} pages (${formatBytes(statSync(destination).size)}) copied to ${destination}`);
  } finally {
    db.close();
  }
}

function logOf(file: string): { head: bigint; count: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare<[], { head: bigint | null; n: bigint }>('SELECT MAX(position) AS head, COUNT(*) AS n FROM events').safeIntegers(true).get();
    return { head: row?.head ?? 0n, count: Number(row?.n ?? 0n) };
  } finally {
    db.close();
  }
}

function checkpointsOf(file: string): { name: string; version: number; position: string }[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'projection_checkpoints'").get();
    if (!hasTable) return [];
    return db
      .prepare<[], { name: string; version: number; position: bigint }>('SELECT name, version, position FROM projection_checkpoints ORDER BY name')
      .safeIntegers(true)
      .all()
      .map((r) => ({ name: r.name, version: Number(r.version), position: r.position.toString() }));
  } finally {
    db.close();
  }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('online, consistent backup of the embedded store (event log and read models) into a new directory, while the service runs')
    .argument('<dir>', 'the backup directory to create (it must not exist); it holds events.sqlite, read-models.sqlite and backup.json')
    .option('--no-verify', 'do not recompute the hash chain of the copy (faster on very large logs)')
    .action(async (dir: string, opts: { verify: boolean }) => {
      const config = loadConfig();
      if (config.store !== 'sqlite') {
        program.error('ledger backup copies the embedded SQLite store; with LEDGER_STORE=esdb back up EventStoreDB with its own tools (docs/operations.md)');
      }
      try {
        const manifest = await backupDataDir({ dataDir: config.dataDir, target: dir, verify: opts.verify });
        process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
      } catch (error) {
        if (error instanceof BackupError) program.error(`backup failed: ${error.message}`);
        throw error;
      }
    });
}
