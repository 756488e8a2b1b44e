import { ApiProperty } from '@nestjs/swagger';

/**
 * What every successful command answers (API.md, "Conventions"), for the response classes each capability
 * extends in its `<capability>.responses.ts`: the document then says what `commandResponse()` builds.
 */
export class AppendedEventResponse {
  @ApiProperty({ example: 'PartnerEnrolled' })
  type!: string;
  @ApiProperty({ format: 'uuid', example: '0f8fad5b-d9cb-469f-a165-70867728950e' })
  eventId!: string;
  @ApiProperty({ example: 'partner-P-1001' })
  streamId!: string;
  @ApiProperty({ description: 'Decimal string: the event\'s revision in its stream', example: '0' })
  revision!: string;
  @ApiProperty({ description: 'Decimal string: the event\'s position in the log', example: '42' })
  position!: string;
}

export class CommandResponse {
  @ApiProperty({ description: 'Decimal string: the log position after the command (pass as `minPosition` to read your write)', example: '42' })
  position!: string;
  @ApiProperty({ type: [AppendedEventResponse], description: 'The events the command appended (empty when it changed nothing)' })
  events!: AppendedEventResponse[];
}

export class MoneyResponse {
  @ApiProperty({ type: 'integer', example: 2500000 })
  amountMinor!: number;
  @ApiProperty({ example: 'EUR', description: 'ISO 4217' })
  currency!: string;
}

/** `nextCursor` of every paged list. */
export const NEXT_CURSOR = { type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page.' } as const;
