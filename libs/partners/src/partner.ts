import { invalidField, requireText } from '#libs/kernel/input.js';
import type {
  PartnerActivated,
  PartnerEnrolled,
  PartnerEvent,
  PartnerReinstated,
  PartnerStatus,
  PartnerSuspended,
  PartnerTerminated,
  PartnerType,
  PartnerTierOverridden,
  PartnerTierOverrideEnded,
  SellerCertificationRevoked,
  SellerCertified,
} from '#events/partners.js';
import { PARTNER_TYPES } from '#events/partners.js';
import { assertNever, ID_PATTERN, type Decider } from '#libs/kernel/decider.js';
import { AlreadyExists, NotFound, RuleViolation } from '#libs/kernel/errors.js';
import { registrableDomain } from './domain-name.js';

// Commands are `{ type, data }` because `EnrollPartner` has a field of its own called `type`.
export type EnrollPartner = {
  readonly type: 'EnrollPartner';
  readonly data: {
    readonly partnerId: string;
    readonly name: string;
    readonly type: PartnerType;
    /** Already normalized with `registrableDomain` and claimed (see domain-claim.ts). */
    readonly domain: string;
    readonly country?: string;
    /** The lowest tier of the program in force. */
    readonly tier: string;
    readonly programVersion: number;
  };
};
export type ActivatePartner = { readonly type: 'ActivatePartner'; readonly data: { readonly partnerId: string } };
export type SuspendPartner = {
  readonly type: 'SuspendPartner';
  readonly data: { readonly partnerId: string; readonly reason: string };
};
export type ReinstatePartner = {
  readonly type: 'ReinstatePartner';
  readonly data: { readonly partnerId: string; readonly reason?: string };
};
export type TerminatePartner = {
  readonly type: 'TerminatePartner';
  readonly data: { readonly partnerId: string; readonly reason: string };
};
export type CertifySeller = {
  readonly type: 'CertifySeller';
  readonly data: {
    readonly partnerId: string;
    readonly sellerId: string;
    readonly certification: string;
    /** ISO 8601 date or UTC date-time; stored canonically (`toISOString`). */
    readonly earnedAt: string;
    readonly expiresAt?: string;
    /** Tier program v2: the catalog's validity of this certification, when the catalog lists it. */
    readonly validityDays?: number;
  };
};

// --- Tier program v2 (DOMAIN.md, "Tier program v2") ---
export type RevokeCertification = {
  readonly type: 'RevokeCertification';
  readonly data: { readonly partnerId: string; readonly sellerId: string; readonly certification: string; readonly reason: string };
};
export type OverrideTier = {
  readonly type: 'OverrideTier';
  readonly data: {
    readonly partnerId: string;
    readonly tier: string;
    readonly reason: string;
    readonly until: string;
    /** The tiers of the partner's ladder in the program version effective now, and that version. */
    readonly ladder: readonly string[];
    readonly programVersion: number;
  };
};
export type EndTierOverride = { readonly type: 'EndTierOverride'; readonly data: { readonly partnerId: string; readonly reason: string } };

export type PartnerCommand =
  | EnrollPartner
  | ActivatePartner
  | SuspendPartner
  | ReinstatePartner
  | TerminatePartner
  | CertifySeller
  | RevokeCertification
  | OverrideTier
  | EndTierOverride;

export interface Certification {
  readonly sellerId: string;
  readonly certification: string;
  readonly earnedAt: string;
  readonly expiresAt?: string;
  /** Set by `SellerCertificationRevoked`: from then on it does not count. */
  readonly revokedAt?: string;
}

export interface TierOverride {
  readonly tier: string;
  readonly reason: string;
  readonly until: string;
  readonly since: string;
  /** The qualifying tier the last evaluation under this override recorded (`PartnerTierQualificationRecorded`). */
  readonly qualifyingTier?: string;
}

export interface PendingDowngrade {
  readonly from: string;
  readonly to: string;
  readonly effectiveAt: string;
}

export type PartnerState =
  | { readonly status: 'none' }
  | {
      readonly status: PartnerStatus;
      readonly partnerId: string;
      readonly name: string;
      readonly type: PartnerType;
      readonly domain: string;
      readonly country?: string;
      readonly tier: string;
      readonly enrolledAt: string;
      readonly programVersion: number;
      readonly certifications: readonly Certification[];
      /** Set by `TierDowngradeScheduled`, cleared by a tier change or a cancellation. */
      readonly pendingDowngrade?: PendingDowngrade;
      /** Tier program v2: while set, the partner is held at `override.tier`; `tier` stays its own tier. */
      readonly override?: TierOverride;
    };

