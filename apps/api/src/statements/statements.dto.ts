import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsInt, IsObject, IsOptional, IsString, Matches, MaxLength, Min, ValidateIf } from 'class-validator';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { STATEMENT_PERIOD_PATTERN } from '#libs/statements/period.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { IsLedgerId, OptionalMember, POSITION_PATTERN } from '../http/validation.js';

const PERIOD_MESSAGE = 'period must be a month (YYYY-MM, e.g. 2026-03) or a quarter (YYYY-Qn, e.g. 2026-Q1)';

export class IssueStatementDto {
  @ApiProperty({ example: 'ST-2026-Q1-P-1001', pattern: ID_PATTERN.source, description: 'Chosen by the caller; issued once (the same id for the same partner and period again is a no-op, for another a 409).' })
  @IsLedgerId()
  statementId!: string;

  @ApiProperty({ example: 'P-1001', pattern: ID_PATTERN.source })
  @IsLedgerId()
  partnerId!: string;

  @ApiProperty({ example: '2026-Q1', pattern: STATEMENT_PERIOD_PATTERN.source })
  @IsString()
  @Matches(STATEMENT_PERIOD_PATTERN, { message: PERIOD_MESSAGE })
  period!: string;
}

export class ListStatementsQueryDto extends PositionQueryDto {
  @ApiPropertyOptional({ example: 'P-1001', description: 'A partner key may only name itself (and sees only its own).' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== '')
  @IsLedgerId()
  partnerId?: string;

  @ApiPropertyOptional({ example: '2026-Q1', pattern: STATEMENT_PERIOD_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(STATEMENT_PERIOD_PATTERN, { message: PERIOD_MESSAGE })
  period?: string;
}

/** `POST /v1/audit/statements/verify`: a statement as `GET /v1/statements/{id}` returned it. */
export class VerifyStatementDto {
  @ApiProperty({ example: 'ST-2026-Q1-P-1001' })
  @IsString()
  @MaxLength(200)
  statementId!: string;

  @ApiProperty({ example: 'P-1001' })
  @IsString()
  @MaxLength(200)
  partnerId!: string;

  @ApiProperty({ example: '2026-Q1' })
  @IsString()
  @MaxLength(20)
  period!: string;

  @ApiProperty({ example: '1042', pattern: POSITION_PATTERN.source })
  @IsString()
  @Matches(POSITION_PATTERN, { message: 'position must be a decimal position' })
  position!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { size: 1042, rootHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }, description: '`{ size, rootHash }`' })
  @IsObject()
  digest!: Record<string, unknown>;

  @ApiProperty({ type: 'integer', example: 1 })
  @IsInt()
  @Min(0)
  programVersion!: number;

  @ApiProperty({ type: 'integer', example: 0 })
  @IsInt()
  @Min(0)
  commissionPlanVersion!: number;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { format: 'channel-ledger/statement/1' } })
  @IsDefined()
  @IsObject()
  content!: Record<string, unknown>;

  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  @IsString()
  @MaxLength(200)
  contentHash!: string;

  @ApiProperty({ example: 'c2lnbmF0dXJl' })
  @IsString()
  @MaxLength(400)
  signature!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Ignored: the restatement is not signed.' })
  @OptionalMember()
  @IsObject()
  restatement?: Record<string, unknown>;

  @ApiPropertyOptional({ format: 'date-time', description: 'Ignored: not signed.' })
  @OptionalMember()
  @IsString()
  @MaxLength(40)
  issuedAt?: string;
}
