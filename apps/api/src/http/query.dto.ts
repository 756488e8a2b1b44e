import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { POSITION_PATTERN } from './validation.js';

/** API.md: every query may wait for a position with `?minPosition=` (read-your-writes). */
export class PositionQueryDto {
  @ApiPropertyOptional({ description: 'Answer only once the read model has reached this position (read-your-writes).' })
  @IsOptional()
  @Matches(POSITION_PATTERN)
  minPosition?: string;
}

/** API.md: lists take `limit` (default 100, max 1000) and an opaque `cursor`. */
export class PagedQueryDto extends PositionQueryDto {
  @ApiPropertyOptional({ type: 'integer', default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(400)
  cursor?: string;
}
