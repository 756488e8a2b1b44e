import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { attributionDecider, attributionStreamId, type AttributeRevenue, type ReverseAttribution } from '#libs/attribution/attribution.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { partnerDecider, partnerStreamId } from '#libs/partners/partner.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { StreamDealDirectory } from './deal-directory.js';
import { CommandPipeline } from './pipeline.js';
import { ProgramInForce } from './program.commands.js';

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

/**
 * Gathers the facts the rule needs from other streams (the program in force, the credited partners, the deal as
 * the deal directory has it now), then decides against the attribution's own stream.
 */
@CommandHandler(AttributeRevenueCommand)
export class AttributeRevenueHandler implements ICommandHandler<AttributeRevenueCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
    @Inject(StreamDealDirectory) private readonly deals: StreamDealDirectory,
  ) {}

  async execute({ ctx, data }: AttributeRevenueCommand): Promise<CommandOutcome> {
    const program = await this.programs.get();
    const ids = [...new Set(data.credits.map((c) => c.partnerId))].filter((id) => ID_PATTERN.test(id));
    // Partners are never deleted: once enrolled, the fact read here stays true.
    const enrolled = await Promise.all(ids.map(async (id) => ((await this.pipeline.state(partnerStreamId(id), partnerDecider)).status !== 'none' ? id : undefined)));
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
    return this.pipeline.handle(ctx, attributionStreamId(data.attributionId), attributionDecider, command);
  }
}

@CommandHandler(ReverseAttributionCommand)
export class ReverseAttributionHandler implements ICommandHandler<ReverseAttributionCommand, CommandOutcome> {
  constructor(@Inject(CommandPipeline) private readonly pipeline: CommandPipeline) {}

  execute({ ctx, data }: ReverseAttributionCommand): Promise<CommandOutcome> {
    return this.pipeline.handle(ctx, attributionStreamId(data.attributionId), attributionDecider, { type: 'ReverseAttribution', data });
  }
}

export const ATTRIBUTION_COMMAND_HANDLERS = [AttributeRevenueHandler, ReverseAttributionHandler];
