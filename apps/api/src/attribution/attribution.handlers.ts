import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ATTRIBUTION_EVENT_TYPES, type AttributionAllocation, type AttributionConversion, type AttributionCredit, type AttributionEvent, type RevenueAttributed, type RevenueAttributionReversed } from '#events/attribution.js';
import { eventsOf, type Actor, type Recorded, type RecordedEvent } from '#events/envelope.js';
import { attributionStreamId, evolveAttribution, initialAttributionState, type AttributionState } from '#libs/attribution/attribution.js';
import type { EventStore } from '#libs/event-store/port.js';
import { NotFound } from '#libs/kernel/errors.js';
import { StreamDealDirectory } from '#libs/ledger/deal-directory.js';
import { EVENT_STORE } from '#libs/ledger/tokens.js';
import { attributionReport, type AttributionReport, type AttributionReportParams } from '#projections/attribution/attribution.queries.js';
import { ReadModels } from '#projections/runner/read-models.js';

export class GetAttributionQuery {
  constructor(
    readonly attributionId: string,
    readonly actor: Actor | undefined,
    readonly minPosition?: bigint,
  ) {}
}

export class AttributionReportQuery {
  constructor(
    readonly params: AttributionReportParams,
    readonly minPosition?: bigint,
  ) {}
}

export interface ReversalView {
  readonly sequence: number;
  readonly amountMinor: number;
  readonly reportingAmountMinor?: number;
  readonly reason: string;
  readonly reversedAt: string;
  readonly allocations: readonly AttributionAllocation[];
  readonly remainingMinor: number;
  readonly position: string;
  readonly recordedAt: string;
}

export interface AttributionView {
  readonly attributionId: string;
  readonly dealId?: string;
  readonly amount: { readonly amountMinor: number; readonly currency: string };
  readonly reportingCurrency: string;
  readonly reportingAmountMinor?: number;
  /** How the reporting amount was obtained (present with it). */
  readonly conversion?: AttributionConversion;
  /** True when no deal is named. */
  readonly unregistered: boolean;
  readonly recognizedAt: string;
  readonly credits: readonly AttributionCredit[];
  readonly allocations: readonly AttributionAllocation[];
  readonly reversals: readonly ReversalView[];
  /** What remains of the amount (within each credit type). */
  readonly remainingMinor: number;
  readonly remainingReportingMinor?: number;
  readonly status: 'attributed' | 'reversed';
  readonly programVersion: number;
  readonly position: string;
  readonly recordedAt: string;
}

/**
 * The attribution with its allocations and reversals, folded from its own stream (always current). A partner
 * key sees an attribution only if it is credited in it, and then only its own credits and allocations.
 */
export function attributionView(events: readonly RecordedEvent[], actor: Actor | undefined): AttributionView | undefined {
  const created = eventsOf<RevenueAttributed>(events, 'RevenueAttributed')[0];
  if (created === undefined) return undefined;
  const d = created.data;
  const state = eventsOf<AttributionEvent>(events, ATTRIBUTION_EVENT_TYPES).reduce<AttributionState>(evolveAttribution, initialAttributionState());
  if (state.status === 'none') return undefined;
  const partner = actor?.role === 'partner' ? actor.partnerId : undefined;
  const mine = <T extends { partnerId: string }>(items: readonly T[]): readonly T[] => (partner === undefined ? items : items.filter((i) => i.partnerId === partner));
  if (partner !== undefined && mine(d.credits).length === 0) return undefined;
  const reversalEvents = eventsOf<RevenueAttributionReversed>(events, 'RevenueAttributionReversed');
  if (partner !== undefined) return partnerView(created, d, state, reversalEvents, partner);
  const reversals = reversalEvents.map((e): ReversalView => {
    const r = e.data;
    return {
      sequence: r.sequence,
      amountMinor: r.amountMinor,
      ...(r.reportingAmountMinor !== undefined ? { reportingAmountMinor: r.reportingAmountMinor } : {}),
      reason: r.reason,
      reversedAt: r.reversedAt,
      allocations: r.allocations,
      remainingMinor: r.remainingMinor,
      position: e.position.toString(),
      recordedAt: e.metadata.recordedAt,
    };
  });
  return {
    attributionId: d.attributionId,
    ...(d.dealId !== undefined ? { dealId: d.dealId } : {}),
    amount: d.amount,
    reportingCurrency: d.reportingCurrency,
    ...(d.reportingAmountMinor !== undefined ? { reportingAmountMinor: d.reportingAmountMinor } : {}),
    ...(state.conversion !== undefined ? { conversion: state.conversion } : {}),
    unregistered: state.unregistered,
    recognizedAt: d.recognizedAt,
    credits: d.credits,
    allocations: d.allocations,
    reversals,
    remainingMinor: state.remainingMinor,
    ...(state.remainingReportingMinor !== undefined ? { remainingReportingMinor: state.remainingReportingMinor } : {}),
    status: state.status,
    programVersion: d.programVersion,
    position: created.position.toString(),
    recordedAt: created.metadata.recordedAt,
  };
}

