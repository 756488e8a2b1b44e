import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { stringify } from 'csv-stringify/sync';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '#events/envelope.js';
import { wantsCsv } from '../attribution/attribution.controller.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { LedgerIdPipe } from '../http/id.pipe.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { Allow, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { IssueStatementDto, ListStatementsQueryDto, VerifyStatementDto } from './statements.dto.js';
import { StatementListResponse, StatementResponse, StatementVerificationResponse } from './statements.responses.js';
import { StatementsService, type StatementView } from './statements.service.js';

const CSV_COLUMNS = ['statementId', 'partnerId', 'period', 'position', 'path', 'issued', 'now'];

/** Leaf values of the content by dotted path (array items by index), in the content's own order. */
function leaves(value: unknown, prefix: string, into: [string, unknown][]): [string, unknown][] {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) into.push([prefix, value]);
    for (const [k, v] of entries) leaves(v, prefix === '' ? k : `${prefix}.${k}`, into);
  } else into.push([prefix, value]);
  return into;
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * A statement for finance as CSV: one row per content line, as issued and as the log shows it now (restated
 * lines differ; a line only now present comes last). Header row with the column names, RFC 4180 quoting.
 */
function statementCsv(reply: FastifyReply, s: StatementView): string {
  const now = new Map(s.restatement.changes.map((c) => [c.path, c.now]));
  const seen = new Set<string>();
  const rows = leaves(s.content, '', []).map(([path, issued]) => {
    seen.add(path);
    return [s.statementId, s.partnerId, s.period, s.position, path, cell(issued), cell(now.has(path) ? now.get(path) : issued)];
  });
  for (const c of s.restatement.changes) if (!seen.has(c.path)) rows.push([s.statementId, s.partnerId, s.period, s.position, c.path, cell(c.issued), cell(c.now)]);
  void reply.header('Vary', 'Accept');
  void reply.type('text/csv; charset=utf-8');
  return stringify(rows, { header: true, columns: CSV_COLUMNS });
}

@ApiTags('statements')
@ApiBearerAuth()
@Controller('v1/statements')
export class StatementsController {
  constructor(@Inject(StatementsService) private readonly statements: StatementsService) {}

  @Post()
  @Allow('finance')
  @ApiCreatedResponse({ type: StatementResponse })
  @ApiOperation({
    summary: 'Issue a partner statement for a period at the head of the log (PartnerStatementIssued): content, tree head, versions, content hash, Ed25519 signature',
    description: 'The same statementId again for the same partner and period answers the statement already issued (nothing appended); for another partner or period → 409 `already-exists`. A partner not enrolled → 404.',
  })
  async issue(@Body() body: IssueStatementDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<StatementView> {
    const outcome = await this.statements.issue(contextOf(req, actor), { statementId: body.statementId, partnerId: body.partnerId, period: body.period });
    const r = await this.statements.get(body.statementId);
    void reply.header('Ledger-Position', (outcome.events.length ? outcome.position : r.position).toString());
    return r.value;
  }

  @Get(':id')
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOkResponse({ type: StatementResponse })
  @ApiProduces('application/json', 'text/csv')
  @ApiOperation({
    summary: 'A statement as issued, with its restatement: the period recomputed at the head and every line changed since (a partner key: its own only)',
    description: '`Accept: text/csv`: one row per content line with its value as issued and now (finance).',
  })
  async get(@Param('id', LedgerIdPipe) id: string, @Query() query: PositionQueryDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<StatementView | string> {
    const r = await this.statements.get(id, actor, minPositionOf(query.minPosition));
    void reply.header('Ledger-Position', r.position.toString());
    return wantsCsv(req.headers.accept) ? statementCsv(reply, r.value) : r.value;
  }

  @Get()
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOkResponse({ type: StatementListResponse })
  @ApiOperation({ summary: 'Statements issued, in issue order, by partner and/or period, each with its restatement (a partner key: its own only)' })
  async list(@Query() query: ListStatementsQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply) {
    const partnerId = visiblePartnerFilter(actor, query.partnerId);
    const r = await this.statements.list({ ...(partnerId !== undefined ? { partnerId } : {}), ...(query.period !== undefined ? { period: query.period } : {}) }, minPositionOf(query.minPosition));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }
}

/** `POST /v1/audit/statements/verify` (auditor, admin): the statement against the log and the ledger's key. */
@ApiTags('audit')
@ApiBearerAuth()
@Allow('auditor')
@Controller('v1/audit/statements')
export class StatementAuditController {
  constructor(@Inject(StatementsService) private readonly statements: StatementsService) {}

  @Post('verify')
  @HttpCode(200)
  @ApiOkResponse({ type: StatementVerificationResponse })
  @ApiOperation({
    summary: 'Verify a statement as returned by GET /v1/statements/{id}: content recomputed at its position, its digest against the tree head, its signature',
    description: 'Never writes. `ok` is all three; `differences` lists what does not match (content lines by path, contentHash, digest, signature).',
  })
  async verify(@Body() body: VerifyStatementDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const r = await this.statements.verify(body as unknown as Record<string, unknown>);
    void reply.header('Ledger-Position', body.position);
    return r;
  }
}
