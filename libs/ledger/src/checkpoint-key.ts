import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generateSigner, parseSignerKey, signerKey, type NoteSigner } from '#libs/event-store/checkpoint.js';

export const CHECKPOINT_KEY_FILE = 'checkpoint.key';

/**
 * The Ed25519 key that signs checkpoints: `LEDGER_CHECKPOINT_KEY` (a signer key, `PRIVATE+KEY+<name>+…`) when
 * set; otherwise `<dataDir>/checkpoint.key`, created owner-only on first use like `admin.key`, named
 * `LEDGER_CHECKPOINT_ORIGIN` or `channel-ledger/<random>`. The key name is the checkpoints' origin line. The
 * service and the CLI read the same file, so both sign with the one key an auditor trusts.
 */
export function loadCheckpointSigner(dataDir: string, env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = () => {}): NoteSigner {
  const configured = env.LEDGER_CHECKPOINT_KEY?.trim();
  if (configured) {
    try {
      return parseSignerKey(configured);
    } catch (error) {
      throw new Error(`LEDGER_CHECKPOINT_KEY: ${(error as Error).message}`, { cause: error });
    }
  }
  const file = path.join(dataDir, CHECKPOINT_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const origin = env.LEDGER_CHECKPOINT_ORIGIN?.trim() || `channel-ledger/${randomBytes(6).toString('hex')}`;
  const created = generateSigner(origin);
  try {
    // `wx`: two processes starting at once cannot both create a key.
    fs.writeFileSync(file, `${signerKey(created)}\n`, { flag: 'wx', mode: 0o600 });
    fs.chmodSync(file, 0o600);
    out(`Created the checkpoint signing key ${file} (owner-only), origin ${origin}`);
    return created;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  try {
    return parseSignerKey(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} does not hold a checkpoint signing key (${(error as Error).message}); restore it from a backup: auditors trust its public key`, { cause: error });
  }
}
