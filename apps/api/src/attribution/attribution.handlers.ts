import { Inject } from '@nestjs/common';
import { CommandHandler, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { AttributionAllocation, AttributionCredit, AttributionEvent, RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import type { Actor, RecordedEvent } from '#events/envelope.js';
import {
  attributionStreamId,
  decideAttribution,
  evolveAttribution,
  initialAttributionState,
  type AttributeRevenue,
  type AttributionCommand,
  type AttributionState,
  type ReverseAttribution,
} from '#libs/attribution/attribution.js';
import type { EventStore } from '#libs/event-store/port.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { NotFound } from '#libs/kernel/errors.js';
import { partnerStreamId } from '#libs/partners/partner.js';
import { attributionReport, type AttributionReport, type AttributionReportParams } from '#projections/attribution/attribution.queries.js';
import { CommandExecutor, type CommandContext, type CommandOutcome } from '../ledger/command-executor.js';
import { DEAL_DIRECTORY, type DealDirectory } from '../ledger/lookups.js';
import { ReadModels } from '../ledger/read-models.js';
import { EVENT_STORE } from '../ledger/tokens.js';
import { ProgramService } from '../program/program.service.js';

export class AttributeRevenueCommand {
  constructor(
    readonly ctx: CommandContext,
    readonly data: AttributeRevenue['data'],
  ) {}
}

export class ReverseAttributionCommand {
  constructor(
    readonly ctx: CommandContext,
    readonly data: ReverseAttribution['data'],
  ) {}
}

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

function attributionCommand(command: AttributionCommand) {
  return {
    streamId: attributionStreamId(command.data.attributionId),
    initialState: initialAttributionState,
    evolve: evolveAttribution,
    decide: (s: AttributionState, now: Date) => decideAttribution(command, s, now),
  };
}

/**
 * Gathers the facts the rule needs from other streams (the program in force, the credited partners, the
 * deal as the deal directory has it now), then decides against the attribution's own stream.
 */
@CommandHandler(AttributeRevenueCommand)
export class AttributeRevenueHandler implements ICommandHandler<AttributeRevenueCommand, CommandOutcome> {
  constructor(
    @Inject(CommandExecutor) private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ProgramService) private readonly programs: ProgramService,
    @Inject(DEAL_DIRECTORY) private readonly deals: DealDirectory,
  ) {}

  async execute({ ctx, data }: AttributeRevenueCommand): Promise<CommandOutcome> {
    const earlier = await this.executor.findEarlier(ctx);
    if (earlier) return earlier;
    const program = await this.programs.inForce();
    const ids = [...new Set(data.credits.map((c) => c.partnerId))].filter((id) => ID_PATTERN.test(id));
    // Partners are never deleted: once enrolled, the fact read here stays true.
    const enrolled = await Promise.all(ids.map(async (id) => ((await this.store.readStream(partnerStreamId(id), { limit: 1 })).length > 0 ? id : undefined)));
    const deal = data.dealId === undefined ? undefined : await this.deals.find(data.dealId);
    const command: AttributeRevenue = {
      type: 'AttributeRevenue',
      data,
      facts: {
        reportingCurrency: program.reportingCurrency,
        programVersion: program.version,
        enrolledPartnerIds: enrolled.filter((id): id is string => id !== undefined),
        ...(deal !== undefined ? { deal: { dealId: deal.dealId, partnerId: deal.partnerId, status: deal.status } } : {}),
      },
    };
    return this.executor.execute(ctx, attributionCommand(command));
  }
}

@CommandHandler(ReverseAttributionCommand)
export class ReverseAttributionHandler implements ICommandHandler<ReverseAttributionCommand, CommandOutcome> {
  constructor(@Inject(CommandExecutor) private readonly executor: CommandExecutor) {}

  execute({ ctx, data }: ReverseAttributionCommand): Promise<CommandOutcome> {
    return this.executor.execute(ctx, attributionCommand({ type: 'ReverseAttribution', data }));
  }
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
  const created = events.find((e) => e.type === 'RevenueAttributed');
  if (created === undefined) return undefined;
  const d = created.data as RevenueAttributed['data'];
  const state = events.reduce<AttributionState>((s, e) => evolveAttribution(s, { type: e.type, data: e.data } as AttributionEvent), initialAttributionState());
  if (state.status === 'none') return undefined;
  const partner = actor?.role === 'partner' ? actor.partnerId : undefined;
  const mine = <T extends { partnerId: string }>(items: readonly T[]): readonly T[] => (partner === undefined ? items : items.filter((i) => i.partnerId === partner));
  if (partner !== undefined && mine(d.credits).length === 0) return undefined;
  const reversals = events
    .filter((e) => e.type === 'RevenueAttributionReversed')
    .map((e): ReversalView => {
      const r = e.data as RevenueAttributionReversed['data'];
      return {
        sequence: r.sequence,
        amountMinor: r.amountMinor,
        ...(r.reportingAmountMinor !== undefined ? { reportingAmountMinor: r.reportingAmountMinor } : {}),
        reason: r.reason,
        reversedAt: r.reversedAt,
        allocations: mine(r.allocations),
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
    recognizedAt: d.recognizedAt,
    credits: mine(d.credits),
    allocations: mine(d.allocations),
    reversals,
    remainingMinor: state.remainingMinor,
    ...(state.remainingReportingMinor !== undefined ? { remainingReportingMinor: state.remainingReportingMinor } : {}),
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
    @Inject(DEAL_DIRECTORY) private readonly deals: DealDirectory,
  ) {}

  async execute(q: GetAttributionQuery): Promise<{ position: bigint; value: AttributionView }> {
    // Read from the stream itself, which is always current; `minPosition` still waits (for the read models,
    // hence for the log) so that a client's read-your-writes contract is the same as everywhere else.
    if (q.minPosition !== undefined) await this.readModels.read(q.minPosition, () => undefined);
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
