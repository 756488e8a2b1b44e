import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min, ValidateIf, ValidateNested } from 'class-validator';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { STATEMENT_PERIOD_PATTERN } from '#libs/statements/period.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { IsLedgerId, IsLedgerTime, OptionalMember, POSITION_PATTERN } from '../http/validation.js';

const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{86}==$/;
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

export class StatementDigestDto {
  @ApiProperty({ type: 'integer', minimum: 0, example: 1042 })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  size!: number;

  @ApiProperty({ pattern: '^[0-9a-f]{64}$', example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  @IsString()
  @Matches(/^[0-9a-f]{64}$/, { message: 'rootHash must be 64 lowercase hex digits (SHA-256)' })
  rootHash!: string;
}

/** `POST /v1/audit/statements/verify`: a statement as `GET /v1/statements/{id}` returned it. */
export class VerifyStatementDto extends IssueStatementDto {
  @ApiProperty({ example: '1042', pattern: POSITION_PATTERN.source })
  @IsString()
  @Matches(POSITION_PATTERN, { message: 'position must be a decimal position' })
  position!: string;

  // @ValidateNested alone lets a missing object through; @IsObject makes it required.
  @ApiProperty({ type: StatementDigestDto })
  @IsObject()
  @ValidateNested()
  @Type(() => StatementDigestDto)
  digest!: StatementDigestDto;

  @ApiProperty({ type: 'integer', example: 1 })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  programVersion!: number;

  @ApiProperty({ type: 'integer', example: 0 })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  commissionPlanVersion!: number;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { format: 'channel-ledger/statement/1' }, description: 'As served: any members (what differs from the log is reported, not refused)' })
  @IsDefined()
  @IsObject()
  content!: Record<string, unknown>;

  @ApiProperty({ pattern: '^[0-9a-f]{64}$', example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  @IsString()
  @Matches(/^[0-9a-f]{64}$/, { message: 'contentHash must be 64 lowercase hex digits (SHA-256)' })
  contentHash!: string;

  @ApiProperty({ pattern: SIGNATURE_PATTERN.source, example: `${'A'.repeat(86)}==`, description: 'Base64 of the 64-byte Ed25519 signature' })
  @IsString()
  @Matches(SIGNATURE_PATTERN, { message: 'signature must be the base64 of a 64-byte Ed25519 signature' })
  signature!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Ignored: the restatement is not signed.' })
  @OptionalMember()
  @IsObject()
  restatement?: Record<string, unknown>;

  @ApiPropertyOptional({ format: 'date-time', example: '2026-04-01T09:00:00.000Z', description: 'Ignored: not signed.' })
  @OptionalMember()
  @IsLedgerTime()
  issuedAt?: string;
}
