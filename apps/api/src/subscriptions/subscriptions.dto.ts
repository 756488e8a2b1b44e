import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { EVENT_FORMATS, type EventFormat } from './cloud-events.js';
import { POSITION_PATTERN } from '../http/validation.js';
import { EVENT_TYPE_LIST } from '../audit/audit.dto.js';

/** Stream categories (the part of a stream id before its first `-`), comma-separated. */
export const CATEGORY_LIST = /^[A-Za-z0-9][A-Za-z0-9._:]{0,99}(,[A-Za-z0-9][A-Za-z0-9._:]{0,99}){0,49}$/;

export class EventStreamQueryDto {
  @ApiPropertyOptional({ description: 'Exclusive: deliver the events after this position (0 = from the start). A `Last-Event-ID` header wins over it (a reconnecting EventSource sends both).', example: '0' })
  @IsOptional()
  @Matches(POSITION_PATTERN, { message: 'fromPosition must be a decimal position' })
  fromPosition?: string;

  @ApiPropertyOptional({ description: 'Only these event types, comma-separated.', example: 'PartnerEnrolled,PartnerActivated' })
  @IsOptional()
  @Matches(EVENT_TYPE_LIST, { message: 'types must be a comma-separated list of event types' })
  types?: string;

  @ApiPropertyOptional({ description: 'Only these stream categories (the stream id before its first `-`), comma-separated.', example: 'partner,customer' })
  @IsOptional()
  @Matches(CATEGORY_LIST, { message: 'streams must be a comma-separated list of stream categories' })
  streams?: string;

  @ApiPropertyOptional({
    description:
      'What each message\'s `data:` carries: `envelope` (default), the ledger\'s envelope as `/docs/events` describes it; or `cloudevents`, a CloudEvent 1.0 ' +
      'in structured mode (JSON: `specversion`, `id` = eventId, `source` = `LEDGER_PUBLIC_URL` or `urn:channel-ledger`, `type`, `time` = record time, ' +
      '`subject` = stream id, `datacontenttype`, `data`, and the extensions `position`, `revision`, `correlationid`, `causationid`). `id:` and `event:` are the same either way.',
    enum: EVENT_FORMATS,
    example: 'cloudevents',
  })
  @IsOptional()
  @IsIn(EVENT_FORMATS, { message: `format must be one of ${EVENT_FORMATS.join(', ')}` })
  format?: EventFormat;
}
