import type { TierProgram } from '#libs/program/program.js';
import type { TierInputs } from '#libs/tiers/qualification.js';

/**
 * What a command that fans out over many streams needs from the read models (libs never import projections:
 * the apps provide this, from `projections/`). Each answer is read once the read models have reached the
 * log's head, and names that position.
 */
export const LEDGER_READS = Symbol('LEDGER_READS');

export interface LedgerReads {
  /**
   * Customer accounts with something an expiry run at `asOf` ends: an approved registration whose protection ends
   * before it, a submitted or conflicted one registered more than `reviewDays` before it, an active one of a
   * terminated partner.
   */
  customersWithDueRegistrations(asOf: string, reviewDays: number): Promise<{ position: bigint; value: readonly string[] }>;
  /** The tier inputs of every partner an evaluation covers (every partner not terminated), as of `asOf`. */
  tierInputs(asOf: Date, program: TierProgram): Promise<{ position: bigint; value: ReadonlyMap<string, TierInputs> }>;
}
