import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { NotFound } from '#libs/kernel/errors.js';
import { StreamDealDirectory } from '#libs/ledger/deal-directory.js';
import { certificationCatalog } from '#libs/ledger/certifications.commands.js';
import { CommandPipeline } from '#libs/ledger/pipeline.js';
import type { CatalogEntry } from '#libs/partners/certification-catalog.js';
import { CLOCK, type Clock } from '#libs/ledger/tokens.js';
import { PROGRAM_STREAM_ID } from '#events/program.js';
import { programEffectiveAt, programTimeline } from '#libs/tiers/program-timeline.js';
import { priceWaterfall, type SkippedLayer, type Waterfall } from '#libs/tiers/waterfall.js';
import { getPartner } from '#projections/partners/partners.queries.js';
import { ReadModels } from '#projections/runner/read-models.js';
import { getTierStanding, listTierStandings, type TierStanding, type TierStandingFilter } from '#projections/tier-standings/tier-standings.queries.js';

type Answer<T> = { position: bigint; value: T };
export type TierStandingPage = ReturnType<typeof listTierStandings>;

/** `asOf` undefined: now. */
/** `knownAt` undefined: `asOf` (what the ledger knew then, as the replay at that instant answers). */
export class GetStandingQuery {
  constructor(readonly partnerId: string, readonly asOf: Date | undefined, readonly minPosition?: bigint, readonly knownAt?: Date) {}
}

export class ListStandingsQuery {
  constructor(readonly filter: TierStandingFilter, readonly asOf: Date | undefined, readonly minPosition?: bigint, readonly knownAt?: Date) {}
}

export class PriceWaterfallQuery {
  constructor(readonly partnerId: string, readonly listPriceMinor: number, readonly currency: string, readonly dealId: string | undefined, readonly minPosition?: bigint) {}
}

export type WaterfallView = Omit<Waterfall, 'layers'> & { layers: readonly ((Waterfall['layers'][number] & { applies: true }) | SkippedLayer)[]; currency: string; tier: string; programVersion: number };

@QueryHandler(GetStandingQuery)
export class GetStandingHandler implements IQueryHandler<GetStandingQuery, Answer<TierStanding>> {
  constructor(
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(q: GetStandingQuery): Promise<Answer<TierStanding>> {
    const asOf = q.asOf ?? this.clock.now();
    const r = await this.readModels.read(q.minPosition, (db) => getTierStanding(db, q.partnerId, asOf, q.knownAt ?? asOf));
    if (!r.value) throw new NotFound(`partner ${q.partnerId} not found`);
    return { position: r.position, value: r.value };
  }
}

@QueryHandler(ListStandingsQuery)
export class ListStandingsHandler implements IQueryHandler<ListStandingsQuery, Answer<TierStandingPage>> {
  constructor(
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute(q: ListStandingsQuery): Promise<Answer<TierStandingPage>> {
    const asOf = q.asOf ?? this.clock.now();
    return this.readModels.read(q.minPosition, (db) => listTierStandings(db, q.filter, asOf, q.knownAt ?? asOf));
  }
}

/**
 * The layers of what a partner pays: its current tier's discount, and the deal-registration layer only for the
 * partner holding the approved registration of that deal while it is protected (the deal read from the log).
 */
@QueryHandler(PriceWaterfallQuery)
export class PriceWaterfallHandler implements IQueryHandler<PriceWaterfallQuery, Answer<WaterfallView>> {
  constructor(
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(StreamDealDirectory) private readonly deals: StreamDealDirectory,
  ) {}

  async execute(q: PriceWaterfallQuery): Promise<Answer<WaterfallView>> {
    const now = this.clock.now();
    const r = await this.readModels.read(q.minPosition, (db) => getPartner(db, q.partnerId, now));
    const partner = r.value;
    if (!partner) throw new NotFound(`partner ${q.partnerId} not found`);
    // Tier program v2: the version effective now (a version defined to apply later does not price yet).
    const program = programEffectiveAt(await this.pipeline.state(PROGRAM_STREAM_ID, programTimeline), now);
    const tierBps = program.tiers.find((t) => t.name === partner.tier)?.discountBps ?? 0;
    const layers: { kind: 'tier-discount' | 'deal-registration'; bps: number }[] = [{ kind: 'tier-discount', bps: tierBps }];
    let skipped: SkippedLayer | undefined;
    const skip = (reason: SkippedLayer['reason'], detail: string): SkippedLayer => ({ kind: 'deal-registration', bps: 0, amountMinor: 0, applies: false, reason, detail });
    if (q.dealId === undefined) skipped = skip('no-deal-given', 'no dealId was given: the deal-registration layer applies to a deal registered and protected for this partner');
    else {
      const deal = await this.deals.find(q.dealId);
      // Another partner's deal and an unknown one answer alike: nothing of other partners leaks.
      if (deal === undefined || deal.partnerId !== q.partnerId) skipped = skip('not-registered-by-partner', 'the deal is not one this partner registered');
      else if (deal.status !== 'approved') skipped = skip('not-approved', `the registration of deal ${q.dealId} is ${deal.status}, not approved`);
      else if (deal.protectedUntil === undefined || Date.parse(deal.protectedUntil) < now.getTime()) {
        skipped = skip('protection-lapsed', `the registration of deal ${q.dealId} still shows approved, but its protection lapsed at ${deal.protectedUntil ?? 'an unknown time'}`);
      }
      // A program whose discounts add up past 100% gives the registration what is left, never more.
      else layers.push({ kind: 'deal-registration', bps: Math.min(program.dealRegistrationDiscountBps, 10_000 - tierBps) });
    }
    const priced = priceWaterfall(q.listPriceMinor, layers);
    const shown = [...priced.layers.map((l) => ({ ...l, applies: true as const })), ...(skipped ? [skipped] : [])];
    return { position: r.position, value: { ...priced, layers: shown, currency: q.currency, tier: partner.tier, programVersion: program.version } };
  }
}

export class CertificationCatalogQuery {
  constructor(readonly minPosition?: bigint) {}
}

/** The catalog, read from its stream (always current) once the read models reached `minPosition`. */
@QueryHandler(CertificationCatalogQuery)
export class CertificationCatalogHandler implements IQueryHandler<CertificationCatalogQuery, Answer<{ items: CatalogEntry[] }>> {
  constructor(
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
  ) {}

  async execute(q: CertificationCatalogQuery): Promise<Answer<{ items: CatalogEntry[] }>> {
    const { position } = await this.readModels.read(q.minPosition, () => undefined);
    return { position, value: { items: await certificationCatalog(this.pipeline) } };
  }
}

export const TIER_QUERY_HANDLERS = [GetStandingHandler, ListStandingsHandler, PriceWaterfallHandler, CertificationCatalogHandler];
