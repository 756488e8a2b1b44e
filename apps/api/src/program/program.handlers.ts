import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { PROGRAM_STREAM_ID, type ProgramEvent, type TierProgramDefined } from '#events/program.js';
import type { EventStore } from '#libs/event-store/port.js';
import { EVENT_STORE } from '#libs/ledger/tokens.js';
import { DEFAULT_PROGRAM, type TierProgram } from '#libs/program/program.js';
import { ReadModels } from '#projections/runner/read-models.js';

export class GetProgramQuery {
  constructor(readonly minPosition?: bigint) {}
}

export type ProgramView = TierProgram & { definedAt?: string };

/** The program in force with when it was defined, read from its stream: always current, at the log's head. */
@QueryHandler(GetProgramQuery)
export class GetProgramHandler implements IQueryHandler<GetProgramQuery, { position: bigint; value: ProgramView }> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ReadModels) private readonly readModels: ReadModels,
  ) {}

  async execute(q: GetProgramQuery): Promise<{ position: bigint; value: ProgramView }> {
    // Read-your-writes like every query: wait (bounded by the consistency timeout) until the ledger has reached it.
    if (q.minPosition !== undefined) await this.readModels.read(q.minPosition, () => undefined);
    const [events, head] = await Promise.all([this.store.readStream<ProgramEvent>(PROGRAM_STREAM_ID), this.store.headPosition()]);
    const last: TierProgramDefined | undefined = events[events.length - 1];
    return { position: head, value: last ? { ...last.data } : DEFAULT_PROGRAM };
  }
}