interface Sums {
  readonly minor: number;
  readonly reporting?: number;
}

/** The sum of some allocations (and of their reporting amounts when they carry one). */
function sum(items: readonly AttributionAllocation[]): Sums {
  let minor = 0;
  let reporting: number | undefined;
  for (const a of items) {
    minor += a.amountMinor;
    if (a.reportingAmountMinor !== undefined) reporting = (reporting ?? 0) + a.reportingAmountMinor;
  }
  return reporting === undefined ? { minor } : { minor, reporting };
}

/**
 * What a partner key sees of an attribution it is credited in (issue #17): its own credits and allocations,
 * and every amount as its own part of it, never the whole amount nor what remains of other partners' parts
 * (which, with its own share, would disclose theirs). `amount` and `reportingAmountMinor` are the sum of its
 * allocations (over its credit types), `remainingMinor` what remains of them, each reversal its own part.
 */
function partnerView(
  created: RecordedEvent,
  d: RevenueAttributed['data'],
  state: Exclude<AttributionState, { status: 'none' }>,
  reversalEvents: readonly Recorded<RevenueAttributionReversed>[],
  partner: string,
): AttributionView {
  const own = <T extends { partnerId: string }>(items: readonly T[]): readonly T[] => items.filter((i) => i.partnerId === partner);
  const allocated = sum(own(d.allocations));
  let left = allocated.minor;
  const reversals = reversalEvents.map((e): ReversalView => {
    const r = e.data;
    const taken = sum(own(r.allocations));
    left -= taken.minor;
    return {
      sequence: r.sequence,
      amountMinor: taken.minor,
      ...(taken.reporting !== undefined ? { reportingAmountMinor: taken.reporting } : {}),
      reason: r.reason,
      reversedAt: r.reversedAt,
      allocations: own(r.allocations),
      remainingMinor: left,
      position: e.position.toString(),
      recordedAt: e.metadata.recordedAt,
    };
  });
  const remaining = sum(own(state.remaining));
  return {
    attributionId: d.attributionId,
    ...(d.dealId !== undefined ? { dealId: d.dealId } : {}),
    amount: { amountMinor: allocated.minor, currency: d.amount.currency },
    reportingCurrency: d.reportingCurrency,
    ...(d.reportingAmountMinor !== undefined && allocated.reporting !== undefined ? { reportingAmountMinor: allocated.reporting } : {}),
    ...(state.conversion !== undefined ? { conversion: { ...state.conversion, reportingAmountMinor: allocated.reporting ?? 0 } } : {}),
    unregistered: state.unregistered,
    recognizedAt: d.recognizedAt,
    credits: own(d.credits),
    allocations: own(d.allocations),
    reversals,
    remainingMinor: remaining.minor,
    ...(state.remainingReportingMinor !== undefined && remaining.reporting !== undefined ? { remainingReportingMinor: remaining.reporting } : {}),
    status: state.status,
    programVersion: d.programVersion,
    position: created.position.toString(),
    recordedAt: created.metadata.recordedAt,
  };
}

@QueryHandler(GetAttributionQuery)
export class GetAttributionHandler implements IQueryHandler<GetAttributionQuery, { position: bigint; value: AttributionView }> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(StreamDealDirectory) private readonly deals: StreamDealDirectory,
  ) {}

  async execute(q: GetAttributionQuery): Promise<{ position: bigint; value: AttributionView }> {
    // Read from the stream itself, which is always current; `minPosition` still waits (for the read models,
    // hence for the log) so that a client's read-your-writes contract is the same as everywhere else.
    await this.readModels.reached(q.minPosition);
    const position = await this.store.headPosition();
    const view = attributionView(await this.store.readStream(attributionStreamId(q.attributionId)), q.actor);
    if (view === undefined) throw new NotFound(`attribution ${q.attributionId} not found`);
    // An attribution may name another partner's deal (an influenced credit on a deal someone else sourced):
    // a partner key sees the deal id only when the deal is its own.
    if (q.actor?.role === 'partner' && view.dealId !== undefined && (await this.deals.find(view.dealId))?.partnerId !== q.actor.partnerId) {
      const { dealId: _hidden, ...rest } = view;
      return { position, value: rest };
    }
    return { position, value: view };
  }
}

@QueryHandler(AttributionReportQuery)
export class AttributionReportHandler implements IQueryHandler<AttributionReportQuery, { position: bigint; value: AttributionReport }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  execute(q: AttributionReportQuery): Promise<{ position: bigint; value: AttributionReport }> {
    return this.readModels.read(q.minPosition, (db) => attributionReport(db, q.params));
  }
}
