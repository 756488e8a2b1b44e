import { Inject, Injectable } from '@nestjs/common';
import type { ProgramEvent } from '#events/program.js';
import { PROGRAM_STREAM_ID } from '#events/program.js';
import type { EventStore } from '#libs/event-store/port.js';
import { programInForce } from '#libs/program/program-decider.js';
import type { TierProgram } from '#libs/program/program.js';
import { EVENT_STORE } from '../ledger/tokens.js';

/**
 * The tier program in force, read from its stream at decision time (a handful of events), so that every
 * decision uses the version in force when it is recorded and names it in its events.
 */
@Injectable()
export class ProgramService {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async inForce(): Promise<TierProgram> {
    const events = await this.store.readStream(PROGRAM_STREAM_ID);
    return programInForce(events as unknown as ProgramEvent[]);
  }
}
