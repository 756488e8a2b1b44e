import { ApiPropertyOptional } from '@nestjs/swagger';
import { CommandResponse } from '../platform/command.responses.js';

/** A publication's answer: the rate recorded, or only `{ position, events: [] }` when the same rate was already in force. */
export class ExchangeRatePublishedResponse extends CommandResponse {
  @ApiPropertyOptional({ example: 'EUR' })
  currency?: string;
  @ApiPropertyOptional({ example: 'USD', description: "The program's reporting currency when published" })
  reportingCurrency?: string;
  @ApiPropertyOptional({ format: 'date-time', example: '2026-03-01T00:00:00.000Z' })
  date?: string;
  @ApiPropertyOptional({ example: '1.0834', description: 'Units of `reportingCurrency` per unit of `currency`' })
  rate?: string;
  @ApiPropertyOptional({ example: 'ECB' })
  source?: string;
}
