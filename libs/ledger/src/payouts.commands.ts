import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { COMMISSION_PLAN_STREAM_ID, PAYOUT_RUNS_STREAM_ID, type CommissionAccrued, type CommissionClawedBack } from '#events/commissions.js';
import { commissionPlanDecider } from '#libs/commissions/plan.js';
import { payoutRunsDecider, type AccrualFact, type ApprovePayoutRun, type CancelPayoutRun, type MarkPayoutLinePaid } from '#libs/commissions/payouts.js';
import type { EventStore } from '#libs/event-store/port.js';
import { isRecorded } from '#events/envelope.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { CommandPipeline } from './pipeline.js';
import { ProgramInForce } from './program.commands.js';
import { EVENT_STORE } from './tokens.js';

export class CreatePayoutRunCommand {
  constructor(readonly ctx: CommandContext, readonly data: { readonly payoutId: string; readonly asOf: string }) {}
}

export class PayoutRunActionCommand {
  constructor(readonly ctx: CommandContext, readonly command: ApprovePayoutRun | CancelPayoutRun | MarkPayoutLinePaid) {}
}

/**
 * Every accrual of the log with its clawbacks, read incrementally (only what was appended since the last read):
 * the facts a payout run is decided on. An accrual appended after this read is not in the run (a later run pays
 * it); a clawback appended after it is netted by a later run. Neither can put an accrual in two live runs: that
 * is decided by the run stream's own revision.
 */
class RecordedAccruals {
  private position = 0n;
  private readonly accruals = new Map<string, AccrualFact>();
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly store: EventStore) {}

  async all(): Promise<readonly AccrualFact[]> {
    const read = this.reading.then(() => this.catchUp());
    this.reading = read.catch(() => undefined);
    await read;
    return [...this.accruals.values()];
  }

  private async catchUp(): Promise<void> {
    for await (const e of this.store.readAll({ fromPosition: this.position, filter: { eventTypes: ['CommissionAccrued', 'CommissionClawedBack'] } })) {
      this.position = e.position;
      if (!isRecorded<CommissionAccrued | CommissionClawedBack>(e, ['CommissionAccrued', 'CommissionClawedBack'])) continue;
      const key = `${e.data.partnerId}\n${e.data.attributionId}\n${e.data.creditType}`;
      if (e.type === 'CommissionAccrued') {
        const d = e.data;
        if (!this.accruals.has(key)) {
          this.accruals.set(key, { partnerId: d.partnerId, attributionId: d.attributionId, creditType: d.creditType, currency: d.currency, amountMinor: d.amountMinor, clawedBackMinor: 0, payableFrom: d.payableFrom });
        }
      } else {
        const a = this.accruals.get(key);
        if (a !== undefined) this.accruals.set(key, { ...a, clawedBackMinor: a.clawedBackMinor + e.data.amountMinor });
      }
    }
  }
}

/** `POST /v1/payouts`: one run for `asOf`, decided on the single `payout-runs` stream at its revision. */
@CommandHandler(CreatePayoutRunCommand)
export class CreatePayoutRunHandler implements ICommandHandler<CreatePayoutRunCommand, CommandOutcome> {
  private readonly recorded: RecordedAccruals;

  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
    @Inject(EVENT_STORE) store: EventStore,
  ) {
    this.recorded = new RecordedAccruals(store);
  }

  async execute({ ctx, data }: CreatePayoutRunCommand): Promise<CommandOutcome> {
    const [program, plan, accruals] = await Promise.all([this.programs.get(), this.pipeline.state(COMMISSION_PLAN_STREAM_ID, commissionPlanDecider), this.recorded.all()]);
    return this.pipeline.handle(ctx, PAYOUT_RUNS_STREAM_ID, payoutRunsDecider, {
      type: 'CreatePayoutRun',
      data,
      facts: { currency: program.reportingCurrency, planVersion: plan.version, minimumPayoutMinor: plan.minimumPayoutMinor, accruals },
    });
  }
}

/** Approve, cancel, mark a line paid: on the same stream, so nothing is paid twice and a paid run is never cancelled. */
@CommandHandler(PayoutRunActionCommand)
export class PayoutRunActionHandler implements ICommandHandler<PayoutRunActionCommand, CommandOutcome> {
  constructor(@Inject(CommandPipeline) private readonly pipeline: CommandPipeline) {}

  execute({ ctx, command }: PayoutRunActionCommand): Promise<CommandOutcome> {
    return this.pipeline.handle(ctx, PAYOUT_RUNS_STREAM_ID, payoutRunsDecider, command);
  }
}

export const PAYOUT_COMMAND_HANDLERS = [CreatePayoutRunHandler, PayoutRunActionHandler];
