import type { RecordedEvent } from '#events/envelope.js';

/** How `/v1/events/stream` writes each event's `data:`: the ledger's envelope (default) or a CloudEvent. */
export const EVENT_FORMATS = ['envelope', 'cloudevents'] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

/** `source` when `LEDGER_PUBLIC_URL` is not set: stable per deployment, never the address a request happened to reach. */
export const DEFAULT_CLOUDEVENTS_SOURCE = 'urn:channel-ledger';

/**
 * A ledger event as a CloudEvent 1.0 in structured mode (JSON event format, `application/cloudevents+json`):
 * the required attributes, `time`, `subject` and `datacontenttype`, the event's `data` as is, and the ledger's
 * coordinates as extension attributes (strings, lowercase names, as the spec requires).
 */
export interface LedgerCloudEvent {
  readonly specversion: '1.0';
  /** The event id (unique across the log; with `source`, what a consumer deduplicates on). */
  readonly id: string;
  /** `LEDGER_PUBLIC_URL`, else `urn:channel-ledger`. */
  readonly source: string;
  /** The event type as the catalog names it (`PartnerEnrolled`, `DealWon`, …): the same names `types=` filters on. */
  readonly type: string;
  /** Record time (`metadata.recordedAt`). */
  readonly time: string;
  /** The stream the event belongs to (`partner-P-1`, `customer-acme.co.uk`, …). */
  readonly subject: string;
  readonly datacontenttype: 'application/json';
  readonly data: unknown;
  /** Extension: the log position (decimal string), the SSE `id:` and what `Last-Event-ID` resumes after. */
  readonly position: string;
  /** Extension: the event's revision in its stream (decimal string). */
  readonly revision: string;
  readonly correlationid: string;
  readonly causationid: string;
}

export function toCloudEvent(e: RecordedEvent, source: string): LedgerCloudEvent {
  return {
    specversion: '1.0',
    id: e.eventId,
    source,
    type: e.type,
    time: e.metadata.recordedAt,
    subject: e.streamId,
    datacontenttype: 'application/json',
    data: e.data,
    position: e.position.toString(),
    revision: e.revision.toString(),
    correlationid: e.metadata.correlationId,
    causationid: e.metadata.causationId,
  };
}
