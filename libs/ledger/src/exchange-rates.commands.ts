import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { exchangeRateStreamId } from '#events/exchange-rates.js';
import { isCurrency } from '#libs/money/currency.js';
import { invalidField } from '#libs/kernel/input.js';
import { exchangeRateDecider, type PublishExchangeRate } from '#libs/money/exchange-rates.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { CommandPipeline } from './pipeline.js';
import { ProgramInForce } from './program.commands.js';

export class PublishExchangeRateCommand {
  constructor(
    readonly ctx: CommandContext,
    readonly data: PublishExchangeRate['data'],
  ) {}
}

/** A rate is published against the reporting currency of the program in force, in its pair's own stream. */
@CommandHandler(PublishExchangeRateCommand)
export class PublishExchangeRateHandler implements ICommandHandler<PublishExchangeRateCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
  ) {}

  async execute({ ctx, data }: PublishExchangeRateCommand): Promise<CommandOutcome> {
    if (!isCurrency(data.currency)) throw invalidField('currency', 'currency must be an ISO 4217 code such as EUR');
    const { reportingCurrency } = await this.programs.get();
    return this.pipeline.handle(ctx, exchangeRateStreamId(data.currency, reportingCurrency), exchangeRateDecider, { type: 'PublishExchangeRate', data, facts: { reportingCurrency } });
  }
}

export const EXCHANGE_RATE_COMMAND_HANDLERS = [PublishExchangeRateHandler];
