/**
 * The persisted envelope of every event. `type`, `data` and the metadata field names are the public
 * contract (DOMAIN.md, "Events"): never rename them. Revisions and positions are bigint inside the
 * process and decimal strings on the wire (see `toWire`).
 */
export type Role = 'admin' | 'channel-ops' | 'finance' | 'auditor' | 'partner' | 'subscriber';

export const ROLES: readonly Role[] = ['admin', 'channel-ops', 'finance', 'auditor', 'partner', 'subscriber'];

export interface Actor {
  readonly id: string;
  readonly role: Role;
  readonly partnerId?: string;
}

export interface EventMetadata {
  readonly schemaVersion: number;
  readonly actor: Actor;
  /** Id of the command that produced the event; a retried command finds its earlier events by it. */
  readonly commandId: string;
  readonly correlationId: string;
  readonly causationId: string;
  /** Record time, stamped by the ledger (UTC ISO 8601). */
  readonly recordedAt: string;
  /** Fingerprint of the request that carried an `Idempotency-Key`, to refuse the key's reuse with another body. */
  readonly requestHash?: string;
}

/** An event as a decider produces it: no ids, no positions. */
export interface DomainEventShape<T extends string = string, D = unknown> {
  readonly type: T;
  readonly data: D;
}

export interface RecordedEvent<E extends DomainEventShape = DomainEventShape> {
  readonly eventId: string;
  readonly type: E['type'];
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly data: E['data'];
  readonly metadata: EventMetadata;
  readonly prevHash: string;
  readonly hash: string;
}

/** What the store adds to an event it records. */
export type RecordedMembers = Omit<RecordedEvent, 'type' | 'data'>;

/**
 * A stored event of the union `E`, still discriminated by `type` (narrowing on `type` types `data`; RecordedEvent
 * of a union keeps `type` and `data` independent), and usable wherever an `E` is. What `readStream<E>` answers.
 */
export type Recorded<E extends DomainEventShape = DomainEventShape> = E & RecordedMembers;

/**
 * Narrows a stored event to the union `E` by its type, without a cast: `isRecorded<DealRevenueReserved>(e,
 * 'DealRevenueReserved')` or `isRecorded<DealEvent>(e, DEAL_TYPES)`. The type list is the caller's statement of
 * which types make up `E` (the store does not check payloads against it).
 */
export function isRecorded<E extends DomainEventShape>(event: RecordedEvent, types: E['type'] | readonly E['type'][]): event is Recorded<E> {
  return typeof types === 'string' ? event.type === types : (types as readonly string[]).includes(event.type);
}

/** The events of `E` among `events`, narrowed: `eventsOf<DealWon>(outcome.events, 'DealWon')`. */
export function eventsOf<E extends DomainEventShape>(events: readonly RecordedEvent[], types: E['type'] | readonly E['type'][]): Recorded<E>[] {
  return events.filter((e): e is Recorded<E> => isRecorded<E>(e, types));
}

export interface WireEvent {
  readonly eventId: string;
  readonly type: string;
  readonly streamId: string;
  readonly revision: string;
  readonly position: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly prevHash: string;
  readonly hash: string;
}

export function toWire(e: RecordedEvent): WireEvent {
  return {
    eventId: e.eventId,
    type: e.type,
    streamId: e.streamId,
    revision: e.revision.toString(),
    position: e.position.toString(),
    data: e.data,
    metadata: e.metadata,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

export function fromWire(e: WireEvent): RecordedEvent {
  return { ...e, revision: BigInt(e.revision), position: BigInt(e.position) };
}

