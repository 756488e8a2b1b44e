import type Database from 'better-sqlite3';
import type { Actor, Role } from '#events/envelope.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { Forbidden, InvalidInput } from '#libs/kernel/errors.js';
import type { Projection } from '../runner/projection.js';

/**
 * A read model that `GET /v1/audit/replay?projection=<name>&asOf=...` can rebuild as of a record time:
 * the projection(s) to run on an in-memory database, and the same query function its live endpoint
 * uses. Register it in `REPLAYABLE_READ_MODELS` (`read-models.ts`); docs/development.md shows how.
 */
export interface ReplayableReadModel<P = unknown> {
  /** What clients pass as `?projection=` (API.md names them: `attribution`, `tier-standings`, ...). */
  readonly name: string;
  /** The projections whose tables the query reads; they run together over the log prefix on one `:memory:` database. */
  readonly projections: readonly Projection[];
  /**
   * The query parameters this read model takes besides `projection` and `asOf`; any other is a 400. A path
   * parameter of the live endpoint becomes a query parameter (`partnerId`). `asOf` is the replay's record
   * time, so a query whose live endpoint has its own business-time `asOf` (tier standings) takes it under
   * another name here (e.g. `standingAsOf`).
   */
  readonly params: readonly string[];
  /**
   * Roles that may replay it. `/v1/audit/*` admits only `admin` and `auditor` (API.md), so this can only
   * narrow that; `admin` always passes. Default: `['auditor']`.
   */
  readonly roles?: readonly Exclude<Role, 'admin'>[];
  /** Turns the (already allow-listed) raw parameters into the query's own; throws `InvalidInput` (400). */
  parse(raw: Readonly<Record<string, string>>): P;
  /**
   * The live endpoint's query function, called with `now` = `asOf`: the live query answered with the
   * clock of its own moment, so the replay does too. Throws `NotFound` where the live endpoint answers 404.
   */
  query(db: Database.Database, params: P, now: Date): unknown;
}

/** Declares a replayable read model with its parameter type inferred from `parse`. */
export function replayable<P>(entry: ReplayableReadModel<P>): ReplayableReadModel<P> {
  return entry;
}

export function replayRoles(entry: ReplayableReadModel): readonly Role[] {
  return ['admin', ...(entry.roles ?? ['auditor'])];
}

export function assertMayReplay(entry: ReplayableReadModel, actor: Actor): void {
  if (!replayRoles(entry).includes(actor.role)) throw new Forbidden(`The ${actor.role} role may not replay ${entry.name}.`);
}

// --- parameter helpers for `parse`: each refusal names the parameter, as the live DTOs do ---

function invalid(path: string, message: string): InvalidInput {
  return new InvalidInput(`${path} ${message}`, {}, [{ path, message: `${path} ${message}` }]);
}

export const param = {
  text(raw: Readonly<Record<string, string>>, name: string, options: { max?: number; oneOf?: readonly string[] } = {}): string | undefined {
    const v = raw[name];
    if (v === undefined) return undefined;
    if (v.length === 0 || v.length > (options.max ?? 500)) throw invalid(name, `must be 1 to ${options.max ?? 500} characters`);
    if (options.oneOf && !options.oneOf.includes(v)) throw invalid(name, `must be one of ${options.oneOf.join(', ')}`);
    return v;
  },
  id(raw: Readonly<Record<string, string>>, name: string): string | undefined {
    const v = raw[name];
    if (v === undefined) return undefined;
    if (!ID_PATTERN.test(v)) throw invalid(name, `must match ${ID_PATTERN.source}`);
    return v;
  },
  /** An ISO 8601 date (00:00 UTC) or UTC date-time, as the live endpoints accept it; canonical `toISOString()` form. */
  time(raw: Readonly<Record<string, string>>, name: string): string | undefined {
    const v = raw[name];
    if (v === undefined) return undefined;
    const t = parseTime(v);
    if (t === undefined) throw invalid(name, 'must be an ISO 8601 date (2026-03-31) or UTC date-time (2026-03-31T12:00:00Z)');
    return t.toISOString();
  },
  int(raw: Readonly<Record<string, string>>, name: string, options: { min: number; max: number }): number | undefined {
    const v = raw[name];
    if (v === undefined) return undefined;
    if (!/^\d{1,15}$/.test(v) || Number(v) < options.min || Number(v) > options.max) {
      throw invalid(name, `must be an integer from ${options.min} to ${options.max}`);
    }
    return Number(v);
  },
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z$/;

/** API.md's time syntax (the app's `parseLedgerTime`; projections may not import the app layer). */
export function parseTime(value: string): Date | undefined {
  if (value.length > 40 || (!DATE.test(value) && !DATE_TIME.test(value))) return undefined;
  const t = Date.parse(DATE.test(value) ? `${value}T00:00:00.000Z` : value);
  if (Number.isNaN(t)) return undefined;
  const d = new Date(t);
  // Date.parse rolls 2026-02-30 over to March: refuse dates that do not exist.
  if (d.toISOString().slice(0, 10) !== value.slice(0, 10) || d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999) return undefined;
  return d;
}
