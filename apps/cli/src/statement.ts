import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseVerifierKey } from '#libs/event-store/checkpoint.js';
import { openEventStore } from '#libs/event-store/open.js';
import { CHECKPOINT_KEY_FILE, loadCheckpointSigner } from '#libs/ledger/checkpoint-key.js';
import { loadConfig } from '#libs/ledger/config.js';
import { verifyStatement } from '#libs/ledger/statements.js';
import { CliError, EXIT_MISMATCH } from './audit.js';

/** The public key to check signatures with: `--key` (a verifier key or a file holding one), else the data directory's checkpoint key. */
function publicKeyFor(option: string | undefined, dataDir: string): Buffer {
  if (option !== undefined) {
    const text = existsSync(option) ? readFileSync(option, 'utf8') : option;
    try {
      return parseVerifierKey(text).publicKey;
    } catch (error) {
      throw new CliError(`statement verify: --key: ${(error as Error).message}`);
    }
  }
  // Never create a key here: a new key would only make every signature fail.
  if (!process.env.LEDGER_CHECKPOINT_KEY?.trim() && !existsSync(path.join(dataDir, CHECKPOINT_KEY_FILE))) {
    throw new CliError(`statement verify: no checkpoint key in ${dataDir}: give the ledger's verifier key with --key (GET /v1/audit/public-key, verifierKey)`);
  }
  return loadCheckpointSigner(dataDir).publicKey;
}

/**
 * `ledger statement verify <file>` (docs/statements.md): a statement as `GET /v1/statements/{id}` returned it,
 * checked against the log in the data directory, read-only. Exit codes: 0 verified (content, digest and
 * signature); 1 not verified (the JSON on stdout says which and lists the differences); 2 could not run.
 */
export function registerStatementCommands(program: Command): void {
  const statement = program.command('statement').description('partner statements');
  statement
    .command('verify <file>')
    .description("check a statement (JSON as served) against the log: content recomputed at its position, its digest, its signature with the ledger's key; exit 0 verified, 1 not, 2 cannot run")
    .option('--key <key>', "the ledger's signed-note verifier key, or a file holding it (default: the data directory's checkpoint key)")
    .action(async (file: string, opts: { key?: string }) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new CliError(`statement verify: cannot read ${file} as JSON (${(error as Error).message})`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`statement verify: ${file} does not hold a statement (a JSON object)`);
      const config = loadConfig();
      const publicKey = publicKeyFor(opts.key, config.dataDir);
      const store = await openEventStore(config);
      try {
        const r = await verifyStatement(store, publicKey, parsed as Record<string, unknown>);
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        if (!r.ok) {
          const failed = [!r.contentMatches && 'content', !r.digestMatches && 'digest', !r.signatureValid && 'signature'].filter(Boolean).join(', ');
          process.stderr.write(`statement verify: NOT VERIFIED (${failed} do${failed.includes(',') ? '' : 'es'} not match)\n`);
          process.exitCode = EXIT_MISMATCH;
        } else process.stderr.write('statement verify: verified (content, digest and signature)\n');
      } finally {
        await store.close();
      }
    });
}
