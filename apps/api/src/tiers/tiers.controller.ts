import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '#events/envelope.js';
import { NotFound } from '#libs/kernel/errors.js';
import { isCurrency } from '#libs/money/currency.js';
import { priceWaterfall, type Waterfall } from '#libs/tiers/waterfall.js';
import { getPartner } from '#projections/partners/partners.queries.js';
import { getTierStanding, listTierStandings, type TierStanding } from '#projections/tier-standings/tier-standings.queries.js';
import { contextOf, minPositionOf } from '../ledger/http-context.js';
import { LedgerIdPipe } from '../ledger/id.pipe.js';
import { DEAL_DIRECTORY, type DealDirectory } from '../ledger/lookups.js';
import { ReadModels } from '../ledger/read-models.js';
import { commandResponse } from '../ledger/responses.js';
import { CLOCK, type Clock } from '../ledger/tokens.js';
import { parseLedgerTime } from '../ledger/validation.js';
import { Allow, assertPartnerAccess, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { ProblemException } from '../platform/problem.js';
import { ProgramService } from '../program/program.service.js';
import { ListStandingsQueryDto, StandingQueryDto, TierEvaluationDto, WaterfallQueryDto } from './tiers.dto.js';
import { changesOf, EvaluateTiersCommand, type EvaluationOutcome } from './tiers.handlers.js';
import { PriceWaterfallResponse, TierEvaluationResponse, TierStandingPageResponse, TierStandingResponse } from './tiers.responses.js';

@ApiTags('tiers')
@ApiBearerAuth()
@Controller('v1')
export class TiersController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ProgramService) private readonly programs: ProgramService,
    @Inject(DEAL_DIRECTORY) private readonly deals: DealDirectory,
  ) {}

  @Post('tier-evaluations')
  @ApiOkResponse({ type: TierEvaluationResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Evaluate every partner as of a business time: promotions, scheduled downgrades, demotions' })
  async evaluate(@Body() body: TierEvaluationDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const asOf = new Date(parseLedgerTime(body.asOf)!);
    const outcome: EvaluationOutcome = await this.commands.execute(new EvaluateTiersCommand(contextOf(req, actor), asOf));
    return commandResponse({ position: outcome.position, events: outcome.events, replayed: false }, { asOf: asOf.toISOString(), evaluated: outcome.evaluated, changes: changesOf(outcome.events) });
  }

  @Get('tier-standings/:partnerId')
  @ApiOkResponse({ type: TierStandingResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: "A partner's tier standing as of a business time (default now)" })
  async standing(@Param('partnerId', LedgerIdPipe) partnerId: string, @Query() q: StandingQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<TierStanding> {
    assertPartnerAccess(actor, partnerId);
    const asOf = q.asOf ? new Date(parseLedgerTime(q.asOf)!) : this.clock.now();
    const r = await this.readModels.read(minPositionOf(q.minPosition), (db) => getTierStanding(db, partnerId, asOf));
    if (!r.value) throw new NotFound(`partner ${partnerId} not found`);
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }

  @Get('tier-standings')
  @ApiOkResponse({ type: TierStandingPageResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'Tier standings, filtered by current tier, paged' })
  async standings(@Query() q: ListStandingsQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply) {
    const partnerId = visiblePartnerFilter(actor, q.partnerId);
    const asOf = q.asOf ? new Date(parseLedgerTime(q.asOf)!) : this.clock.now();
    const r = await this.readModels.read(minPositionOf(q.minPosition), (db) =>
      listTierStandings(db, { tier: q.tier, limit: q.limit, cursor: q.cursor, ...(partnerId !== undefined ? { partnerId } : {}) }, asOf),
    );
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }

  @Get('partners/:id/price-waterfall')
  @ApiOkResponse({ type: PriceWaterfallResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'What the partner pays: list price, tier discount, deal-registration layer, net' })
  async waterfall(@Param('id', LedgerIdPipe) partnerId: string, @Query() q: WaterfallQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<Waterfall & { currency: string; tier: string; programVersion: number }> {
    assertPartnerAccess(actor, partnerId);
    if (!isCurrency(q.currency)) throw ProblemException.validationFailed('currency is not an ISO 4217 currency', [{ path: 'currency', message: 'must be an ISO 4217 code such as USD' }]);
    const listPriceMinor = Number(q.listPriceMinor);
    if (!Number.isSafeInteger(listPriceMinor)) throw ProblemException.validationFailed('listPriceMinor is too large', [{ path: 'listPriceMinor', message: 'must be a safe integer' }]);
    const now = this.clock.now();
    const r = await this.readModels.read(minPositionOf(q.minPosition), (db) => ({ partner: getPartner(db, partnerId, now) }));
    if (!r.value.partner) throw new NotFound(`partner ${partnerId} not found`);
    const program = await this.programs.inForce();
    const tier = program.tiers.find((t) => t.name === r.value.partner!.tier);
    const layers: { kind: 'tier-discount' | 'deal-registration'; bps: number }[] = [{ kind: 'tier-discount', bps: tier?.discountBps ?? 0 }];
    if (q.dealId !== undefined) {
      const deal = await this.deals.find(q.dealId);
      // Only the partner holding the approved registration, while it is protected, earns the layer.
      const held = deal !== undefined && deal.partnerId === partnerId && deal.status === 'approved' && deal.protectedUntil !== undefined && Date.parse(deal.protectedUntil) >= now.getTime();
      // A program whose discounts add up past 100% gives the registration what is left, never more.
      if (held) layers.push({ kind: 'deal-registration', bps: Math.min(program.dealRegistrationDiscountBps, 10_000 - layers[0]!.bps) });
    }
    void reply.header('Ledger-Position', r.position.toString());
    return { ...priceWaterfall(listPriceMinor, layers), currency: q.currency, tier: r.value.partner.tier, programVersion: program.version };
  }
}
