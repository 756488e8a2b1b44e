import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PartnerType } from '#events/partners.js';
import { domainClaimDecider, domainClaimStreamId, foldClaims, type ClaimHolder } from '#libs/partners/domain-claim.js';
import { requireRegistrableDomain } from '#libs/partners/domain-name.js';
import { CERTIFICATION_CATALOG_STREAM_ID } from '#events/partners.js';
import { catalogValidity, certificationCatalogDecider } from '#libs/partners/certification-catalog.js';
import { holdsSeller, partnerDecider, partnerStreamId, type CertifySeller, type PartnerCommand } from '#libs/partners/partner.js';
import { decideSellerClaim, holderStillHolds, sellerClaimStreamId, sellerHolder } from '#libs/partners/seller-claim.js';
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
      latestHolds: true,
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
        return domainClaimDecider.decide({ partnerId: data.partnerId, domain, holder }, state, this.clock.now());
      },
    });
  }
}

@CommandHandler(PartnerCommandMessage)
export class PartnerCommandHandler implements ICommandHandler<PartnerCommandMessage, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute({ ctx, command }: PartnerCommandMessage): Promise<CommandOutcome> {
    if (command.type === 'CertifySeller') return this.certify(ctx, command);
    return this.pipeline.handle(ctx, partnerStreamId(command.data.partnerId), partnerDecider, command);
  }

  /**
   * Tier program v2: the name must be in the catalog once it has entries (its validity bounds the expiry), and a
   * seller counts for one partner at a time: certifying claims the seller's stream, decided against its revision,
   * so two partners certifying one seller at once cannot both win.
   */
  private async certify(ctx: CommandContext, command: CertifySeller): Promise<CommandOutcome> {
    const catalog = await this.pipeline.state(CERTIFICATION_CATALOG_STREAM_ID, certificationCatalogDecider);
    const validityDays = catalogValidity(catalog, command.data.certification);
    const { partnerId, sellerId } = command.data;
    const certify: CertifySeller = { ...command, data: { ...command.data, ...(validityDays !== undefined ? { validityDays } : {}) } };
    return this.pipeline.handleWithClaim(ctx, partnerStreamId(partnerId), partnerDecider, certify, {
      streamId: sellerClaimStreamId(sellerId),
      latestHolds: true,
      decide: async (events) => {
        const holder = sellerHolder(events);
        if (holder === undefined || holder === partnerId) return decideSellerClaim(sellerId, partnerId, holder, false);
        const now = this.clock.now();
        const state = await this.pipeline.state(partnerStreamId(holder), partnerDecider);
        const everCertified = state.status !== 'none' && state.certifications.some((c) => c.sellerId === sellerId);
        const claimedAt = events[events.length - 1]!.metadata.recordedAt;
        return decideSellerClaim(sellerId, partnerId, holder, holderStillHolds(holdsSeller(state, sellerId, now.getTime()), everCertified, claimedAt, now));
      },
    });
  }
}

export const PARTNER_COMMAND_HANDLERS = [EnrollPartnerHandler, PartnerCommandHandler];
