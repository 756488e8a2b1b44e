import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Actor } from '#events/envelope.js';
import { REPLAYABLE_READ_MODELS } from '#projections/replay/read-models.js';
import { Allow, CurrentActor } from '../platform/auth/access.js';
import { ProblemException } from '../platform/problem.js';
import { LogPositionInterceptor } from './log-position.interceptor.js';
import {
  AuditEventsPageDto,
  AuditEventsQueryDto,
  AuditStreamPageDto,
  AuditStreamQueryDto,
  ConsistencyProofDto,
  ConsistencyQueryDto,
  DEFAULT_PAGE,
  DigestDto,
  DigestQueryDto,
  ExportQueryDto,
  InclusionProofDto,
  InclusionQueryDto,
  NoQueryDto,
  PublicKeyDto,
  STREAM_ID,
  VerifyDto,
  VerifyResultDto,
} from './audit.dto.js';
import { AuditService } from './audit.service.js';

const MIN_POSITION = { name: 'minPosition', required: false, description: 'Answer only once the log has reached this position (503 not-caught-up after the consistency timeout).', example: '1' };

/**
 * `/v1/audit/*` (API.md, "Audit"): admin and auditor only. Channel ops may query every read model but not
 * these (API.md, "Who may do what"), and no partner key reaches them. `Ledger-Position` is the log's
 * head when the request was served: these endpoints read the log itself, not a read model.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Allow('auditor')
@Controller('v1/audit')
@UseInterceptors(LogPositionInterceptor)
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get('events')
  @ApiQuery(MIN_POSITION)
  @ApiOperation({ summary: 'Events in log order, full envelope, paged by position' })
  @ApiOkResponse({ type: AuditEventsPageDto })
  async events(@Query() query: AuditEventsQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const head = await this.audit.head();
    const page = await this.audit.events(
      {
        from: BigInt(query.fromPosition ?? '0'),
        limit: query.limit ?? DEFAULT_PAGE,
        types: query.type?.split(','),
        streamId: query.streamId,
      },
      head,
    );
    void reply.header('Ledger-Position', head.toString());
    return page;
  }

  @Get('streams/:streamId')
  @ApiQuery(MIN_POSITION)
  @ApiOperation({ summary: "One stream's events in revision order, paged" })
  @ApiParam({ name: 'streamId', example: 'partner-P-1001' })
  @ApiOkResponse({ type: AuditStreamPageDto })
  async stream(@Param('streamId') streamId: string, @Query() query: AuditStreamQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    if (!STREAM_ID.test(streamId)) {
      throw ProblemException.validationFailed('The stream id in the path is not a valid stream id.', [{ path: 'streamId', message: `must match ${STREAM_ID.source}` }]);
    }
    const head = await this.audit.head();
    const page = await this.audit.stream(streamId, BigInt(query.cursor ?? '0'), query.limit ?? DEFAULT_PAGE);
    void reply.header('Ledger-Position', head.toString());
    return { streamId, ...page };
  }

  @Get('digest')
  @ApiQuery(MIN_POSITION)
  @ApiOperation({ summary: 'The tree head (now, at `size` events or up to `position`) and its signed checkpoint: a value to keep outside the ledger' })
  @ApiOkResponse({ type: DigestDto })
  async digest(@Query() query: DigestQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    if (query.size !== undefined && query.position !== undefined) {
      throw ProblemException.validationFailed('Give size or position, not both.', [{ path: 'position', message: 'size and position exclude each other' }]);
    }
    const d = await this.audit.digest({ size: query.size === undefined ? undefined : Number(query.size), position: query.position === undefined ? undefined : BigInt(query.position) });
    void reply.header('Ledger-Position', d.position);
    return d;
  }

  @Get('proofs/inclusion')
  @ApiQuery(MIN_POSITION)
  @ApiOperation({ summary: 'RFC 9162 inclusion proof: the event at `position` is in the tree of `size` events' })
  @ApiOkResponse({ type: InclusionProofDto })
  async inclusion(@Query() query: InclusionQueryDto) {
    return this.audit.inclusionProof(BigInt(query.position), query.size === undefined ? undefined : Number(query.size));
  }

  @Get('proofs/consistency')
  @ApiQuery(MIN_POSITION)
  @ApiOperation({ summary: 'RFC 9162 consistency proof: the tree of `from` events is a prefix of the tree of `to` events' })
  @ApiOkResponse({ type: ConsistencyProofDto })
  async consistency(@Query() query: ConsistencyQueryDto) {
    return this.audit.consistencyProof(Number(query.from), query.to === undefined ? undefined : Number(query.to));
  }

  @Get('public-key')
  @ApiQuery(MIN_POSITION)
  @ApiOperation({ summary: 'The Ed25519 key that signs checkpoints (JWK and signed-note verifier key)' })
  @ApiOkResponse({ type: PublicKeyDto })
  publicKey(@Query() _query: NoQueryDto) {
    return this.audit.publicKey();
  }

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Recompute the hash chain and the Merkle tree (up to `position`); compare a kept digest or tree head (`size`, `rootHash`)' })
  @ApiOkResponse({ type: VerifyResultDto })
  async verify(@Body() body: VerifyDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const r = await this.audit.verify({
      position: body.position === undefined ? undefined : BigInt(body.position),
      digest: body.digest,
      size: body.size === undefined ? undefined : Number(body.size),
      rootHash: body.rootHash,
    });
    void reply.header('Ledger-Position', String(r.position));
    return r;
  }

  @Get('replay')
  @ApiQuery(MIN_POSITION)
  @ApiOperation({
    summary: 'A read model as it stood at record time `asOf`, rebuilt in memory from the log alone',
    description:
      'Takes `projection`, `asOf` and the replayed query\'s own parameters, and answers what that query answers. ' +
      'The events applied are the longest prefix of the log recorded at or before `asOf` (the replay stops at the first event recorded later); ' +
      '`Ledger-Position` is the last position applied. Query functions that depend on the time run with `now` = `asOf`. ' +
      `Replayable: ${REPLAYABLE_READ_MODELS.map((r) => `\`${r.name}\` (${r.params.join(', ') || 'no parameters'})`).join('; ')}.`,
  })
  @ApiQuery({ name: 'projection', required: true, enum: REPLAYABLE_READ_MODELS.map((r) => r.name) })
  @ApiQuery({ name: 'asOf', required: true, description: 'Record time: ISO 8601 date or UTC date-time', example: '2026-03-31T12:00:00Z' })
  @ApiOkResponse({ description: 'The replayed query\'s answer, in the shape of its live endpoint', schema: { type: 'object', additionalProperties: true } })
  async replay(@Query() query: Record<string, unknown>, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply) {
    const r = await this.audit.replay(query, actor);
    void reply.header('Ledger-Position', r.position.toString());
    void reply.header('Ledger-As-Of', r.asOf);
    return r.value;
  }

  @Get('export')
  @ApiQuery(MIN_POSITION)
  @ApiOperation({
    summary: 'The log as NDJSON: a header line, one wire envelope per line, a trailer line; streamed',
    description:
      'First line `{ format, version, fromPosition, head }`, last line `{ count, size, rootHash, head }` (the tree head at `head`): a file without its trailer was cut short. ' +
      'Ends at the head of the log when the request started (`Ledger-Position`); `ledger import` loads it into an empty store, all or nothing.',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'One envelope (see `/docs/events`) per line', content: { 'application/x-ndjson': { schema: { type: 'string' } } } })
  async export(@Query() query: ExportQueryDto, @Res() reply: FastifyReply): Promise<void> {
    const head = await this.audit.head();
    const stream = this.audit.exportStream(BigInt(query.fromPosition ?? '0'), head);
    await reply
      .header('Content-Type', 'application/x-ndjson; charset=utf-8')
      .header('Ledger-Position', head.toString())
      .header('Cache-Control', 'no-store')
      .send(stream);
  }
}
