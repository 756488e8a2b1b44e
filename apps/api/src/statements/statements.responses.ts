import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';

/** Any JSON value (a leaf of the content, or null when absent on one side). */
const jsonValue = (description: string): ApiPropertyOptions => ({ anyOf: [{ type: 'string', nullable: true }, { type: 'number' }, { type: 'boolean' }, { type: 'object' }, { type: 'array', items: {} }], description });

export class StatementDigestResponse {
  @ApiProperty({ type: 'integer', example: 1042, description: 'Events in the log up to the position' })
  size!: number;
  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', description: 'RFC 9162 root of those events (hex)' })
  rootHash!: string;
}

export class StatementTierChangeResponse {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: String, nullable: true }) from!: string | null;
  @ApiProperty() to!: string;
  @ApiProperty({ enum: ['enrolled', 'promotion', 'demotion', 'override', 'override-ended'] }) kind!: string;
}

export class StatementTierResponse {
  @ApiProperty({ type: String, nullable: true, description: 'Tier at the start of the period (null: not enrolled yet)' }) atStart!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Tier at the end of the period' }) atEnd!: string | null;
  @ApiProperty({ type: [StatementTierChangeResponse] }) changes!: StatementTierChangeResponse[];
}

export class StatementRevenueLineResponse {
  @ApiProperty({ type: 'integer' }) attributedMinor!: number;
  @ApiProperty({ type: 'integer' }) reversedMinor!: number;
  @ApiProperty({ type: 'integer' }) netMinor!: number;
}

export class StatementRevenueResponse {
  @ApiProperty({ type: StatementRevenueLineResponse }) sourced!: StatementRevenueLineResponse;
  @ApiProperty({ type: StatementRevenueLineResponse }) influenced!: StatementRevenueLineResponse;
  @ApiProperty({ type: 'integer', description: 'Attributions recognized in the period that credit the partner' }) attributions!: number;
}

export class StatementDealsResponse {
  @ApiProperty({ type: 'integer' }) registered!: number;
  @ApiProperty({ type: 'integer' }) approved!: number;
  @ApiProperty({ type: 'integer' }) rejected!: number;
  @ApiProperty({ type: 'integer' }) expired!: number;
  @ApiProperty({ type: 'integer' }) won!: number;
  @ApiProperty({ type: 'integer' }) lost!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { USD: 120000 }, description: 'Won amounts per deal currency' })
  wonMinor!: Record<string, number>;
}

export class StatementCommissionsResponse {
  @ApiProperty({ type: 'integer' }) openingMinor!: number;
  @ApiProperty({ type: 'integer' }) accruedMinor!: number;
  @ApiProperty({ type: 'integer' }) clawedBackMinor!: number;
  @ApiProperty({ type: 'integer' }) paidMinor!: number;
  @ApiProperty({ type: 'integer' }) closingMinor!: number;
}

export class StatementContentResponse {
  @ApiProperty({ example: 'channel-ledger/statement/1' }) format!: string;
  @ApiProperty() partnerId!: string;
  @ApiProperty() period!: string;
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time', description: 'Exclusive' }) to!: string;
  @ApiProperty({ type: String, nullable: true, example: 'USD' }) reportingCurrency!: string | null;
  @ApiProperty({ type: StatementTierResponse }) tier!: StatementTierResponse;
  @ApiProperty({ type: StatementRevenueResponse, description: 'In the reporting currency' }) revenue!: StatementRevenueResponse;
  @ApiProperty({ type: StatementDealsResponse }) deals!: StatementDealsResponse;
  @ApiProperty({
    type: 'object',
    description: 'Per fund currency: allocatedMinor, approvedMinor, releasedMinor, claimedMinor, claimApprovedMinor, paidMinor',
    additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
  })
  mdf!: Record<string, Record<string, number>>;
  @ApiProperty({ type: StatementCommissionsResponse, description: 'In the reporting currency' }) commissions!: StatementCommissionsResponse;
}

export class StatementChangeResponse {
  @ApiProperty({ example: 'revenue.sourced.netMinor', description: 'Dotted path of a content leaf (array items by index)' }) path!: string;
  @ApiProperty(jsonValue('As issued (null: absent then)')) issued!: unknown;
  @ApiProperty(jsonValue('As the log shows it now (null: absent now)')) now!: unknown;
}

export class RestatementResponse {
  @ApiProperty({ example: '2077', description: 'The log position the period was recomputed at (the head when read)' }) asOfPosition!: string;
  @ApiProperty({ type: [StatementChangeResponse], description: 'Every content leaf that differs from the statement as issued; empty when none' })
  changes!: StatementChangeResponse[];
}

export class StatementResponse {
  @ApiProperty({ example: 'ST-2026-Q1-P-1001' }) statementId!: string;
  @ApiProperty({ example: 'P-1001' }) partnerId!: string;
  @ApiProperty({ example: '2026-Q1' }) period!: string;
  @ApiProperty({ example: '1042', description: 'The log position the content was computed at' }) position!: string;
  @ApiProperty({ type: StatementDigestResponse }) digest!: StatementDigestResponse;
  @ApiProperty({ type: 'integer', description: 'Tier program version recorded up to the position (0: none)' }) programVersion!: number;
  @ApiProperty({ type: 'integer', description: 'Commission plan version recorded up to the position (0: none)' }) commissionPlanVersion!: number;
  @ApiProperty({ type: StatementContentResponse }) content!: StatementContentResponse;
  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', description: 'SHA-256 (hex) of the canonical JSON of `content`' }) contentHash!: string;
  @ApiProperty({ description: 'Base64 Ed25519 signature (docs/statements.md, "Signing message") with the key of `GET /v1/audit/public-key`' }) signature!: string;
  @ApiProperty({ format: 'date-time' }) issuedAt!: string;
  @ApiProperty({ type: RestatementResponse }) restatement!: RestatementResponse;
}

export class StatementListResponse {
  @ApiProperty({ type: [StatementResponse] }) items!: StatementResponse[];
}

export class StatementDifferenceResponse {
  @ApiProperty({ example: 'content.revenue.sourced.netMinor' }) path!: string;
  @ApiProperty(jsonValue('What the statement presented says')) statement!: unknown;
  @ApiProperty(jsonValue('What the log says (recomputed)')) recomputed!: unknown;
}

export class StatementVerificationResponse {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ description: 'The content recomputed from the log up to `position` is byte-identical (canonical JSON) and hashes to `contentHash`' }) contentMatches!: boolean;
  @ApiProperty({ description: '`digest` is the tree head of the log at `position`' }) digestMatches!: boolean;
  @ApiProperty({ description: "The signature verifies with the ledger's key over the fields presented (contentHash recomputed from `content`)" }) signatureValid!: boolean;
  @ApiPropertyOptional({ type: [StatementDifferenceResponse], description: 'Present when not ok' }) differences?: StatementDifferenceResponse[];
}
