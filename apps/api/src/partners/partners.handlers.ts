import { Inject } from '@nestjs/common';
import { CommandHandler, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { RecordedEvent } from '#events/envelope.js';
import type { PartnerEvent, PartnerType } from '#events/partners.js';
import type { EventStore } from '#libs/event-store/port.js';
import { AlreadyExists, InvalidInput, NotFound } from '#libs/kernel/errors.js';
import { fold } from '#libs/kernel/decider.js';
import { decideClaim, domainClaimStreamId, foldClaims } from '#libs/partners/domain-claim.js';
import { registrableDomain } from '#libs/partners/domain-name.js';
import { decidePartner, evolvePartner, initialPartnerState, partnerStreamId, type PartnerCommand, type PartnerState } from '#libs/partners/partner.js';
import { lowestTier } from '#libs/program/program.js';
import { ProgramService } from '../program/program.service.js';
import { getPartner, listPartners, type PartnerFilter, type PartnerPage, type PartnerView } from '#projections/partners/partners.queries.js';
import { CommandExecutor, type CommandContext, type CommandOutcome } from '../ledger/command-executor.js';
import { ReadModels } from '../ledger/read-models.js';
import { CLOCK, EVENT_STORE, type Clock } from '../ledger/tokens.js';

export class EnrollPartnerCommand {
  constructor(
    readonly ctx: CommandContext,
    readonly data: { partnerId: string; name: string; type: PartnerType; domain: string; country?: string },
  ) {}
}

export class PartnerCommandMessage {
  constructor(
    readonly ctx: CommandContext,
    readonly command: Exclude<PartnerCommand, { type: 'EnrollPartner' }>,
  ) {}
}

export class GetPartnerQuery {
  constructor(readonly partnerId: string, readonly minPosition?: bigint) {}
}

export class ListPartnersQuery {
  constructor(readonly filter: PartnerFilter, readonly minPosition?: bigint) {}
}

function partnerCommand(ctx: CommandContext, command: PartnerCommand) {
  return {
    streamId: partnerStreamId(command.data.partnerId),
    initialState: initialPartnerState,
    evolve: evolvePartner,
    decide: (s: PartnerState, now: Date) => decidePartner(command, s, now),
  };
}

/**
 * Enrollment spans two streams: the domain claim (uniqueness among live partners, decided against the
 * claim stream's revision) and then the partner's own stream. A run that crashed between the two is
 * finished by its retry, which finds its own claim.
 */
@CommandHandler(EnrollPartnerCommand)
export class EnrollPartnerHandler implements ICommandHandler<EnrollPartnerCommand, CommandOutcome> {
  constructor(
    @Inject(CommandExecutor) private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ProgramService) private readonly programs: ProgramService,
  ) {}

  async execute({ ctx, data }: EnrollPartnerCommand): Promise<CommandOutcome> {
    const enrolled = (events: readonly RecordedEvent[]) => events.some((e) => e.type === 'PartnerEnrolled');
    const earlier = await this.executor.findEarlier(ctx, enrolled);
    if (earlier) return earlier;
    const domain = registrableDomain(data.domain);
    if (domain === undefined) {
      throw new InvalidInput(`${JSON.stringify(data.domain)} has no registrable domain`, {}, [{ path: 'domain', message: 'must be a domain name under a public suffix, e.g. acme.co.uk' }]);
    }
    const program = await this.programs.inForce();
    const enroll: PartnerCommand = {
      type: 'EnrollPartner',
      data: { ...data, domain, tier: lowestTier(program).name, programVersion: program.version },
    };
    // Refuse a taken partner id before claiming a domain for it.
    const existing = await this.store.readStream(partnerStreamId(data.partnerId));
    if (existing.length && !existing.some((e) => e.metadata.commandId === ctx.commandId)) {
      throw new AlreadyExists(`partner ${data.partnerId} already exists`, { partnerId: data.partnerId });
    }
    // Every other refusal of the enrollment, before the claim is appended: a refused command appends nothing
    // (a claim without its enrollment would also hold the domain against others until it is abandoned).
    if (existing.length === 0) decidePartner(enroll, initialPartnerState(), this.clock.now());
    const claim = await this.claimDomain(ctx, data.partnerId, domain);
    const outcome = await this.executor.execute(ctx, partnerCommand(ctx, enroll), { isComplete: enrolled });
    return { ...outcome, events: [...claim, ...outcome.events.filter((e) => !claim.some((c) => c.eventId === e.eventId))] };
  }

  private async claimDomain(ctx: CommandContext, partnerId: string, domain: string): Promise<readonly RecordedEvent[]> {
    return this.executor.claim(
      ctx,
      domainClaimStreamId(domain),
      async (events) => {
        const state = foldClaims(events);
        let holder = { exists: false, claimedAgoMs: 0 } as { exists: boolean; status?: string; domain?: string; claimedAgoMs: number };
        if (state.status === 'claimed' && state.partnerId !== partnerId) {
          const h = fold(evolvePartner, initialPartnerState(), (await this.store.readStream(partnerStreamId(state.partnerId))) as unknown as PartnerEvent[]);
          holder = {
            exists: h.status !== 'none',
            ...(h.status !== 'none' ? { status: h.status, domain: h.domain } : {}),
            claimedAgoMs: this.clock.now().getTime() - Date.parse(state.claimedAt),
          };
        }
        return decideClaim({ partnerId, domain }, state, holder);
      },
      `domain ${domain} is being claimed concurrently; retry`,
    );
  }
}

@CommandHandler(PartnerCommandMessage)
export class PartnerCommandHandler implements ICommandHandler<PartnerCommandMessage, CommandOutcome> {
  constructor(@Inject(CommandExecutor) private readonly executor: CommandExecutor) {}

  execute({ ctx, command }: PartnerCommandMessage): Promise<CommandOutcome> {
    return this.executor.execute(ctx, partnerCommand(ctx, command));
  }
}

@QueryHandler(GetPartnerQuery)
export class GetPartnerHandler implements IQueryHandler<GetPartnerQuery, { position: bigint; value: PartnerView }> {
  constructor(
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(q: GetPartnerQuery): Promise<{ position: bigint; value: PartnerView }> {
    const r = await this.readModels.read(q.minPosition, (db) => getPartner(db, q.partnerId, this.clock.now()));
    if (!r.value) throw new NotFound(`partner ${q.partnerId} not found`);
    return { position: r.position, value: r.value };
  }
}

@QueryHandler(ListPartnersQuery)
export class ListPartnersHandler implements IQueryHandler<ListPartnersQuery, { position: bigint; value: PartnerPage }> {
  constructor(
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute(q: ListPartnersQuery): Promise<{ position: bigint; value: PartnerPage }> {
    return this.readModels.read(q.minPosition, (db) => listPartners(db, q.filter, this.clock.now()));
  }
}
