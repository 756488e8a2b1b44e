import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PartnerType } from '#events/partners.js';
import { decideClaim, domainClaimStreamId, foldClaims, type ClaimHolder } from '#libs/partners/domain-claim.js';
import { requireRegistrableDomain } from '#libs/partners/domain-name.js';
import { partnerDecider, partnerStreamId, type PartnerCommand } from '#libs/partners/partner.js';
import { lowestTier } from '#libs/program/program.js';
import { PROGRAM_STREAM_ID } from '#events/program.js';
import { programEffectiveAt, programTimeline } from '#libs/tiers/program-timeline.js';
import { lowestTierFor } from '#libs/tiers/qualification.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { CommandPipeline } from './pipeline.js';
import { CLOCK, type Clock } from './tokens.js';

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

/**
 * Enrollment spans two streams: the domain claim (uniqueness among live partners) and the partner's own stream.
 * The pipeline decides the enrollment once (a taken partner id is refused before any claim), claims, appends.
 */
@CommandHandler(EnrollPartnerCommand)
export class EnrollPartnerHandler implements ICommandHandler<EnrollPartnerCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ ctx, data }: EnrollPartnerCommand): Promise<CommandOutcome> {
    const domain = requireRegistrableDomain(data.domain, 'domain');
    // Tier program v2: the ladder of the partner's type, in the version effective now.
    const program = programEffectiveAt(await this.pipeline.state(PROGRAM_STREAM_ID, programTimeline), this.clock.now());
    const tier = lowestTierFor(program, data.type) ?? lowestTier(program);
    const enroll: PartnerCommand = { type: 'EnrollPartner', data: { ...data, domain, tier: tier.name, programVersion: program.version } };
    return this.pipeline.handleWithClaim(ctx, partnerStreamId(data.partnerId), partnerDecider, enroll, {
      streamId: domainClaimStreamId(domain),
      decide: async (events) => {
        const state = foldClaims(events);
        let holder: ClaimHolder = { exists: false, claimedAgoMs: 0 };
        if (state.status === 'claimed' && state.partnerId !== data.partnerId) {
          const h = await this.pipeline.state(partnerStreamId(state.partnerId), partnerDecider);
          holder = {
            exists: h.status !== 'none',
            ...(h.status !== 'none' ? { status: h.status, domain: h.domain } : {}),
            claimedAgoMs: this.clock.now().getTime() - Date.parse(state.claimedAt),
          };
        }
        return decideClaim({ partnerId: data.partnerId, domain }, state, holder);
      },
    });
  }
}

@CommandHandler(PartnerCommandMessage)
export class PartnerCommandHandler implements ICommandHandler<PartnerCommandMessage, CommandOutcome> {
  constructor(@Inject(CommandPipeline) private readonly pipeline: CommandPipeline) {}

  execute({ ctx, command }: PartnerCommandMessage): Promise<CommandOutcome> {
    return this.pipeline.handle(ctx, partnerStreamId(command.data.partnerId), partnerDecider, command);
  }
}

export const PARTNER_COMMAND_HANDLERS = [EnrollPartnerHandler, PartnerCommandHandler];
