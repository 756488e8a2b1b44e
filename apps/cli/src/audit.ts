import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { InvalidArgumentError, type Command } from 'commander';
import { checkpointText, signNote } from '#libs/event-store/checkpoint.js';
import { digestAt, verifyLog, type VerifyOptions, type VerifyResult } from '#libs/event-store/integrity.js';
import { ALGORITHM } from '#libs/event-store/merkle.js';
import { merkleOf } from '#libs/event-store/merkle-log.js';
import { verifySqliteFile } from '#libs/event-store/sqlite/verify-file.js';
import { loadCheckpointSigner } from '#libs/ledger/checkpoint-key.js';
import { eventsFile, openEventStore, readModelsFile } from '#libs/event-store/open.js';
import { loadConfig } from '#libs/ledger/config.js';
import { progress } from './progress.js';

/**
 * Exit codes of `verify` (docs/audit.md): 0 the log verified (and matched what was given to compare);
 * 1 it did not: damage, or a kept digest or tree head that does not match; 2 the command could not run
 * (bad arguments, configuration, an unreachable store).
 */
export const EXIT_MISMATCH = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode = EXIT_USAGE) {
    super(message);
  }
}

export function position(value: string): bigint {
  if (!/^\d{1,20}$/.test(value)) throw new InvalidArgumentError('a position is a non-negative decimal integer');
  return BigInt(value);
}

export function size(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('a size is a non-negative decimal number of events');
  return Number(value);
}

function hash(value: string): string {
  if (/^[0-9a-f]{64}$/.test(value)) return value;
  // A checkpoint carries its root in base64: take that form too.
  const b = Buffer.from(value, 'base64');
  if (b.length === 32 && b.toString('base64') === value) return b.toString('hex');
  throw new InvalidArgumentError('a hash is 64 lowercase hex digits (or the 44-character base64 of a checkpoint)');
}

const json = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);

