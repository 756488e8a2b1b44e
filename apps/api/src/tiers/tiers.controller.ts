import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query as Q, Req, Res } from '@nestjs/common';
import type { CatalogEntry } from '#libs/partners/certification-catalog.js';
import { DefineCertificationCommand } from '#libs/ledger/certifications.commands.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { CatalogNamePipe } from './certification-name.pipe.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '#events/envelope.js';
import { changesOf, EvaluateTiersCommand, heldOf, type EvaluationOutcome } from '#libs/ledger/tiers.commands.js';
import { isCurrency } from '#libs/money/currency.js';
import type { TierStanding } from '#projections/tier-standings/tier-standings.queries.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { LedgerIdPipe } from '../http/id.pipe.js';
import { commandResponse } from '../http/responses.js';
import { parseLedgerTime } from '../http/validation.js';
import { Allow, assertPartnerAccess, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { ProblemException } from '../platform/problem.js';
import { DefineCertificationDto, ListStandingsQueryDto, StandingQueryDto, TierEvaluationDto, WaterfallQueryDto } from './tiers.dto.js';
import { CertificationCatalogQuery, GetStandingQuery, ListStandingsQuery, PriceWaterfallQuery, type TierStandingPage, type WaterfallView } from './tiers.handlers.js';
import { CertificationCatalogResponse, CertificationDefinedResponse, PriceWaterfallResponse, TierEvaluationResponse, TierStandingPageResponse, TierStandingResponse } from './tiers.responses.js';

@ApiTags('tiers')
@ApiBearerAuth()
@Controller('v1')
export class TiersController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post('tier-evaluations')
  @ApiOkResponse({ type: TierEvaluationResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Evaluate every partner as of a business time: promotions, scheduled downgrades, demotions' })
  async evaluate(@Body() body: TierEvaluationDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const asOf = new Date(parseLedgerTime(body.asOf)!);
    const outcome: EvaluationOutcome = await this.commands.execute(new EvaluateTiersCommand(contextOf(req, actor), asOf));
    return commandResponse({ position: outcome.position, events: outcome.events, replayed: false }, { asOf: asOf.toISOString(), evaluated: outcome.evaluated, changes: changesOf(outcome.events), held: heldOf(outcome.events) });
  }

  @Get('tier-standings/:partnerId')
  @ApiOkResponse({ type: TierStandingResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: "A partner's tier standing as of a business time (default now)" })
  async standing(@Param('partnerId', LedgerIdPipe) partnerId: string, @Q() q: StandingQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<TierStanding> {
    assertPartnerAccess(actor, partnerId);
    return answer(reply, await this.queries.execute(new GetStandingQuery(partnerId, asOfOf(q.asOf), minPositionOf(q.minPosition), asOfOf(q.knownAt))));
  }

  @Get('tier-standings')
  @ApiOkResponse({ type: TierStandingPageResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'Tier standings, filtered by current tier, paged' })
  async standings(@Q() q: ListStandingsQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<TierStandingPage> {
    const partnerId = visiblePartnerFilter(actor, q.partnerId);
    const filter = { tier: q.tier, limit: q.limit, cursor: q.cursor, ...(partnerId !== undefined ? { partnerId } : {}) };
    return answer(reply, await this.queries.execute(new ListStandingsQuery(filter, asOfOf(q.asOf), minPositionOf(q.minPosition), asOfOf(q.knownAt))));
  }

  @Put('certifications/:name')
  @ApiOkResponse({ type: CertificationDefinedResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Define (or redefine) a certification of the catalog: once the catalog has an entry, only its names certify' })
  async defineCertification(@Param('name', CatalogNamePipe) name: string, @Body() body: DefineCertificationDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new DefineCertificationCommand(contextOf(req, actor), { name, title: body.title, validityDays: body.validityDays }));
    return commandResponse(outcome, { name, title: body.title, validityDays: body.validityDays });
  }

  @Get('certifications')
  @ApiOkResponse({ type: CertificationCatalogResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @ApiOperation({ summary: 'The certification catalog' })
  async certifications(@Q() q: PositionQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ items: CatalogEntry[] }> {
    return answer(reply, await this.queries.execute(new CertificationCatalogQuery(minPositionOf(q.minPosition))));
  }

  @Get('partners/:id/price-waterfall')
  @ApiOkResponse({ type: PriceWaterfallResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'What the partner pays: list price, tier discount, deal-registration layer, net' })
  async waterfall(@Param('id', LedgerIdPipe) partnerId: string, @Q() q: WaterfallQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<WaterfallView> {
    assertPartnerAccess(actor, partnerId);
    if (!isCurrency(q.currency)) throw ProblemException.validationFailed('currency is not an ISO 4217 currency', [{ path: 'currency', message: 'must be an ISO 4217 code such as USD' }]);
    const listPriceMinor = Number(q.listPriceMinor);
    if (!Number.isSafeInteger(listPriceMinor)) throw ProblemException.validationFailed('listPriceMinor is too large', [{ path: 'listPriceMinor', message: 'must be a safe integer' }]);
    return answer(reply, await this.queries.execute(new PriceWaterfallQuery(partnerId, listPriceMinor, q.currency, q.dealId, minPositionOf(q.minPosition))));
  }
}

const asOfOf = (asOf: string | undefined): Date | undefined => (asOf ? new Date(parseLedgerTime(asOf)!) : undefined);

function answer<T>(reply: FastifyReply, r: { position: bigint; value: T }): T {
  void reply.header('Ledger-Position', r.position.toString());
  return r.value;
}
