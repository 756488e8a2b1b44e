import { merkleOf } from './merkle-log.js';
import type { EventStore } from './port.js';

/**
 * The NDJSON export (`ledger export`, `GET /v1/audit/export`): a header line, one wire envelope a line in log
 * order, and a trailer line. The trailer lets `ledger import` (and the standalone verifier) tell a whole
 * export from one cut at a line boundary, and check what was loaded against the source's tree head.
 */
export const EXPORT_FORMAT = 'channel-ledger-export';
export const EXPORT_VERSION = 2;

export interface ExportHeader {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: number;
  /** Exclusive: the export holds the events after this position ("0": the whole log). */
  readonly fromPosition: string;
  /** The head of the log when the export started: it ends there. */
  readonly head: string;
}

export interface ExportTrailer {
  /** Event lines in the file. */
  readonly count: number;
  /** The source's tree head at `head`: the log up to there has `size` events with this root. */
  readonly size: number;
  readonly rootHash: string;
  readonly head: string;
}

export function exportHeader(fromPosition: bigint, head: bigint): ExportHeader {
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, fromPosition: fromPosition.toString(), head: head.toString() };
}

/** The tree head covering the log up to `head`, for the trailer. */
export async function exportTreeHead(store: EventStore, head: bigint): Promise<{ size: number; rootHash: string }> {
  const tree = merkleOf(store);
  const t = await tree.treeHead(await tree.sizeAt(head));
  return { size: t.size, rootHash: t.rootHash };
}

export function exportTrailer(count: number, tree: { size: number; rootHash: string }, head: bigint): ExportTrailer {
  return { count, size: tree.size, rootHash: tree.rootHash, head: head.toString() };
}

export function isExportHeader(v: unknown): v is ExportHeader {
  return typeof v === 'object' && v !== null && (v as { format?: unknown }).format === EXPORT_FORMAT;
}

export function isExportTrailer(v: unknown): v is ExportTrailer {
  const t = v as Partial<ExportTrailer> | null;
  return typeof t === 'object' && t !== null && !('eventId' in t) && typeof t.count === 'number' && typeof t.size === 'number' && typeof t.rootHash === 'string';
}
