import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '#events/envelope.js';
import type { PartnerCommand } from '#libs/partners/partner.js';
import type { PartnerPage, PartnerView } from '#projections/partners/partners.queries.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { commandResponse } from '../http/responses.js';
import { Allow, assertPartnerAccess, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { LedgerIdPipe } from '../http/id.pipe.js';
import { CertifySellerDto, EmptyDto, EnrollPartnerDto, ListPartnersQueryDto, OptionalReasonDto, ReasonDto, TierOverrideDto } from './partners.dto.js';
import { OverrideTierCommand } from '#libs/ledger/tiers.commands.js';
import { CertificationNamePipe } from '../tiers/certification-name.pipe.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { EnrollPartnerCommand, PartnerCommandMessage } from '#libs/ledger/partners.commands.js';
import { GetPartnerQuery, ListPartnersQuery } from './partners.handlers.js';
import { parseLedgerTime } from '../http/validation.js';
import { CertificationResponse, CertificationRevokedResponse, PartnerCommandResponse, TierOverrideResponse, PartnerPageResponse, PartnerResponse } from './partners.responses.js';

const STATUS_AFTER: Record<string, string> = {
  PartnerActivated: 'active',
  PartnerSuspended: 'suspended',
  PartnerReinstated: 'active',
  PartnerTerminated: 'terminated',
};

@ApiTags('partners')
@ApiBearerAuth()
@Controller('v1/partners')
export class PartnersController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: PartnerCommandResponse })
  @HttpCode(201)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Enroll a partner (status pending)' })
  async enroll(@Body() body: EnrollPartnerDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new EnrollPartnerCommand(contextOf(req, actor), body));
    const enrolled = outcome.events.find((e) => e.type === 'PartnerEnrolled');
    return commandResponse(outcome, { partnerId: body.partnerId, status: 'pending', domain: (enrolled?.data as { domain?: string } | undefined)?.domain });
  }

  @Post(':id/activate')
  @ApiOkResponse({ type: PartnerCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Activate a pending partner' })
  activate(@Param('id', LedgerIdPipe) id: string, @Body() _body: EmptyDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.lifecycle(req, actor, { type: 'ActivatePartner', data: { partnerId: id } });
  }

  @Post(':id/suspend')
  @ApiOkResponse({ type: PartnerCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Suspend an active partner' })
  suspend(@Param('id', LedgerIdPipe) id: string, @Body() body: ReasonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.lifecycle(req, actor, { type: 'SuspendPartner', data: { partnerId: id, reason: body.reason } });
  }

  @Post(':id/reinstate')
  @ApiOkResponse({ type: PartnerCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Reinstate a suspended partner' })
  reinstate(@Param('id', LedgerIdPipe) id: string, @Body() body: OptionalReasonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.lifecycle(req, actor, { type: 'ReinstatePartner', data: { partnerId: id, ...(body.reason !== undefined ? { reason: body.reason } : {}) } });
  }

  @Post(':id/terminate')
  @ApiOkResponse({ type: PartnerCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Terminate a partner (final)' })
  terminate(@Param('id', LedgerIdPipe) id: string, @Body() body: ReasonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.lifecycle(req, actor, { type: 'TerminatePartner', data: { partnerId: id, reason: body.reason } });
  }

  @Post(':id/certifications')
  @ApiCreatedResponse({ type: CertificationResponse })
  @HttpCode(201)
  @Allow('channel-ops')
  @ApiOperation({ summary: "Record a seller's certification" })
  async certify(@Param('id', LedgerIdPipe) id: string, @Body() body: CertifySellerDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const earnedAt = parseLedgerTime(body.earnedAt)!;
    const expiresAt = body.expiresAt === undefined ? undefined : parseLedgerTime(body.expiresAt)!;
    const command: PartnerCommand = {
      type: 'CertifySeller',
      data: { partnerId: id, sellerId: body.sellerId, certification: body.certification, earnedAt, ...(expiresAt !== undefined ? { expiresAt } : {}) },
    };
    const outcome: CommandOutcome = await this.commands.execute(new PartnerCommandMessage(contextOf(req, actor), command));
    return commandResponse(outcome, { partnerId: id, sellerId: body.sellerId });
  }

  @Post(':id/certifications/:sellerId/:certification/revoke')
  @ApiOkResponse({ type: CertificationRevokedResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: "Revoke a seller's certification (every instance of it in force): it no longer counts" })
  async revoke(
    @Param('id', LedgerIdPipe) id: string,
    @Param('sellerId', LedgerIdPipe) sellerId: string,
    @Param('certification', CertificationNamePipe) certification: string,
    @Body() body: ReasonDto,
    @Req() req: FastifyRequest,
    @CurrentActor() actor: Actor,
  ) {
    const outcome: CommandOutcome = await this.commands.execute(new PartnerCommandMessage(contextOf(req, actor), { type: 'RevokeCertification', data: { partnerId: id, sellerId, certification, reason: body.reason } }));
    return commandResponse(outcome, { partnerId: id, sellerId, certification });
  }

  @Post(':id/tier-override')
  @ApiOkResponse({ type: TierOverrideResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Hold the partner at a tier until a date, with a reason (evaluations do not move it meanwhile)' })
  async overrideTier(@Param('id', LedgerIdPipe) id: string, @Body() body: TierOverrideDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const until = parseLedgerTime(body.until)!;
    const outcome: CommandOutcome = await this.commands.execute(new OverrideTierCommand(contextOf(req, actor), { partnerId: id, tier: body.tier, reason: body.reason, until }));
    return commandResponse(outcome, { partnerId: id, tier: body.tier, until });
  }

  @Post(':id/tier-override/end')
  @ApiOkResponse({ type: TierOverrideResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: "End the partner's tier override: it is back on its own tier" })
  async endOverride(@Param('id', LedgerIdPipe) id: string, @Body() body: ReasonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new PartnerCommandMessage(contextOf(req, actor), { type: 'EndTierOverride', data: { partnerId: id, reason: body.reason } }));
    const ended = outcome.events.find((e) => e.type === 'PartnerTierOverrideEnded')?.data as { restoredTier?: string } | undefined;
    return commandResponse(outcome, { partnerId: id, ...(ended?.restoredTier !== undefined ? { tier: ended.restoredTier } : {}) });
  }

  @Get(':id')
  @ApiOkResponse({ type: PartnerResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'A partner as its read model stands' })
  async get(@Param('id', LedgerIdPipe) id: string, @Query() query: PositionQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<PartnerView> {
    assertPartnerAccess(actor, id);
    const r: { position: bigint; value: PartnerView } = await this.queries.execute(new GetPartnerQuery(id, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }

  @Get()
  @ApiOkResponse({ type: PartnerPageResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'Partners, filtered and paged' })
  async list(@Query() query: ListPartnersQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<PartnerPage> {
    const partnerId = visiblePartnerFilter(actor, undefined);
    const filter = { status: query.status, type: query.type, tier: query.tier, limit: query.limit, cursor: query.cursor, ...(partnerId !== undefined ? { partnerId } : {}) };
    const r: { position: bigint; value: PartnerPage } = await this.queries.execute(new ListPartnersQuery(filter, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }

  private async lifecycle(req: FastifyRequest, actor: Actor, command: Exclude<PartnerCommand, { type: 'EnrollPartner' | 'CertifySeller' | 'RevokeCertification' | 'OverrideTier' | 'EndTierOverride' }>) {
    const outcome: CommandOutcome = await this.commands.execute(new PartnerCommandMessage(contextOf(req, actor), command));
    const last = outcome.events[outcome.events.length - 1];
    return commandResponse(outcome, { partnerId: command.data.partnerId, ...(last ? { status: STATUS_AFTER[last.type] } : {}) });
  }
}
