import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { POSITION_PATTERN, OptionalMember } from '../http/validation.js';

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

/** Event type names: past-tense PascalCase (DOMAIN.md, "Events"); a comma-separated list where several are allowed. */
export const EVENT_TYPE_LIST = /^[A-Za-z][A-Za-z0-9]{0,99}(,[A-Za-z][A-Za-z0-9]{0,99}){0,49}$/;

/** Stream ids are `category-id` with ids, domains, periods: no whitespace or control characters. */
export const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,299}$/;

export class AuditEventsQueryDto {
  @ApiPropertyOptional({ description: 'Exclusive: events after this position (0 = from the start).', example: '0', default: '0' })
  @IsOptional()
  @Matches(POSITION_PATTERN, { message: 'fromPosition must be a decimal position' })
  fromPosition?: string;

  @ApiPropertyOptional({ type: 'integer', default: DEFAULT_PAGE, minimum: 1, maximum: MAX_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'Only events of this type (or of these types, comma-separated).', example: 'PartnerEnrolled' })
  @IsOptional()
  @Matches(EVENT_TYPE_LIST, { message: 'type must be an event type or a comma-separated list of them' })
  type?: string;

  @ApiPropertyOptional({ description: 'Only the events of this stream.', example: 'partner-P-1001' })
  @IsOptional()
  @Matches(STREAM_ID, { message: 'streamId must be a stream id (category-id)' })
  streamId?: string;
}

export class AuditStreamQueryDto {
  @ApiPropertyOptional({ type: 'integer', default: DEFAULT_PAGE, minimum: 1, maximum: MAX_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page (the stream revision to continue at).' })
  @IsOptional()
  @Matches(/^\d{1,20}$/, { message: 'cursor must be a cursor this list returned' })
  cursor?: string;
}

/** A tree size: a count of events, decimal. */
export const SIZE_PATTERN = /^\d{1,15}$/;

export class DigestQueryDto {
  @ApiPropertyOptional({ description: 'The tree head at this many events (the whole log by default).', example: '1000' })
  @IsOptional()
  @Matches(SIZE_PATTERN, { message: 'size must be a decimal number of events' })
  size?: string;

  @ApiPropertyOptional({ description: 'The tree head covering the events up to this position (inclusive); instead of `size`.' })
  @IsOptional()
  @Matches(POSITION_PATTERN, { message: 'position must be a decimal position' })
  position?: string;
}

/** A route without query parameters: anything given is refused like an unknown parameter elsewhere. */
export class NoQueryDto {}

export class InclusionQueryDto {
  @ApiProperty({ description: 'The position of the event.', example: '42' })
  @Matches(POSITION_PATTERN, { message: 'position must be a decimal position' })
  position!: string;

  @ApiPropertyOptional({ description: 'The tree size the proof is for (the whole log by default).', example: '1000' })
  @IsOptional()
  @Matches(SIZE_PATTERN, { message: 'size must be a decimal number of events' })
  size?: string;
}

export class ConsistencyQueryDto {
  @ApiProperty({ description: 'The size of the older tree head (the one kept).', example: '1000' })
  @Matches(SIZE_PATTERN, { message: 'from must be a decimal number of events' })
  from!: string;

  @ApiPropertyOptional({ description: 'The size of the newer tree head (the whole log by default).' })
  @IsOptional()
  @Matches(SIZE_PATTERN, { message: 'to must be a decimal number of events' })
  to?: string;
}

export class VerifyDto {
  @ApiPropertyOptional({ description: 'Verify up to this position (the head by default).', example: '1200', pattern: POSITION_PATTERN.source })
  @OptionalMember()
  @IsString()
  @Matches(POSITION_PATTERN, { message: 'position must be a decimal position' })
  position?: string;

  @ApiPropertyOptional({ pattern: '^[0-9a-f]{64}$', description: 'A digest kept outside the ledger, compared with the one recomputed at `position`.', example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  @OptionalMember()
  @IsString()
  @MaxLength(64)
  @Matches(/^[0-9a-f]{64}$/, { message: 'digest must be 64 lowercase hex digits (SHA-256)' })
  digest?: string;

  @ApiPropertyOptional({ description: 'The size of a tree head kept outside the ledger (a checkpoint): the log must have at least this many events ...', example: '1000', pattern: SIZE_PATTERN.source })
  @OptionalMember()
  @IsString()
  @Matches(SIZE_PATTERN, { message: 'size must be a decimal number of events' })
  size?: string;

  @ApiPropertyOptional({
    pattern: '^[0-9a-f]{64}$',
    description: '... and the root of its first `size` events must equal this (hex; `rootMatches` in the answer).',
    example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  })
  @OptionalMember()
  @IsString()
  @MaxLength(64)
  @Matches(/^[0-9a-f]{64}$/, { message: 'rootHash must be 64 lowercase hex digits (SHA-256)' })
  rootHash?: string;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ description: 'Exclusive: export the events after this position (0 = the whole log).', default: '0' })
  @IsOptional()
  @Matches(POSITION_PATTERN, { message: 'fromPosition must be a decimal position' })
  fromPosition?: string;
}

export class ActorDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['admin', 'channel-ops', 'finance', 'auditor', 'partner', 'subscriber'] }) role!: string;
  @ApiPropertyOptional() partnerId?: string;
}

