import type { Provider } from '@nestjs/common';
import type { EventStore } from '#libs/event-store/port.js';
import { ATTRIBUTION_COMMAND_HANDLERS } from './attribution.commands.js';
import { StreamDealDirectory } from './deal-directory.js';
import { DEAL_COMMAND_HANDLERS } from './deals.commands.js';
import { EXCHANGE_RATE_COMMAND_HANDLERS } from './exchange-rates.commands.js';
import { MDF_COMMAND_HANDLERS } from './mdf.commands.js';
import { PARTNER_COMMAND_HANDLERS } from './partners.commands.js';
import { CommandPipeline, type CommandObserver } from './pipeline.js';
import { DefineProgramHandler, ProgramInForce } from './program.commands.js';
import { DefineCommissionPlanHandler } from './commissions.commands.js';
import { PAYOUT_COMMAND_HANDLERS } from './payouts.commands.js';
import { DefineCertificationHandler } from './certifications.commands.js';
import { EvaluateTiersHandler, OverrideTierHandler } from './tiers.commands.js';
import { CLOCK, EVENT_STORE, systemClock, type Clock } from './tokens.js';

/** Optional instrumentation of the pipeline (the API's metrics provide it); without it the pipeline runs uninstrumented. */
export const COMMAND_OBSERVER = Symbol('COMMAND_OBSERVER');

export const COMMAND_HANDLERS = [...PARTNER_COMMAND_HANDLERS, ...DEAL_COMMAND_HANDLERS, ...MDF_COMMAND_HANDLERS, ...ATTRIBUTION_COMMAND_HANDLERS, ...EXCHANGE_RATE_COMMAND_HANDLERS, DefineProgramHandler, EvaluateTiersHandler, OverrideTierHandler, DefineCertificationHandler, DefineCommissionPlanHandler, ...PAYOUT_COMMAND_HANDLERS];

export interface LedgerOptions {
  /** Opens the event store (once, at start-up). */
  readonly openStore: () => EventStore | Promise<EventStore>;
  /** Tests and the simulation inject a clock; production uses the system clock. */
  readonly clock?: Clock;
}

/**
 * The command side of the ledger as Nest providers, for both apps: the store, the clock, the pipeline and every
 * command handler. The handlers that fan out over read models also need LEDGER_READS (projections provide it).
 */
export function ledgerProviders(options: LedgerOptions): Provider[] {
  return [
    { provide: CLOCK, useValue: options.clock ?? systemClock },
    { provide: EVENT_STORE, useFactory: options.openStore },
    {
      provide: CommandPipeline,
      inject: [EVENT_STORE, CLOCK, { token: COMMAND_OBSERVER, optional: true }],
      useFactory: (store: EventStore, clock: Clock, observer?: CommandObserver) => new CommandPipeline(store, clock, observer),
    },
    ProgramInForce,
    StreamDealDirectory,
    ...COMMAND_HANDLERS,
  ];
}

export const LEDGER_EXPORTS = [CLOCK, EVENT_STORE, CommandPipeline, ProgramInForce, StreamDealDirectory];
