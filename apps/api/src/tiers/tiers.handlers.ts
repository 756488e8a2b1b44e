import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { NotFound } from '#libs/kernel/errors.js';
import { StreamDealDirectory } from '#libs/ledger/deal-directory.js';
import { ProgramInForce } from '#libs/ledger/program.commands.js';
import { certificationCatalog } from '#libs/ledger/certifications.commands.js';
import { CommandPipeline } from '#libs/ledger/pipeline.js';
import type { CatalogEntry } from '#libs/partners/certification-catalog.js';
import { CLOCK, type Clock } from '#libs/ledger/tokens.js';
import { priceWaterfall, type Waterfall } from '#libs/tiers/waterfall.js';
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

export type WaterfallView = Waterfall & { currency: string; tier: string; programVersion: number };

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
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
    @Inject(StreamDealDirectory) private readonly deals: StreamDealDirectory,
  ) {}

  async execute(q: PriceWaterfallQuery): Promise<Answer<WaterfallView>> {
    const now = this.clock.now();
    const r = await this.readModels.read(q.minPosition, (db) => getPartner(db, q.partnerId, now));
    const partner = r.value;
    if (!partner) throw new NotFound(`partner ${q.partnerId} not found`);
    const program = await this.programs.get();
    const tierBps = program.tiers.find((t) => t.name === partner.tier)?.discountBps ?? 0;
    const layers: { kind: 'tier-discount' | 'deal-registration'; bps: number }[] = [{ kind: 'tier-discount', bps: tierBps }];
    if (q.dealId !== undefined) {
      const deal = await this.deals.find(q.dealId);
      const held = deal !== undefined && deal.partnerId === q.partnerId && deal.status === 'approved' && deal.protectedUntil !== undefined && Date.parse(deal.protectedUntil) >= now.getTime();
      // A program whose discounts add up past 100% gives the registration what is left, never more.
      if (held) layers.push({ kind: 'deal-registration', bps: Math.min(program.dealRegistrationDiscountBps, 10_000 - tierBps) });
    }
    return { position: r.position, value: { ...priceWaterfall(q.listPriceMinor, layers), currency: q.currency, tier: partner.tier, programVersion: program.version } };
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