export type ExistingPartner = Exclude<PartnerState, { status: 'none' }>;

export const partnerStreamId = (partnerId: string): string => `partner-${partnerId}`;

export const initialPartnerState = (): PartnerState => ({ status: 'none' });

/**
 * Total: events are facts, so one that does not fit the state (or a type written by a newer version) is
 * ignored rather than refused.
 */
export function evolvePartner(state: PartnerState, event: PartnerEvent): PartnerState {
  if (event.type === 'PartnerEnrolled') {
    if (state.status !== 'none') return state;
    const d = event.data;
    return {
      status: 'pending',
      partnerId: d.partnerId,
      name: d.name,
      type: d.type,
      domain: d.domain,
      ...(d.country !== undefined ? { country: d.country } : {}),
      tier: d.tier,
      enrolledAt: d.enrolledAt,
      programVersion: d.programVersion,
      certifications: [],
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'PartnerActivated':
    case 'PartnerReinstated':
      return { ...state, status: 'active' };
    case 'PartnerSuspended':
      return { ...state, status: 'suspended' };
    case 'PartnerTerminated':
      return { ...state, status: 'terminated' };
    case 'SellerCertified': {
      const { sellerId, certification, earnedAt, expiresAt } = event.data;
      const cert: Certification = { sellerId, certification, earnedAt, ...(expiresAt !== undefined ? { expiresAt } : {}) };
      return { ...state, certifications: [...state.certifications, cert] };
    }
    case 'PartnerTierChanged': {
      const { pendingDowngrade: _cleared, ...rest } = state;
      return { ...rest, tier: event.data.to };
    }
    case 'TierDowngradeScheduled': {
      const { from, to, effectiveAt } = event.data;
      return { ...state, pendingDowngrade: { from, to, effectiveAt } };
    }
    case 'TierDowngradeCancelled': {
      const { pendingDowngrade: _cleared, ...rest } = state;
      return rest;
    }
    case 'SellerCertificationRevoked': {
      const { sellerId, certification, revokedAt } = event.data;
      return { ...state, certifications: state.certifications.map((c) => (c.sellerId === sellerId && c.certification === certification && c.revokedAt === undefined ? { ...c, revokedAt } : c)) };
    }
    case 'PartnerTierOverridden': {
      const { tier, reason, until, overriddenAt } = event.data;
      return { ...state, override: { tier, reason, until, since: overriddenAt } };
    }
    case 'PartnerTierOverrideEnded': {
      const { override: _ended, ...rest } = state;
      return rest;
    }
    case 'PartnerTierQualificationRecorded':
      return state.override === undefined ? state : { ...state, override: { ...state.override, qualifyingTier: event.data.qualifyingTier } };
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
}

/** The tier the partner is at: an override's while one holds, else its own. */
export function effectiveTier(state: ExistingPartner): string {
  return state.override?.tier ?? state.tier;
}

export function decidePartner(command: PartnerCommand, state: PartnerState, now: Date): readonly PartnerEvent[] {
  const at = now.toISOString();
  if (command.type === 'EnrollPartner') return enroll(command, state, at);

  const partnerId = command.data.partnerId;
  if (state.status === 'none') throw new NotFound(`partner ${partnerId} not found`);

  switch (command.type) {
    case 'ActivatePartner':
      requireStatus(state, 'activate', ['pending']);
      return [{ type: 'PartnerActivated', data: { partnerId, activatedAt: at } } satisfies PartnerActivated];
    case 'SuspendPartner': {
      const reason = requireText(command.data.reason, 'reason');
      requireStatus(state, 'suspend', ['active']);
      return [{ type: 'PartnerSuspended', data: { partnerId, reason, suspendedAt: at } } satisfies PartnerSuspended];
    }
    case 'ReinstatePartner': {
      const reason = command.data.reason === undefined ? undefined : requireText(command.data.reason, 'reason');
      requireStatus(state, 'reinstate', ['suspended']);
      return [
        {
          type: 'PartnerReinstated',
          data: { partnerId, ...(reason !== undefined ? { reason } : {}), reinstatedAt: at },
        } satisfies PartnerReinstated,
      ];
    }
    case 'TerminatePartner': {
      const reason = requireText(command.data.reason, 'reason');
      requireStatus(state, 'terminate', ['pending', 'active', 'suspended']);
      return [{ type: 'PartnerTerminated', data: { partnerId, reason, terminatedAt: at } } satisfies PartnerTerminated];
    }
    case 'CertifySeller':
      return certify(command, state);
    case 'RevokeCertification':
      return revoke(command, state, at);
    case 'OverrideTier':
      return override(command, state, now);
    case 'EndTierOverride': {
      const reason = requireText(command.data.reason, 'reason');
      if (state.override === undefined) throw new RuleViolation(`partner ${partnerId} has no tier override in force`);
      return [{ type: 'PartnerTierOverrideEnded', data: { partnerId, tier: state.override.tier, restoredTier: state.tier, reason, endedAt: at } } satisfies PartnerTierOverrideEnded];
    }
    default:
      return assertNever(command);
  }
}

export const partnerDecider: Decider<PartnerCommand, PartnerState, PartnerEvent> = {
  initialState: initialPartnerState,
  evolve: evolvePartner,
  decide: decidePartner,
};

/**
 * Sellers holding at least one certification in force at `at`: earned at or before it, and not expired
 * (no `expiresAt`, or `expiresAt` after `at`).
 */
export function certifiedSellersAt(state: PartnerState, at: Date): number {
  if (state.status === 'none') return 0;
  const t = at.getTime();
  const sellers = new Set<string>();
  for (const c of state.certifications) if (inForce(c, t)) sellers.add(c.sellerId);
  return sellers.size;
}

/** Earned at or before `t`, not expired, not revoked at `t`. */
export function inForce(c: Certification, t: number): boolean {
  const expires = c.expiresAt === undefined ? Infinity : Date.parse(c.expiresAt);
  const revoked = c.revokedAt === undefined ? Infinity : Date.parse(c.revokedAt);
  return Date.parse(c.earnedAt) <= t && expires > t && revoked > t;
}

/** Whether the partner still holds the seller at `t`: a certification of it not expired nor revoked (earned later counts too). */
export function holdsSeller(state: PartnerState, sellerId: string, t: number): boolean {
  if (state.status === 'none' || state.status === 'terminated') return false;
  return state.certifications.some((c) => c.sellerId === sellerId && (c.expiresAt === undefined || Date.parse(c.expiresAt) > t) && c.revokedAt === undefined);
}

function revoke(command: RevokeCertification, state: ExistingPartner, at: string): readonly SellerCertificationRevoked[] {
  const { sellerId, certification } = command.data;
  const reason = requireText(command.data.reason, 'reason');
  const held = state.certifications.filter((c) => c.sellerId === sellerId && c.certification === certification);
  if (held.length === 0) throw new NotFound(`seller ${sellerId} of partner ${state.partnerId} holds no certification ${certification}`);
  // Already revoked: a retry decides nothing new.
  if (held.every((c) => c.revokedAt !== undefined)) return [];
  return [{ type: 'SellerCertificationRevoked', data: { partnerId: state.partnerId, sellerId, certification, reason, revokedAt: at } }];
}

function override(command: OverrideTier, state: ExistingPartner, now: Date): readonly PartnerTierOverridden[] {
  const d = command.data;
  const reason = requireText(d.reason, 'reason');
  const until = instant(d.until, 'until');
  if (state.status === 'terminated') throw new RuleViolation(`cannot override the tier of partner ${state.partnerId}: it is terminated`);
  if (!d.ladder.includes(d.tier)) {
    throw new RuleViolation(`tier ${d.tier} is not on the ${state.type} ladder of program version ${d.programVersion} (${d.ladder.join(', ')})`, { tiers: d.ladder });
  }
  if (Date.parse(until) <= now.getTime()) throw invalidField('until', `until (${until}) must be in the future`);
  const o = state.override;
  if (o !== undefined && o.tier === d.tier && o.until === until && o.reason === reason) return [];
  return [{ type: 'PartnerTierOverridden', data: { partnerId: state.partnerId, tier: d.tier, from: state.tier, reason, until, overriddenAt: now.toISOString(), programVersion: d.programVersion } }];
}

function enroll(command: EnrollPartner, state: PartnerState, at: string): readonly PartnerEnrolled[] {
  const d = command.data;
  if (!ID_PATTERN.test(d.partnerId)) {
    throw invalidField('partnerId', `partnerId must match ${ID_PATTERN.source}`);
  }
  if (state.status !== 'none') throw new AlreadyExists(`partner ${d.partnerId} already exists`);
  const name = requireText(d.name, 'name');
  if (!PARTNER_TYPES.includes(d.type)) throw invalidField('type', `type must be one of ${PARTNER_TYPES.join(', ')}`);
  // The claim stream is keyed by this string: an unnormalized one would dodge the uniqueness rule.
  if (registrableDomain(d.domain) !== d.domain) {
    throw invalidField('domain', `domain ${JSON.stringify(d.domain)} is not a normalized registrable domain`);
  }
  const country = d.country === undefined ? undefined : requireText(d.country, 'country');
  const tier = requireText(d.tier, 'tier');
  if (!Number.isSafeInteger(d.programVersion) || d.programVersion < 0) {
    throw invalidField('programVersion', 'programVersion must be a non-negative integer');
  }
  return [
    {
      type: 'PartnerEnrolled',
      data: {
        partnerId: d.partnerId,
        name,
        type: d.type,
        domain: d.domain,
        ...(country !== undefined ? { country } : {}),
        tier,
        programVersion: d.programVersion,
        enrolledAt: at,
      },
    },
  ];
}

function certify(command: CertifySeller, state: ExistingPartner): readonly SellerCertified[] {
  const d = command.data;
  if (!ID_PATTERN.test(d.sellerId)) throw invalidField('sellerId', `sellerId must match ${ID_PATTERN.source}`);
  const certification = requireText(d.certification, 'certification');
  const earnedAt = instant(d.earnedAt, 'earnedAt');
  const given = d.expiresAt === undefined ? undefined : instant(d.expiresAt, 'expiresAt');
  if (given !== undefined && given <= earnedAt) {
    throw invalidField('expiresAt', `expiresAt (${given}) must be after earnedAt (${earnedAt})`);
  }
  // Tier program v2: a catalog certification is valid validityDays from when it was earned, never longer.
  const limit = d.validityDays === undefined ? undefined : new Date(Date.parse(earnedAt) + d.validityDays * 86_400_000).toISOString();
  if (given !== undefined && limit !== undefined && given > limit) {
    throw new RuleViolation(`${certification} is valid for ${d.validityDays} days: expiresAt (${given}) is after ${limit}`);
  }
  const expiresAt = given ?? limit;
  if (state.status === 'terminated') {
    throw new RuleViolation(`cannot certify a seller of partner ${state.partnerId}: it is terminated`);
  }
  // (seller, certification, earnedAt) identifies a certification: a retry is a no-op, a different
  // expiry for it is a conflicting fact, never an overwrite.
  const same = state.certifications.find(
    (c) => c.sellerId === d.sellerId && c.certification === certification && c.earnedAt === earnedAt,
  );
  if (same !== undefined) {
    if (same.expiresAt === expiresAt) return [];
    throw new AlreadyExists(
      `seller ${d.sellerId} of partner ${state.partnerId} already holds ${certification} earned at ${earnedAt}` +
        (same.expiresAt === undefined ? ' without expiry' : `, expiring at ${same.expiresAt}`),
    );
  }
  return [
    {
      type: 'SellerCertified',
      data: {
        partnerId: state.partnerId,
        sellerId: d.sellerId,
        certification,
        earnedAt,
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      },
    },
  ];
}

function requireStatus(state: ExistingPartner, action: string, allowed: readonly PartnerStatus[]): void {
  if (!allowed.includes(state.status)) {
    throw new RuleViolation(`cannot ${action} partner ${state.partnerId}: it is ${state.status}`, {
      currentStatus: state.status,
    });
  }
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A date (00:00 UTC) or a date-time with an explicit offset, returned as `toISOString()` so that equal
 * instants compare equal (idempotency) and sort as strings (the read model's SQL compares them so).
 */
function instant(value: string, path: string): string {
  const m = typeof value === 'string' ? ISO_INSTANT.exec(value) : null;
  const ms = m ? Date.parse(value) : NaN;
  // Date.parse rolls 2026-02-30 over to March; rebuilding the calendar date catches it.
  const calendar = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (
    m === null ||
    !Number.isFinite(ms) ||
    calendar === undefined ||
    calendar.getUTCMonth() !== Number(m[2]) - 1 ||
    calendar.getUTCDate() !== Number(m[3])
  ) {
    throw invalidField(path, `${path} must be an ISO 8601 date or UTC date-time`);
  }
  return new Date(ms).toISOString();
}

