import type { DomainEventShape } from './envelope.js';

/**
 * Partner event contracts (DOMAIN.md, "Partners", "Tier program"). The `type` strings and data field
 * names are persisted and read by subscribers: never rename them. Times are UTC ISO 8601 strings.
 */
export type PartnerType = 'reseller' | 'distributor' | 'msp' | 'technology' | 'referral';

export const PARTNER_TYPES: readonly PartnerType[] = ['reseller', 'distributor', 'msp', 'technology', 'referral'];

export type PartnerStatus = 'pending' | 'active' | 'suspended' | 'terminated';

export const PARTNER_STATUSES: readonly PartnerStatus[] = ['pending', 'active', 'suspended', 'terminated'];

export type PartnerEnrolled = DomainEventShape<
  'PartnerEnrolled',
  {
    readonly partnerId: string;
    readonly name: string;
    readonly type: PartnerType;
    /** The registrable domain (lowercase, ASCII/punycode), the key of the uniqueness rule. */
    readonly domain: string;
    readonly country?: string;
    /** The lowest tier of the program in force at enrollment. */
    readonly tier: string;
    readonly programVersion: number;
    readonly enrolledAt: string;
  }
>;

export type PartnerActivated = DomainEventShape<
  'PartnerActivated',
  { readonly partnerId: string; readonly activatedAt: string }
>;

export type PartnerSuspended = DomainEventShape<
  'PartnerSuspended',
  { readonly partnerId: string; readonly reason: string; readonly suspendedAt: string }
>;

export type PartnerReinstated = DomainEventShape<
  'PartnerReinstated',
  { readonly partnerId: string; readonly reason?: string; readonly reinstatedAt: string }
>;

export type PartnerTerminated = DomainEventShape<
  'PartnerTerminated',
  { readonly partnerId: string; readonly reason: string; readonly terminatedAt: string }
>;

/** (sellerId, certification, earnedAt) identifies a certification; `expiresAt` absent = never expires. */
export type SellerCertified = DomainEventShape<
  'SellerCertified',
  {
    readonly partnerId: string;
    readonly sellerId: string;
    readonly certification: string;
    readonly earnedAt: string;
    readonly expiresAt?: string;
  }
>;

export type TierChangeKind = 'promotion' | 'demotion';

export type PartnerTierChanged = DomainEventShape<
  'PartnerTierChanged',
  {
    readonly partnerId: string;
    readonly from: string;
    readonly to: string;
    readonly kind: TierChangeKind;
    /** Business time of the evaluation that decided the change. */
    readonly asOf: string;
    readonly programVersion: number;
  }
>;

export type TierDowngradeScheduled = DomainEventShape<
  'TierDowngradeScheduled',
  {
    readonly partnerId: string;
    readonly from: string;
    readonly to: string;
    readonly effectiveAt: string;
    readonly asOf: string;
    readonly programVersion: number;
  }
>;

export type TierDowngradeCancelled = DomainEventShape<
  'TierDowngradeCancelled',
  { readonly partnerId: string; readonly tier: string; readonly asOf: string }
>;

/** The events of a `partner-<partnerId>` stream. */
export type PartnerEvent =
  | PartnerEnrolled
  | PartnerActivated
  | PartnerSuspended
  | PartnerReinstated
  | PartnerTerminated
  | SellerCertified
  | PartnerTierChanged
  | TierDowngradeScheduled
  | TierDowngradeCancelled;

export type PartnerEventType = PartnerEvent['type'];

export const PARTNER_EVENT_TYPES: readonly PartnerEventType[] = [
  'PartnerEnrolled',
  'PartnerActivated',
  'PartnerSuspended',
  'PartnerReinstated',
  'PartnerTerminated',
  'SellerCertified',
  'PartnerTierChanged',
  'TierDowngradeScheduled',
  'TierDowngradeCancelled',
];

/**
 * Bookkeeping, not a business fact: the claim of a domain in a `partnerdomain-<domain>` stream, which
 * makes "one non-terminated partner per domain" decidable against a single stream revision. It is kept
 * out of `PartnerEvent` because it never appears in a partner stream.
 */
export type PartnerDomainClaimed = DomainEventShape<
  'PartnerDomainClaimed',
  { readonly domain: string; readonly partnerId: string }
>;

export type PartnerDomainEvent = PartnerDomainClaimed;

export const PARTNER_DOMAIN_EVENT_TYPES: readonly PartnerDomainEvent['type'][] = ['PartnerDomainClaimed'];

