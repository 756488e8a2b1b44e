import { Controller, Get, Headers, Inject, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ALL_EVENT_TYPES } from '#events/catalog.js';
import type { Actor } from '#events/envelope.js';
import type { ReadFilter } from '#libs/event-store/port.js';
import { POSITION_PATTERN } from '../http/validation.js';
import { Allow, CurrentActor } from '../platform/auth/access.js';
import { ProblemException } from '../platform/problem.js';
import { LEDGER_CONFIG, type LedgerConfig } from '#libs/ledger/config.js';
import { DEFAULT_CLOUDEVENTS_SOURCE } from './cloud-events.js';
import { EventFeed } from './event-feed.js';
import { cloudEventFrame, EventStreams, sseFrame } from './event-streams.js';
import { EventStreamQueryDto } from './subscriptions.dto.js';

@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('v1/events')
export class SubscriptionsController {
  constructor(
    @Inject(EventFeed) private readonly feed: EventFeed,
    @Inject(EventStreams) private readonly streams: EventStreams,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
  ) {}

  /**
   * Written on Fastify's raw response rather than Nest's `@Sse()`, which pushes through an rxjs Subject
   * with no back-pressure: here an event is read from the store only once the socket has taken the last.
   */
  @Get('stream')
  // API.md: subscribers ("/v1/events/stream only"), auditors ("GET anything") and channel-ops ("all queries
  // except /v1/audit/*": this is not under /v1/audit); admin always passes.
  @Allow('subscriber', 'auditor', 'channel-ops')
  @ApiOperation({
    summary: 'Server-Sent Events: the log from a position, then live',
    description:
      'Each message: `id: <position>`, `event: <type>`, `data: <envelope JSON>` (AsyncAPI document at `/docs/events`), or with `format=cloudevents` ' +
      'a structured-mode CloudEvent 1.0 as `data:`. ' +
      'Catches up after `fromPosition` or the `Last-Event-ID` header (both exclusive), then follows the log; a comment heartbeat every 15 s. ' +
      'Log order; nothing skipped or repeated within one connection, and a reconnect with Last-Event-ID resumes right after the last event received. ' +
      'One API key may hold at most `LEDGER_SSE_MAX_PER_KEY` (default 5) open streams; another is refused with 429 `too-many-requests`.',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The last position received (exclusive); wins over fromPosition.' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  stream(@Query() query: EventStreamQueryDto, @Headers('last-event-id') lastEventId: string | undefined, @CurrentActor() actor: Actor, @Res() reply: FastifyReply): void {
    let from = BigInt(query.fromPosition ?? '0');
    if (lastEventId !== undefined && lastEventId.trim() !== '') {
      if (!POSITION_PATTERN.test(lastEventId.trim())) {
        throw ProblemException.validationFailed('Last-Event-ID must be a position this stream sent.', [{ path: 'Last-Event-ID', message: 'must be a decimal position' }]);
      }
      from = BigInt(lastEventId.trim());
    }
    if (this.streams.shuttingDown) throw new ProblemException('service-unavailable', 'The service is shutting down; reconnect shortly.', { headers: { 'Retry-After': '3' } });
    const types = query.types?.split(',');
    const unknown = types?.filter((t) => !ALL_EVENT_TYPES.has(t)) ?? [];
    if (unknown.length) {
      throw ProblemException.validationFailed(`No event type is named ${unknown.join(', ')}: the catalog is in the AsyncAPI document at /docs/events.`, [
        { path: 'types', message: `unknown event type(s): ${unknown.join(', ')}` },
      ]);
    }
    const categories = query.streams?.split(',');
    const filter: ReadFilter = {
      ...(types ? { eventTypes: types } : {}),
      // Category `partner` is every stream id starting `partner-` (and never `partnerdomain-`).
      ...(categories ? { streamPrefixes: categories.map((c) => `${c}-`) } : {}),
    };
    this.streams.admit(actor.id);
    const subscription = this.feed.open(from, filter);
    reply.hijack();
    const frame = query.format === 'cloudevents' ? cloudEventFrame(this.config.publicUrl?.replace(/\/$/, '') ?? DEFAULT_CLOUDEVENTS_SOURCE) : sseFrame;
    this.streams.start(reply.raw, subscription, actor.id, { open: (after) => this.feed.open(after, filter), from }, frame);
  }
}
