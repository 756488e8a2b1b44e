import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { COMMISSION_PLAN_STREAM_ID } from '#events/commissions.js';
import { commissionPlanDecider, type CommissionPlan, type DefineCommissionPlan } from '#libs/commissions/plan.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { CommandPipeline } from './pipeline.js';

export class DefineCommissionPlanCommand {
  constructor(readonly ctx: CommandContext, readonly plan: DefineCommissionPlan) {}
}

/** `PUT /v1/commission-plan` (DOMAIN.md, "Commissions and payouts (v2)"): the next plan version, or a no-op. */
@CommandHandler(DefineCommissionPlanCommand)
export class DefineCommissionPlanHandler implements ICommandHandler<DefineCommissionPlanCommand, CommandOutcome> {
  constructor(@Inject(CommandPipeline) private readonly pipeline: CommandPipeline) {}

  execute({ ctx, plan }: DefineCommissionPlanCommand): Promise<CommandOutcome> {
    return this.pipeline.handle(ctx, COMMISSION_PLAN_STREAM_ID, commissionPlanDecider, plan);
  }
}

/** The commission plan in force, read from its stream at decision time. */
@Injectable()
export class CommissionPlanInForce {
  constructor(@Inject(CommandPipeline) private readonly pipeline: CommandPipeline) {}

  get(): Promise<CommissionPlan> {
    return this.pipeline.state(COMMISSION_PLAN_STREAM_ID, commissionPlanDecider);
  }
}
