import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { dealRevenueStreamId, type RevenueAttributed } from '#events/attribution.js';
import { isRecorded } from '#events/envelope.js';
import { exchangeRateStreamId } from '#events/exchange-rates.js';
import {
  attributionDecider,
  attributionStreamId,
  expectedReportingMinor,
  type AttributeRevenue,
  type RecordedGross,
  type ReverseAttribution,
} from '#libs/attribution/attribution.js';
import { decideDealRevenue } from '#libs/attribution/deal-revenue.js';
import { COMMISSION_PLAN_STREAM_ID } from '#events/commissions.js';
import { commissionedAttributionDecider, tierHistoryFold, type CommissionFacts } from '#libs/commissions/attribution-commissions.js';
import { commissionPlanDecider } from '#libs/commissions/plan.js';
import type { EventStore } from '#libs/event-store/port.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { exchangeRateDecider } from '#libs/money/exchange-rates.js';
import { isMoney } from '#libs/money/money.js';
import { partnerDecider, partnerStreamId } from '#libs/partners/partner.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { StreamDealDirectory } from './deal-directory.js';
import { CommandPipeline, type ClaimStep } from './pipeline.js';
import { Turns } from './turns.js';
import { ProgramInForce } from './program.commands.js';
import { EVENT_STORE } from './tokens.js';

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

interface InFlight {
  readonly currency: string;
  readonly amountMinor: number;
  readonly reportingCurrency: string;
  readonly reportingMinor: number;
  /** Set once appended: the entry is dropped when the recorded totals have read that far. */
  position?: bigint;
}

/**
 * Everything attributed so far, per currency and per reporting currency (docs/money.md, "Sums stay exact"): read
 * from the log (only `RevenueAttributed`, only what was appended since the last read), plus the attributions of
 * this process still on their way, so that no two of them can together take a sum past 2^53 − 1.
 */
class RecordedRevenue {
  private position = 0n;
  private readonly byCurrency = new Map<string, bigint>();
  private readonly byReportingCurrency = new Map<string, bigint>();
  private readonly inFlight = new Set<InFlight>();
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly store: EventStore) {}

  /** The totals now; `entry` then counts for every later snapshot until the log has it (or it is withdrawn). */
  async snapshot(entry: InFlight): Promise<RecordedGross> {
    // A failed read fails this command only; the next one reads again from where the totals stand.
    const read = this.reading.then(() => this.catchUp());
    this.reading = read.catch(() => undefined);
    await read;
    const byCurrency = new Map(this.byCurrency);
    const byReporting = new Map(this.byReportingCurrency);
    for (const f of this.inFlight) {
      byCurrency.set(f.currency, (byCurrency.get(f.currency) ?? 0n) + BigInt(f.amountMinor));
      byReporting.set(f.reportingCurrency, (byReporting.get(f.reportingCurrency) ?? 0n) + BigInt(f.reportingMinor));
    }
    this.inFlight.add(entry);
    const capped = (m: Map<string, bigint>) => Object.fromEntries([...m].map(([k, v]) => [k, v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v)]));
    return { byCurrency: capped(byCurrency), byReportingCurrency: capped(byReporting) };
  }

  settled(entry: InFlight, position: bigint | undefined): void {
    if (position === undefined || position <= this.position) this.inFlight.delete(entry);
    else entry.position = position;
  }

  private async catchUp(): Promise<void> {
    for await (const e of this.store.readAll({ fromPosition: this.position, filter: { eventTypes: ['RevenueAttributed'] } })) {
      if (isRecorded<RevenueAttributed>(e, 'RevenueAttributed')) {
        const d = e.data;
        const add = (m: Map<string, bigint>, k: string, v: number) => m.set(k, (m.get(k) ?? 0n) + BigInt(v));
        add(this.byCurrency, d.amount.currency, d.amount.amountMinor);
        add(this.byReportingCurrency, d.reportingCurrency, d.reportingAmountMinor ?? d.amount.amountMinor);
      }
      this.position = e.position;
    }
    for (const f of this.inFlight) if (f.position !== undefined && f.position <= this.position) this.inFlight.delete(f);
  }
}

/**
 * Gathers the facts the rule needs from other streams (the program in force, the credited partners, the deal as it
 * stands, the rates of the pair, what is attributed already), then decides against the attribution's own stream.
 * An attribution that names a deal first reserves its amount in the deal's revenue stream (claim-then-decide), so
 * a deal's attributions never exceed its won amount whatever the concurrency (libs/attribution/src/deal-revenue.ts).
 */
