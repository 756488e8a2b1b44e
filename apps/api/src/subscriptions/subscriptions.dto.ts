import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
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
}
