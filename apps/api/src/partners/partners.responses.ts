import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PARTNER_STATUSES, PARTNER_TYPES } from '#events/partners.js';
import { CommandResponse, NEXT_CURSOR } from '../platform/command.responses.js';

export class PartnerResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: 'Northwind Resellers' })
  name!: string;
  @ApiProperty({ enum: [...PARTNER_TYPES] })
  type!: string;
  @ApiProperty({ example: 'northwind.example.com' })
  domain!: string;
  @ApiPropertyOptional({ example: 'DE' })
  country?: string;
  @ApiProperty({ enum: [...PARTNER_STATUSES] })
  status!: string;
  @ApiProperty({ example: 'Registered' })
  tier!: string;
  @ApiProperty({ type: 'integer', minimum: 0 })
  certifiedSellers!: number;
  @ApiProperty({ format: 'date-time' })
  enrolledAt!: string;
}

export class PartnerPageResponse {
  @ApiProperty({ type: [PartnerResponse] })
  items!: PartnerResponse[];
  @ApiProperty(NEXT_CURSOR)
  nextCursor!: string | null;
}

export class PartnerCommandResponse extends CommandResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiPropertyOptional({ enum: [...PARTNER_STATUSES], description: 'The status after the command' })
  status?: string;
  @ApiPropertyOptional({ example: 'northwind.example.com', description: 'Enrolment: the registrable domain the partner holds' })
  domain?: string;
}

export class CertificationResponse extends CommandResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: 'seller-42' })
  sellerId!: string;
}

export class CertificationRevokedResponse extends CertificationResponse {
  @ApiProperty({ example: 'aws-solutions-architect', description: 'The certification revoked' })
  certification!: string;
}

export class TierOverrideResponse extends CommandResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiPropertyOptional({ example: 'Gold', description: 'Override: the tier granted. End: the tier restored, when one is' })
  tier?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'Override: when it lapses on its own' })
  until?: string;
}