/** The highest position any read model in `file` was built to (read-only), or undefined. */
function readModelsPosition(file: string): bigint | undefined {
  if (!existsSync(file)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'projection_checkpoints'").get();
    if (!has) return undefined;
    const p = db.prepare<[], bigint | null>('SELECT MAX(position) FROM projection_checkpoints').pluck().safeIntegers(true).get();
    return p ?? undefined;
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

export function registerAuditCommands(program: Command): void {
  program
    .command('verify')
    .description('recompute the hash chain and the Merkle tree, read-only; exit 0 when it holds, 1 naming the first bad position when not, 2 when it cannot run')
    .option('--position <p>', 'verify up to this position', position)
    .option('--digest <hex>', 'a v1 digest of stream heads kept outside the ledger, compared at --position')
    .option('--size <n>', 'the size of a tree head kept outside the ledger (a checkpoint)', size)
    .option('--root <hash>', 'its root hash (hex, or the base64 of a checkpoint): the root of the first --size events must equal it', hash)
    .action(async (opts: { position?: bigint; digest?: string; size?: number; root?: string }) => {
      if (opts.root !== undefined && opts.size === undefined) throw new CliError('verify: --root needs --size (the tree size the root is for)');
      const config = loadConfig();
      const bar = progress('verify');
      const options: VerifyOptions = { position: opts.position, digest: opts.digest, size: opts.size, rootHash: opts.root, onProgress: (n) => bar.update(n, opts.size ?? n) };
      let r: VerifyResult;
      if (config.store === 'sqlite') {
        // The file itself, read-only: verify must work on a copy taken as evidence, and never alter it.
        r = verifySqliteFile(eventsFile(config.dataDir), options);
        // Read models built further than the log reaches: the log lost events they saw.
        const seen = readModelsPosition(readModelsFile(config.dataDir));
        if (r.ok && opts.position === undefined && seen !== undefined && seen > r.position) {
          r = { ...r, ok: false, firstInvalidPosition: r.position + 1n, reason: `the read models were built from events up to position ${seen}, but the log ends at ${r.position}: events are missing` };
        }
      } else {
        const store = await openEventStore(config);
        try {
          r = await verifyLog(store, options);
        } finally {
          await store.close();
        }
      }
      bar.finish(`${r.checkedEvents} events checked`);
      process.stdout.write(`${json(r)}\n`);
      if (!r.ok) process.stderr.write(`verify: FAILED${r.firstInvalidPosition !== undefined ? ` at position ${r.firstInvalidPosition}` : ''}: ${r.reason}\n`);
      else if (r.digestMatches === false) process.stderr.write('verify: the log holds, but its digest differs from the one given\n');
      if (!r.ok || r.digestMatches === false || r.rootMatches === false) process.exitCode = EXIT_MISMATCH;
    });

  program
    .command('digest')
    .description('print the tree head (now, at --size events, or up to --position) with its signed checkpoint, to keep outside the ledger')
    .option('--size <n>', 'the tree head at this many events', size)
    .option('--position <p>', 'the tree head covering the events up to this position', position)
    .action(async (opts: { size?: number; position?: bigint }) => {
      if (opts.size !== undefined && opts.position !== undefined) throw new CliError('digest: give --size or --position, not both');
      const config = loadConfig();
      const signer = loadCheckpointSigner(config.dataDir, process.env, (line) => process.stderr.write(`${line}\n`));
      const store = await openEventStore(config);
      try {
        const tree = merkleOf(store);
        const current = (await tree.treeHead()).size;
        if (opts.size !== undefined && opts.size > current) throw new CliError(`digest: --size ${opts.size} is beyond the log (${current} events)`);
        const head = await tree.treeHead(opts.size ?? (opts.position !== undefined ? await tree.sizeAt(opts.position) : undefined));
        const checkpoint = signNote(checkpointText(signer.name, head.size, head.rootHash), signer);
        // The v1 digest of stream heads too: unlike the root it survives a move to EventStoreDB, which renumbers positions.
        const v1 = await digestAt(store, head.position);
        process.stdout.write(`${JSON.stringify({ position: head.position.toString(), size: head.size, rootHash: head.rootHash, algorithm: ALGORITHM, checkpoint, digest: v1.digest })}\n`);
      } finally {
        await store.close();
      }
    });

  program
    .command('prove')
    .description('print an RFC 9162 proof: inclusion of the event at --position in the tree of --size events, or consistency of the tree of --from events with the tree of --to events')
    .option('--position <p>', 'inclusion: the event', position)
    .option('--size <n>', 'inclusion: the tree size (the whole log by default)', size)
    .option('--from <n>', 'consistency: the older tree size (a kept checkpoint)', size)
    .option('--to <n>', 'consistency: the newer tree size (the whole log by default)', size)
    .action(async (opts: { position?: bigint; size?: number; from?: number; to?: number }) => {
      const inclusion = opts.position !== undefined;
      if (inclusion === (opts.from !== undefined)) throw new CliError('prove: give --position (inclusion) or --from (consistency)');
      const config = loadConfig();
      const store = await openEventStore(config);
      try {
        const tree = merkleOf(store);
        const current = (await tree.treeHead()).size;
        const upTo = inclusion ? (opts.size ?? current) : (opts.to ?? current);
        if (upTo > current) throw new CliError(`prove: size ${upTo} is beyond the log (${current} events)`);
        if (inclusion) {
          const p = await tree.inclusionProof(opts.position!, upTo).catch(() => {
            throw new CliError(`prove: there is no event at position ${opts.position} among the first ${upTo} events`, EXIT_MISMATCH);
          });
          process.stdout.write(`${json({ ...p, rootHash: (await tree.treeHead(upTo)).rootHash })}\n`);
        } else {
          if (opts.from! > upTo) throw new CliError(`prove: --from ${opts.from} is beyond --to ${upTo}`);
          const p = await tree.consistencyProof(opts.from!, upTo);
          process.stdout.write(`${json({ ...p, fromRootHash: (await tree.treeHead(opts.from)).rootHash, toRootHash: (await tree.treeHead(upTo)).rootHash })}\n`);
        }
      } finally {
        await store.close();
      }
    });
}