export class EventMetadataDto {
  @ApiProperty({ example: 1 }) schemaVersion!: number;
  @ApiProperty({ type: ActorDto }) actor!: ActorDto;
  @ApiProperty() commandId!: string;
  @ApiProperty() correlationId!: string;
  @ApiProperty() causationId!: string;
  @ApiProperty({ description: 'Record time, stamped by the ledger (UTC ISO 8601).', example: '2026-03-02T09:00:00.000Z' }) recordedAt!: string;
  @ApiPropertyOptional() requestHash?: string;
}

/** The wire envelope (DOMAIN.md, "Events"); `data` is described per type in the AsyncAPI document at `/docs/events`. */
export class EventEnvelopeDto {
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty({ example: 'PartnerEnrolled' }) type!: string;
  @ApiProperty({ example: 'partner-P-1001' }) streamId!: string;
  @ApiProperty({ example: '0', description: 'Decimal string' }) revision!: string;
  @ApiProperty({ example: '42', description: 'Decimal string' }) position!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data!: Record<string, unknown>;
  @ApiProperty({ type: EventMetadataDto }) metadata!: EventMetadataDto;
  @ApiProperty({ description: 'SHA-256 of the previous event of the stream (64 zeros for the first).' }) prevHash!: string;
  @ApiProperty({ description: 'SHA-256 over prevHash and the canonical envelope.' }) hash!: string;
}

export class AuditEventsPageDto {
  @ApiProperty({ type: [EventEnvelopeDto] }) items!: EventEnvelopeDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `fromPosition` for the next page; null when the log (up to its head at the time of the query) has no more matching events.' })
  nextPosition!: string | null;
}

export class AuditStreamPageDto {
  @ApiProperty() streamId!: string;
  @ApiProperty({ type: [EventEnvelopeDto] }) items!: EventEnvelopeDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class DigestDto {
  @ApiProperty({ example: '1200', description: 'Position of the last event the head covers.' }) position!: string;
  @ApiProperty({ example: 1200, description: 'Events covered: the tree size.' }) size!: number;
  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', description: 'RFC 9162 Merkle tree hash of the first `size` events, hex.' }) rootHash!: string;
  @ApiProperty({ enum: ['rfc9162-sha256'] }) algorithm!: 'rfc9162-sha256';
  @ApiProperty({ description: 'The head as a C2SP signed-note checkpoint (origin, size, base64 root; Ed25519 signature line): keep it outside the ledger.' }) checkpoint!: string;
}

export class InclusionProofDto {
  @ApiProperty() leafIndex!: number;
  @ApiProperty() position!: string;
  @ApiProperty() size!: number;
  @ApiProperty({ description: 'SHA-256(0x00 || position as 8 bytes big-endian || event hash), hex.' }) leafHash!: string;
  @ApiProperty({ type: [String], description: 'RFC 9162 audit path, hex.' }) auditPath!: string[];
}

export class ConsistencyProofDto {
  @ApiProperty() fromSize!: number;
  @ApiProperty() toSize!: number;
  @ApiProperty({ type: [String], description: 'RFC 9162 consistency proof, hex.' }) proof!: string[];
}

export class PublicKeyDto {
  @ApiProperty({ enum: ['Ed25519'] }) algorithm!: string;
  @ApiProperty({ description: 'The checkpoint origin line, also the key name.' }) origin!: string;
  @ApiProperty() keyName!: string;
  @ApiProperty({ description: 'The signed-note key id (hex).' }) keyId!: string;
  @ApiProperty({ description: 'The signed-note verifier key: `<name>+<key id>+<base64(0x01 || public key)>`.' }) verifierKey!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The public key as an RFC 8037 JWK.' }) jwk!: Record<string, string>;
}

export class VerifyResultDto {
  @ApiProperty() ok!: boolean;
  @ApiProperty() checkedEvents!: number;
  @ApiProperty({ description: 'The position verified up to.' }) position!: string;
  @ApiPropertyOptional({ description: 'The first event whose hash chain does not hold.' }) firstInvalidPosition?: string;
  @ApiPropertyOptional() reason?: string;
  @ApiProperty({ description: 'The digest recomputed at `position` (over the verified prefix when the chain breaks).' }) digest!: string;
  @ApiPropertyOptional({ description: 'Present when a digest was given.' }) digestMatches?: boolean;
  @ApiProperty({ description: 'Events in the recomputed tree.' }) size!: number;
  @ApiProperty({ description: 'The recomputed tree root, hex.' }) rootHash!: string;
  @ApiPropertyOptional({ description: 'Present when a rootHash was given: the recomputed root at `size` equals it.' }) rootMatches?: boolean;
}
