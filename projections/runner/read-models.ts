import type Database from 'better-sqlite3';
import type { ProjectionRunner } from './runner.js';

/** The read models did not reach a position within the consistency timeout (the API answers 503 not-caught-up). */
export class NotCaughtUpError extends Error {
  override readonly name = 'NotCaughtUpError';
  constructor(readonly wanted: bigint, readonly reached: bigint) {
    super(`the read models reached position ${reached}, not ${wanted}, within the consistency timeout`);
  }
}

/** How long a query without `minPosition` waits at most for this process's acknowledged writes (ReadModels.read). */
const FRESHNESS_WAIT_MS = 1000;

/**
 * Read access to the projections with read-your-writes: `minPosition` waits until the read models reach
 * it (positions are commit-ordered, so that is sound) or fails with `not-caught-up` after the timeout.
 */
export class ReadModels {
  constructor(
    private readonly runner: ProjectionRunner,
    readonly db: Database.Database,
    private readonly timeoutMs: number,
  ) {}

  async read<T>(minPosition: bigint | undefined, query: (db: Database.Database) => T): Promise<{ position: bigint; value: T }> {
    // Read models being rebuilt at start (out of step with the log) are not served before they reach its head.
    const rebuilding = this.runner.rebuildingTo;
    const wanted = rebuilding !== undefined && (minPosition === undefined || rebuilding > minPosition) ? rebuilding : minPosition;
    if (wanted !== undefined && wanted > this.runner.position()) {
      const ok = await this.runner.waitFor(wanted, this.timeoutMs);
      if (!ok) throw new NotCaughtUpError(wanted, this.runner.position());
    } else if (wanted === undefined) {
      // Without `minPosition`: the writes this process has acknowledged, if the runner is about to apply them
      // (a worker thread a message away). Bounded, and never a 503: such a query may answer older data.
      const fresh = this.runner.freshnessTarget();
      if (fresh !== undefined && fresh > this.runner.position()) await this.runner.waitFor(fresh, Math.min(this.timeoutMs, FRESHNESS_WAIT_MS));
    }
    // Read the position first: the value is then at least as new as the position announced.
    const position = this.runner.position();
    return { position, value: query(this.db) };
  }

  /**
   * For answers read from the log itself (always current): waits for `minPosition` as every query does, so a
   * position beyond the log is a 503 `not-caught-up` once the consistency timeout passes.
   */
  async reached(minPosition: bigint | undefined): Promise<void> {
    if (minPosition !== undefined) await this.read(minPosition, () => undefined);
  }

  position(): bigint {
    return this.runner.position();
  }
}