@CommandHandler(AttributeRevenueCommand)
export class AttributeRevenueHandler implements ICommandHandler<AttributeRevenueCommand, CommandOutcome> {
  private readonly recorded: RecordedRevenue;
  private readonly turns = new Turns();

  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
    @Inject(StreamDealDirectory) private readonly deals: StreamDealDirectory,
    @Inject(EVENT_STORE) store: EventStore,
  ) {
    this.recorded = new RecordedRevenue(store);
  }

  async execute({ ctx, data }: AttributeRevenueCommand): Promise<CommandOutcome> {
    const program = await this.programs.get();
    const ids = [...new Set(data.credits.map((c) => c.partnerId))].filter((id) => ID_PATTERN.test(id));
    const partners = await Promise.all(ids.map(async (id) => ({ id, status: (await this.pipeline.state(partnerStreamId(id), partnerDecider)).status })));
    const deal = data.dealId === undefined ? undefined : await this.deals.find(data.dealId);
    const foreign = isMoney(data.amount) && data.amount.currency !== program.reportingCurrency;
    const rates = foreign ? await this.pipeline.state(exchangeRateStreamId(data.amount.currency, program.reportingCurrency), exchangeRateDecider) : undefined;
    const commissions = await this.commissionFacts(partners.filter((p) => p.status !== 'none').map((p) => p.id));
    const command: AttributeRevenue & { commissions?: CommissionFacts } = {
      type: 'AttributeRevenue',
      data,
      facts: {
        reportingCurrency: program.reportingCurrency,
        programVersion: program.version,
        // Partners are never deleted: once enrolled, the fact read here stays true.
        enrolledPartnerIds: partners.filter((p) => p.status !== 'none').map((p) => p.id),
        activePartnerIds: partners.filter((p) => p.status === 'active').map((p) => p.id),
        ...(deal !== undefined ? { deal: { dealId: deal.dealId, partnerId: deal.partnerId, status: deal.status, ...(deal.wonAmount ? { wonAmount: deal.wonAmount } : {}) } } : {}),
        ...(rates !== undefined ? { rates } : {}),
      },
      ...(commissions !== undefined ? { commissions } : {}),
    };
    const reporting = expectedReportingMinor(command);
    const entry: InFlight = {
      currency: isMoney(data.amount) ? data.amount.currency : '',
      amountMinor: isMoney(data.amount) ? data.amount.amountMinor : 0,
      reportingCurrency: program.reportingCurrency,
      reportingMinor: reporting ?? 0,
    };
    const decided = { ...command, facts: { ...command.facts, recorded: await this.recorded.snapshot(entry) } };
    let position: bigint | undefined;
    try {
      const won = deal?.wonAmount;
      const outcome =
        deal !== undefined && won !== undefined && isMoney(data.amount)
          ? await this.turns.run(dealRevenueStreamId(deal.dealId), () =>
              this.pipeline.handleWithClaim(ctx, attributionStreamId(data.attributionId), commissionedAttributionDecider, decided, this.reserve(deal.dealId, won.amountMinor, data)),
            )
          : await this.pipeline.handle(ctx, attributionStreamId(data.attributionId), commissionedAttributionDecider, decided);
      if (outcome.events.length) position = outcome.position;
      return outcome;
    } finally {
      this.recorded.settled(entry, position);
    }
  }

  /**
   * The commission facts (docs/commissions.md): the plan in force when the attribution is decided and what each
   * credited partner's stream says of its type and tiers (the tier is read at `recognizedAt` by the decider).
   * No plan defined yet (version 0): nothing accrues.
   */
  private async commissionFacts(partnerIds: readonly string[]): Promise<CommissionFacts | undefined> {
    const plan = await this.pipeline.state(COMMISSION_PLAN_STREAM_ID, commissionPlanDecider);
    if (plan.version === 0 || plan.rules.length === 0) return undefined;
    const histories = await Promise.all(partnerIds.map(async (id) => [id, await this.pipeline.state(partnerStreamId(id), tierHistoryFold)] as const));
    return { plan, partners: Object.fromEntries(histories) };
  }

  private reserve(dealId: string, wonAmountMinor: number, data: AttributeRevenue['data']): ClaimStep {
    return {
      streamId: dealRevenueStreamId(dealId),
      decide: (events) =>
        decideDealRevenue(events, { dealId, attributionId: data.attributionId, amount: data.amount, wonAmountMinor }, (id) => this.pipeline.state(attributionStreamId(id), attributionDecider)),
    };
  }
}

@CommandHandler(ReverseAttributionCommand)
export class ReverseAttributionHandler implements ICommandHandler<ReverseAttributionCommand, CommandOutcome> {
  constructor(@Inject(CommandPipeline) private readonly pipeline: CommandPipeline) {}

  execute({ ctx, data }: ReverseAttributionCommand): Promise<CommandOutcome> {
    // The commissioned decider: the reversal's clawbacks go in the same append.
    return this.pipeline.handle(ctx, attributionStreamId(data.attributionId), commissionedAttributionDecider, { type: 'ReverseAttribution', data });
  }
}

export const ATTRIBUTION_COMMAND_HANDLERS = [AttributeRevenueHandler, ReverseAttributionHandler];
