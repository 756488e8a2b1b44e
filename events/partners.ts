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

// --- Tier program v2 (DOMAIN.md, "Tier program v2") ---

/** Every instance of (sellerId, certification) in force at the partner is revoked from `revokedAt` on. */
export type SellerCertificationRevoked = DomainEventShape<
  'SellerCertificationRevoked',
  { readonly partnerId: string; readonly sellerId: string; readonly certification: string; readonly reason: string; readonly revokedAt: string }
>;

/** Channel ops hold the partner at `tier` until `until` (business time), whatever evaluations find meanwhile. */
export type PartnerTierOverridden = DomainEventShape<
  'PartnerTierOverridden',
  {
    readonly partnerId: string;
    readonly tier: string;
    /** The partner's own tier when the override began: it returns to it when the override ends. */
    readonly from: string;
    readonly reason: string;
    readonly until: string;
    readonly overriddenAt: string;
    readonly programVersion: number;
  }
>;

/** The override ended: by channel ops, or by an evaluation at or after its `until`. */
export type PartnerTierOverrideEnded = DomainEventShape<
  'PartnerTierOverrideEnded',
  { readonly partnerId: string; readonly tier: string; readonly restoredTier: string; readonly reason: string; readonly endedAt: string }
>;

/**
 * An evaluation found what an overridden partner qualifies for (DOMAIN.md, "Tier program v2": evaluations record
 * qualification meanwhile but do not move it). Recorded by the first evaluation under an override and then only when
 * the qualifying tier changes; the partner stays at `tier`.
 */
export type PartnerTierQualificationRecorded = DomainEventShape<
  'PartnerTierQualificationRecorded',
  {
    readonly partnerId: string;
    /** The tier the override holds the partner at. */
    readonly tier: string;
    /** The highest tier of its ladder whose every requirement it meets at `asOf`. */
    readonly qualifyingTier: string;
    /** When the override ends. */
    readonly until: string;
    readonly asOf: string;
    readonly programVersion: number;
  }
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
  | TierDowngradeCancelled
  | SellerCertificationRevoked
  | PartnerTierOverridden
  | PartnerTierOverrideEnded
  | PartnerTierQualificationRecorded;

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
  'SellerCertificationRevoked',
  'PartnerTierOverridden',
  'PartnerTierOverrideEnded',
  'PartnerTierQualificationRecorded',
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


/** The certification catalog (`certifications-catalog` stream): a name, its title and how long it is valid. */
export type CertificationDefined = DomainEventShape<
  'CertificationDefined',
  { readonly name: string; readonly title: string; readonly validityDays: number; readonly definedAt: string }
>;

export type CertificationCatalogEvent = CertificationDefined;

export const CERTIFICATION_CATALOG_EVENT_TYPES: readonly CertificationCatalogEvent['type'][] = ['CertificationDefined'];

export const CERTIFICATION_CATALOG_STREAM_ID = 'certifications-catalog';

/**
 * Bookkeeping, like the domain claim: the claim of a seller in a `seller-<sellerId>` stream, which makes "a seller
 * counts for one partner at a time" decidable against a single stream revision. Its last event names the holder.
 */
export type SellerClaimed = DomainEventShape<'SellerClaimed', { readonly sellerId: string; readonly partnerId: string }>;

export type SellerClaimEvent = SellerClaimed;

export const SELLER_CLAIM_EVENT_TYPES: readonly SellerClaimEvent['type'][] = ['SellerClaimed'];
