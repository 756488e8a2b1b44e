import { createRequire } from 'node:module';
import { invalidField, isInstant, isText, MAX_TEXT, requireText } from '#libs/kernel/input.js';
import type {
  ConflictChange,
  ConflictResolution,
  CustomerDomainAliased,
  CustomerDirectReleased,
  CustomerMarkedDirect,
  DealCustomer,
  DealEvent,
  DealLost,
  DealMoney,
  DealRegistered,
  DealRegistrationApproved,
  DealRegistrationExpired,
  DealRegistrationExtended,
  DealRegistrationRejected,
  DealStatus,
  DealWon,
  ExpiryReason,
  RejectionReasonCode,
} from '#events/deals.js';
import { CONFLICT_LOST, CUSTOMER_STREAM_PREFIX, REJECTION_REASON_CODES } from '#events/deals.js';
import { assertNever, ID_PATTERN, type Decider } from '#libs/kernel/decider.js';
import { AlreadyExists, InvalidInput, NotFound, RegistrationConflict, RuleViolation, type FieldError } from '#libs/kernel/errors.js';
import { moneyProblem } from '#libs/money/money.js';
import { registrableDomain } from '#libs/partners/domain-name.js';

/**
 * Consumer and free-mail domains (gmail.com, outlook.com, yahoo.com, gmx.de, …) are not customers: a registration
 * naming one would make every private mailbox one account (DOMAIN.md, "Customer domains"). The list is the
 * `email-providers` package (about 8,800 provider domains, refreshed upstream from goware/emailproviders), not one
 * typed here; it ships as JSON, read once.
 */
const require = createRequire(import.meta.url);
const PROVIDERS: ReadonlySet<string> = new Set(require('email-providers/all.json') as string[]);

/** `domain` is a registrable domain (already folded). */
function isConsumerDomain(domain: string): boolean {
  return PROVIDERS.has(domain);
}

/**
 * The customer account: every deal registration of one customer (its registrable domain, with its aliases), the
 * consistency boundary of overlap, conflicts, precedence and "at most one approved registration per customer +
 * product" (DOMAIN.md, "Deal registration" and "Rules of engagement (v2)"; docs/deals.md).
 */
export const customerStreamId = (customerKey: string): string => `${CUSTOMER_STREAM_PREFIX}${customerKey}`;

export const MAX_PRODUCTS = 50;
const DAY_MS = 86_400_000;

/** Family → product codes (the program's `productFamilies`). */
export type ProductFamilies = Readonly<Record<string, readonly string[]>>;

/** The status of the registering partner, read from its stream at decision time (`none`: never enrolled). */
export type PartnerStatusFact = 'none' | 'pending' | 'active' | 'suspended' | 'terminated';

/** What the program in force says, as each command that depends on policy is given it. */
export interface DealPolicyFacts {
  readonly programVersion: number;
  readonly productFamilies?: ProductFamilies;
}

// --- commands: already shaped by the HTTP layer; the decider still checks what its rules rely on ---

export type RegisterDeal = {
  readonly type: 'RegisterDeal';
  readonly data: DealPolicyFacts & {
    readonly dealId: string;
    readonly partnerId: string;
    /** The account deciding: `registrableDomain(customer.domain)`, or the primary account of that alias. */
    readonly customerKey: string;
    readonly customer: DealCustomer;
    readonly products: readonly string[];
    readonly estimatedValue: DealMoney;
    /** Canonical (`toISOString()`). */
    readonly expectedCloseDate: string;
    /** Business date given by channel ops or an admin for a past registration; the record time otherwise. */
    readonly registeredAt?: string;
    readonly externalRef?: string;
    /** Set when `customer.domain` is an alias of `customerKey`: the alias's registrable domain. */
    readonly viaAlias?: string;
    readonly partnerStatus: PartnerStatusFact;
  };
};
export type ApproveDeal = {
  readonly type: 'ApproveDeal';
  readonly data: DealPolicyFacts & {
    readonly dealId: string;
    readonly protectionDays: number;
    readonly override?: { readonly reason: string };
    readonly externalRef?: string;
    readonly partnerStatus: PartnerStatusFact;
  };
};
export type RejectDeal = {
  readonly type: 'RejectDeal';
  readonly data: { readonly dealId: string; readonly reason: string; readonly reasonCode: RejectionReasonCode; readonly productFamilies?: ProductFamilies };
};
export type ExtendDeal = {
  readonly type: 'ExtendDeal';
  readonly data: {
    readonly dealId: string;
    readonly days: number;
    readonly maxExtensionDays: number;
    readonly programVersion: number;
    readonly partnerStatus: PartnerStatusFact;
  };
};
export type WinDeal = {
  readonly type: 'WinDeal';
  readonly data: {
    readonly dealId: string;
    readonly amount: DealMoney;
    readonly closedAt: string;
    readonly partnerStatus: PartnerStatusFact;
    readonly productFamilies?: ProductFamilies;
  };
};
export type LoseDeal = { readonly type: 'LoseDeal'; readonly data: { readonly dealId: string; readonly reason: string; readonly productFamilies?: ProductFamilies } };
/**
 * Ends what is due at `asOf`: approved registrations whose protection ended before it, submitted or conflicted
 * ones older than the review SLA, and the active registrations of the partners named terminated.
 */
export type ExpireDeals = {
  readonly type: 'ExpireDeals';
  readonly data: DealPolicyFacts & {
    readonly asOf: string;
    readonly registrationReviewDays: number;
    /** Partners of this account's active registrations that are terminated (read from their streams). */
    readonly terminatedPartners: readonly string[];
  };
};
/** Channel ops alias `domain` to this account (decided here; the alias domain's own stream is claimed too). */
export type AliasDomain = { readonly type: 'AliasDomain'; readonly data: { readonly customerKey: string; readonly domain: string } };
/** The alias domain's own stream accepts to point at `customerKey` (the claim of an `AliasDomain`). */
export type BecomeAlias = { readonly type: 'BecomeAlias'; readonly data: { readonly customerKey: string; readonly domain: string } };
export type MarkDirect = { readonly type: 'MarkDirect'; readonly data: { readonly customerKey: string; readonly reason: string; readonly until?: string } };
export type ReleaseDirect = { readonly type: 'ReleaseDirect'; readonly data: { readonly customerKey: string; readonly reason: string } };

export type DealCommand = RegisterDeal | ApproveDeal | RejectDeal | ExtendDeal | WinDeal | LoseDeal | ExpireDeals | AliasDomain | BecomeAlias | MarkDirect | ReleaseDirect;

// --- state ---

export interface Protection {
  readonly approvedAt: string;
  readonly protectedUntil: string;
  readonly extended: boolean;
  /** Order of the approval among the account's events, to name a conflict's latest approved member. */
  readonly approvalSeq: number;
}

interface RegistrationBase {
  readonly dealId: string;
  readonly partnerId: string;
  readonly products: readonly string[];
  /** Business time (first-to-register and the review SLA use it). */
  readonly registeredAt: string;
  /** Order among the account's registrations: breaks `registeredAt` ties. */
  readonly order: number;
  readonly externalRef?: string;
}

/** A registration, by status: an approved or won one always has its protection. */
export type Registration = RegistrationBase &
  (
    | { readonly status: 'submitted' | 'conflicted' | 'rejected' | 'lost' | 'expired'; readonly protection?: Protection }
    | { readonly status: 'approved'; readonly protection: Protection }
    | { readonly status: 'won'; readonly protection: Protection; readonly closedAt: string; readonly wonAmount: DealMoney }
  );

export interface OpenConflict {
  readonly conflictId: string;
  readonly members: readonly string[];
  readonly products: readonly string[];
}

export interface DirectMark {
  readonly reason: string;
  readonly until?: string;
  readonly markedAt: string;
}

interface Ledger {
  readonly customerKey: string;
  /** In registration order. */
  readonly registrations: readonly Registration[];
  readonly openConflicts: readonly OpenConflict[];
  /** Events folded so far. */
  readonly seq: number;
}

/**
 * `new`: nothing recorded yet. `primary`: an account (with its aliases and a direct-sales mark). `alias`: this
 * domain was aliased to `primaryKey`; its registrations from before stay here, new ones go to the primary.
 */
export type CustomerAccount =
  | { readonly status: 'new'; readonly seq: number }
  | (Ledger & { readonly status: 'primary'; readonly aliases: readonly string[]; readonly direct?: DirectMark })
  | (Ledger & { readonly status: 'alias'; readonly primaryKey: string });

export type OpenAccount = Exclude<CustomerAccount, { status: 'new' }>;

export const initialCustomerAccount = (): CustomerAccount => ({ status: 'new', seq: 0 });

const ACTIVE: ReadonlySet<DealStatus> = new Set(['submitted', 'conflicted', 'approved']);
const UNDECIDED: ReadonlySet<DealStatus> = new Set(['submitted', 'conflicted']);

/** Submitted, conflicted, or approved and not yet expired, won or lost. */
export const isActive = (r: Registration): boolean => ACTIVE.has(r.status);

/** Two product lists overlap when they share a product code, or two of their codes are in one family. */
export function shareProduct(a: readonly string[], b: readonly string[], families: ProductFamilies = {}): boolean {
  if (a.some((p) => b.includes(p))) return true;
  const fa = familiesOf(a, families);
  return fa.size > 0 && [...familiesOf(b, families)].some((f) => fa.has(f));
}

function familiesOf(products: readonly string[], families: ProductFamilies): Set<string> {
  const out = new Set<string>();
  for (const [family, codes] of Object.entries(families)) if (products.some((p) => codes.includes(p))) out.add(family);
  return out;
}

export function registrationsOf(state: CustomerAccount): readonly Registration[] {
  return state.status === 'new' ? [] : state.registrations;
}

export function findRegistration(state: CustomerAccount, dealId: string): Registration | undefined {
  return registrationsOf(state).find((r) => r.dealId === dealId);
}

/** The active registrations overlapping `products`, other than `exceptDealId`, in registration order. */
export function activeOverlaps(state: CustomerAccount, products: readonly string[], exceptDealId?: string, families?: ProductFamilies): readonly Registration[] {
  return registrationsOf(state).filter((r) => r.dealId !== exceptDealId && isActive(r) && shareProduct(r.products, products, families));
}

/** Whether direct sales own the account at `now` (marked, not released, `until` not passed). */
export function directAt(state: CustomerAccount, now: string): DirectMark | undefined {
  if (state.status !== 'primary' || state.direct === undefined) return undefined;
  return state.direct.until === undefined || now < state.direct.until ? state.direct : undefined;
}

/** The open conflicts a registration is in, with their other active members. */
export function openConflictsOf(state: CustomerAccount, dealId: string): readonly string[] {
  if (state.status === 'new') return [];
  const others = new Set<string>();
  for (const c of state.openConflicts) if (c.members.includes(dealId)) for (const m of c.members) if (m !== dealId) others.add(m);
  return registrationsOf(state).filter((r) => others.has(r.dealId) && isActive(r)).map((r) => r.dealId);
}

// --- evolve ---

/** An account with some of its ledger replaced, its status (and what goes with it) kept. */
const patched = <A extends OpenAccount>(account: A, patch: Partial<Ledger>): A => ({ ...account, ...patch });

const ledgerOf = (state: CustomerAccount, customerKey: string): OpenAccount =>
  state.status === 'new' ? { status: 'primary', customerKey, registrations: [], openConflicts: [], aliases: [], seq: state.seq } : state;

/**
 * Total: events are facts, so one that does not fit the state is ignored rather than refused. Conflict
 * membership and resolution are read from the events (the decider wrote them), never recomputed here. Events
 * recorded before v2 (without reason codes, override, policy version) fold as they always did.
 */
export function evolveCustomerAccount(state: CustomerAccount, event: DealEvent): CustomerAccount {
  const seq = state.seq + 1;
  switch (event.type) {
    case 'DealRegistered': {
      const d = event.data;
      const account = ledgerOf(state, d.customerKey);
      if (findRegistration(account, d.dealId)) return { ...account, seq };
      const registration: Registration = {
        dealId: d.dealId,
        partnerId: d.partnerId,
        products: d.products,
        status: d.status,
        registeredAt: d.registeredAt,
        order: account.registrations.length,
        ...(d.externalRef !== undefined ? { externalRef: d.externalRef } : {}),
      };
      let openConflicts = [...account.openConflicts];
      for (const change of d.conflicts ?? []) {
        const i = openConflicts.findIndex((c) => c.conflictId === change.conflictId);
        const c = openConflicts[i];
        if (c === undefined) {
          openConflicts.push({ conflictId: change.conflictId, members: [...change.addedDealIds], products: change.products });
        } else {
          const members = [...c.members, ...change.addedDealIds.filter((id) => !c.members.includes(id))];
          openConflicts = openConflicts.map((x, j) => (j === i ? { ...c, members, products: change.products } : x));
        }
      }
      return patched(account, { registrations: [...account.registrations, registration], openConflicts, seq });
    }
    case 'CustomerDomainAliased': {
      const { customerKey, domain } = event.data;
      if (event.data.recordedOn === 'alias') {
        const account = ledgerOf(state, domain);
        return { status: 'alias', customerKey: account.customerKey, registrations: account.registrations, openConflicts: account.openConflicts, primaryKey: customerKey, seq };
      }
      const account = ledgerOf(state, customerKey);
      if (account.status !== 'primary') return { ...account, seq };
      return { ...account, aliases: account.aliases.includes(domain) ? account.aliases : [...account.aliases, domain], seq };
    }
    case 'CustomerMarkedDirect': {
      const account = ledgerOf(state, event.data.customerKey);
      if (account.status !== 'primary') return { ...account, seq };
      const { reason, until, markedAt } = event.data;
      return { ...account, direct: { reason, markedAt, ...(until !== undefined ? { until } : {}) }, seq };
    }
    case 'CustomerDirectReleased': {
      if (state.status !== 'primary') return { ...state, seq };
      const { direct: _released, ...rest } = state;
      return { ...rest, seq };
    }
    default:
      return evolveRegistration(state, event, seq);
  }
}

type RegistrationEvent = Exclude<DealEvent, DealRegistered | CustomerDomainAliased | CustomerMarkedDirect | CustomerDirectReleased>;

function evolveRegistration(state: CustomerAccount, event: RegistrationEvent, seq: number): CustomerAccount {
  if (state.status === 'new') return { ...state, seq };
  const target = findRegistration(state, event.data.dealId);
  if (!target) return { ...state, seq };
  const replace = (next: Registration): readonly Registration[] => state.registrations.map((r) => (r.dealId === target.dealId ? next : r));
  const resolve = (resolved: readonly ConflictResolution[] | undefined): readonly OpenConflict[] =>
    state.openConflicts.filter((c) => !(resolved ?? []).some((x) => x.conflictId === c.conflictId));
  switch (event.type) {
    case 'DealRegistrationApproved': {
      const { approvedAt, protectedUntil, externalRef } = event.data;
      const next: Registration = {
        ...target,
        status: 'approved',
        protection: { approvedAt, protectedUntil, extended: false, approvalSeq: seq },
        ...(externalRef !== undefined ? { externalRef } : {}),
      };
      return { ...state, seq, registrations: replace(next), openConflicts: resolve(event.data.resolvedConflicts) };
    }
    case 'DealRegistrationRejected':
      return { ...state, seq, registrations: replace({ ...target, status: 'rejected' }), openConflicts: resolve(event.data.resolvedConflicts) };
    case 'DealRegistrationExtended': {
      if (target.protection === undefined) return { ...state, seq };
      const protection = { ...target.protection, protectedUntil: event.data.protectedUntil, extended: true };
      return { ...state, seq, registrations: replace({ ...target, protection } as Registration) };
    }
    case 'DealRegistrationExpired':
      return { ...state, seq, registrations: replace({ ...target, status: 'expired' }), openConflicts: resolve(event.data.resolvedConflicts) };
    case 'DealWon': {
      const protection = target.protection ?? { approvedAt: event.data.wonAt, protectedUntil: event.data.protectedUntil, extended: false, approvalSeq: seq };
      const next: Registration = { ...target, status: 'won', protection, closedAt: event.data.closedAt, wonAmount: event.data.amount };
      return { ...state, seq, registrations: replace(next), openConflicts: resolve(event.data.resolvedConflicts) };
    }
    case 'DealLost':
      return { ...state, seq, registrations: replace({ ...target, status: 'lost' }), openConflicts: resolve(event.data.resolvedConflicts) };
    default:
      return assertNever(event);
  }
}

// --- decide ---

export function decideCustomerAccount(command: DealCommand, state: CustomerAccount, now: Date): readonly DealEvent[] {
  const at = now.toISOString();
  switch (command.type) {
    case 'RegisterDeal':
      return [register(command, state, at)];
    case 'ExpireDeals':
      return expire(command, state, at);
    case 'ApproveDeal':
      return approve(command, state, now);
    case 'RejectDeal': {
      const { reasonCode, productFamilies } = command.data;
      const reason = requireText(command.data.reason, 'reason');
      if (!REJECTION_REASON_CODES.includes(reasonCode)) throw invalidField('reasonCode', `reasonCode must be one of ${REJECTION_REASON_CODES.join(', ')}`);
      const { account, r } = existing(state, command.data.dealId);
      requireStatus(r, 'reject', UNDECIDED);
      const event: DealRegistrationRejected = {
        type: 'DealRegistrationRejected',
        data: { dealId: r.dealId, partnerId: r.partnerId, customerKey: account.customerKey, reason, reasonCode, rejectedAt: at, resolvedConflicts: [] },
      };
      return withResolutions(account, [event], productFamilies);
    }
    case 'ExtendDeal':
      return [extend(command, state, now)];
    case 'WinDeal':
      return withResolutions(accountOf(state), [win(command, state, at)], command.data.productFamilies);
    case 'LoseDeal': {
      const reason = requireText(command.data.reason, 'reason');
      const { account, r } = existing(state, command.data.dealId);
      requireStatus(r, 'record the loss of', ACTIVE);
      const event: DealLost = {
        type: 'DealLost',
        data: { dealId: r.dealId, partnerId: r.partnerId, customerKey: account.customerKey, reason, lostAt: at, resolvedConflicts: [] },
      };
      return withResolutions(account, [event], command.data.productFamilies);
    }
    case 'AliasDomain':
      return aliasDomain(command, state, at);
    case 'BecomeAlias':
      return becomeAlias(command, state, at);
    case 'MarkDirect':
      return [markDirect(command, state, at)];
    case 'ReleaseDirect':
      return [releaseDirect(command, state, at)];
    default:
      return assertNever(command);
  }
}

export const customerAccountDecider: Decider<DealCommand, CustomerAccount, DealEvent> = {
  initialState: initialCustomerAccount,
  evolve: evolveCustomerAccount,
  decide: decideCustomerAccount,
};

/** 422 `partner-not-active`: the partner must be active to register, be approved, extend and win. */
function requireActivePartner(partnerId: string, status: PartnerStatusFact, action: string, dealId?: string): void {
  if (status === 'active') return;
  const what = status === 'none' ? 'is not enrolled' : `is ${status}`;
  throw new RuleViolation(`partner ${partnerId} ${what}: only active partners ${action}`, { partnerId, partnerStatus: status, ...(dealId ? { dealId } : {}) }, [], 'partner-not-active');
}

function register(command: RegisterDeal, state: CustomerAccount, at: string): DealRegistered {
  const d = command.data;
  const errors: FieldError[] = [];
  if (!ID_PATTERN.test(d.dealId)) errors.push({ path: 'dealId', message: `dealId must match ${ID_PATTERN.source}` });
  if (!ID_PATTERN.test(d.partnerId)) errors.push({ path: 'partnerId', message: `partnerId must match ${ID_PATTERN.source}` });
  const named = registrableDomain(d.customer.domain);
  if (typeof d.customerKey !== 'string' || registrableDomain(d.customerKey) !== d.customerKey) {
    errors.push({ path: 'customer.domain', message: 'customerKey must be a normalized registrable domain' });
  } else if (named !== (d.viaAlias ?? d.customerKey)) {
    errors.push({ path: 'customer.domain', message: `customer.domain does not fold to ${d.viaAlias ?? d.customerKey}` });
  }
  if (state.status !== 'new' && state.customerKey !== d.customerKey) {
    errors.push({ path: 'customer.domain', message: `this account is ${state.customerKey}, not ${d.customerKey}` });
  }
  if (!isText(d.customer.name)) errors.push({ path: 'customer.name', message: `must be a non-empty string of at most ${MAX_TEXT} characters` });
  if (d.customer.country !== undefined && !isText(d.customer.country)) errors.push({ path: 'customer.country', message: 'must be a country code' });
  if (!Array.isArray(d.products) || d.products.length === 0 || d.products.length > MAX_PRODUCTS) {
    errors.push({ path: 'products', message: `must list 1 to ${MAX_PRODUCTS} product codes` });
  } else if (d.products.some((p) => typeof p !== 'string' || !ID_PATTERN.test(p))) {
    errors.push({ path: 'products', message: `product codes must match ${ID_PATTERN.source}` });
  } else if (new Set(d.products).size !== d.products.length) {
    errors.push({ path: 'products', message: 'product codes must be unique' });
  }
  const money = moneyProblem(d.estimatedValue);
  if (money !== undefined) errors.push({ path: 'estimatedValue', message: money });
  if (!isInstant(d.expectedCloseDate)) errors.push({ path: 'expectedCloseDate', message: 'must be a canonical UTC instant' });
  if (d.registeredAt !== undefined && !isInstant(d.registeredAt)) errors.push({ path: 'registeredAt', message: 'must be a canonical UTC instant' });
  if (d.externalRef !== undefined && !isText(d.externalRef)) errors.push({ path: 'externalRef', message: `must be a non-empty string of at most ${MAX_TEXT} characters` });
  if (errors.length) throw new InvalidInput(errors[0]?.message ?? 'invalid registration', {}, errors);

  if (named !== undefined && isConsumerDomain(named)) {
    throw new RuleViolation(`${named} is a consumer or free-mail domain, not a customer: register the customer's own domain`, { domain: named }, [], 'consumer-domain');
  }
  requireActivePartner(d.partnerId, d.partnerStatus, 'register deals');
  if (state.status === 'alias') {
    // The alias was recorded after the handler looked: decide again on the primary account.
    throw new RegistrationConflict(`${state.customerKey} is an alias of ${state.primaryKey}`, { customerKey: state.primaryKey, aliasOf: state.primaryKey }, [], 'customer-aliased');
  }
  const direct = directAt(state, at);
  if (direct) {
    throw new RegistrationConflict(`${d.customerKey} is a direct account (${direct.reason}): registrations are refused${direct.until ? ` until ${direct.until}` : ' until released'}`, {
      customerKey: d.customerKey,
      ...(direct.until !== undefined ? { until: direct.until } : {}),
    }, [], 'direct-account');
  }
  if (findRegistration(state, d.dealId)) throw new AlreadyExists(`deal ${d.dealId} already exists`, { dealId: d.dealId });

  const families = d.productFamilies ?? {};
  const overlaps = activeOverlaps(state, d.products, undefined, families);
  const conflicts = overlaps.length && state.status === 'primary' ? conflictChanges(state, d.dealId, d.products, overlaps, families) : [];
  return {
    type: 'DealRegistered',
    data: {
      dealId: d.dealId,
      partnerId: d.partnerId,
      customerKey: d.customerKey,
      customer: {
        name: d.customer.name,
        domain: d.customer.domain,
        ...(d.customer.country !== undefined ? { country: d.customer.country } : {}),
      },
      products: [...d.products],
      estimatedValue: { amountMinor: d.estimatedValue.amountMinor, currency: d.estimatedValue.currency },
      expectedCloseDate: d.expectedCloseDate,
      registeredAt: d.registeredAt ?? at,
      ...(d.externalRef !== undefined ? { externalRef: d.externalRef } : {}),
      ...(d.viaAlias !== undefined ? { viaAlias: d.viaAlias } : {}),
      programVersion: d.programVersion,
      status: overlaps.length ? 'conflicted' : 'submitted',
      conflictsWith: overlaps.map((r) => r.dealId),
      conflicts,
    },
  };
}

/**
 * A conflicted registration joins every open conflict of the registrations it overlaps; those of them in
 * no open conflict join the oldest of these. When none of them is in an open conflict, it opens one with
 * all of them, named `<first overlapped registration>/<this registration>`: deterministic, and unique
 * because a registration opens at most one conflict (docs/deals.md).
 */
function conflictChanges(state: Ledger, dealId: string, products: readonly string[], overlaps: readonly Registration[], families: ProductFamilies): readonly ConflictChange[] {
  const ids = overlaps.map((r) => r.dealId);
  const touched = state.openConflicts.filter((c) => c.members.some((m) => ids.includes(m)));
  const uncovered = ids.filter((id) => !state.openConflicts.some((c) => c.members.includes(id)));
  const productsOf = (members: readonly string[]): readonly string[] =>
    contested(
      members.map((m) => (m === dealId ? products : (state.registrations.find((r) => r.dealId === m)?.products ?? []))),
      families,
    );
  const [first] = ids;
  if (touched.length === 0) {
    const members = [...ids, dealId];
    return [{ conflictId: `${first}/${dealId}`, opened: true, addedDealIds: members, products: productsOf(members) }];
  }
  return touched.map((c, i) => {
    const added = i === 0 ? [...uncovered, dealId] : [dealId];
    return { conflictId: c.conflictId, opened: false, addedDealIds: added, products: productsOf([...c.members, ...added]) };
  });
}

/** Products that overlap a product of another member (the same code, or one of its family): what the conflict is about. Sorted. */
function contested(productLists: readonly (readonly string[])[], families: ProductFamilies): readonly string[] {
  const out = new Set<string>();
  productLists.forEach((list, i) => {
    for (const p of list) if (productLists.some((other, j) => j !== i && shareProduct([p], other, families))) out.add(p);
  });
  return [...out].sort();
}

/** `a` registered before `b`: by business date, then by registration order. */
const earlier = (a: Registration, b: Registration): boolean => a.registeredAt < b.registeredAt || (a.registeredAt === b.registeredAt && a.order < b.order);

function approve(command: ApproveDeal, state: CustomerAccount, now: Date): readonly DealEvent[] {
  const { protectionDays, programVersion, override, externalRef, partnerStatus } = command.data;
  const families = command.data.productFamilies ?? {};
  if (!Number.isSafeInteger(protectionDays) || protectionDays < 1) throw new RuleViolation(`program version ${programVersion} has no valid protectionDays`);
  if (override !== undefined) requireText(override.reason, 'override.reason');
  if (externalRef !== undefined) requireText(externalRef, 'externalRef');
  const { account, r } = existing(state, command.data.dealId);
  if (r.status === 'approved') throw new RuleViolation(`deal ${r.dealId} is already approved`, { dealId: r.dealId, currentStatus: r.status });
  requireStatus(r, 'approve', UNDECIDED);
  requireActivePartner(r.partnerId, partnerStatus, 'have registrations approved', r.dealId);
  const at = now.toISOString();
  const direct = directAt(account, at);
  if (direct) {
    throw new RegistrationConflict(`${account.customerKey} is a direct account (${direct.reason}): no registration is approved while it is`, { dealId: r.dealId, customerKey: account.customerKey }, [], 'direct-account');
  }
  const overlapping = activeOverlaps(account, r.products, r.dealId, families);
  const holders = overlapping.filter((o) => o.status === 'approved');
  if (holders.length) {
    throw new RegistrationConflict(
      `deal ${r.dealId} overlaps the approved registration ${holders.map((h) => h.dealId).join(', ')} of ${account.customerKey}`,
      { dealId: r.dealId, conflictsWith: holders.map((h) => h.dealId) },
    );
  }
  const earlierPending = overlapping.filter((o) => UNDECIDED.has(o.status) && earlier(o, r)).map((o) => o.dealId);
  if (earlierPending.length && override === undefined) {
    throw new RegistrationConflict(
      `deal ${r.dealId} was registered after ${earlierPending.join(', ')}, still pending: first to register wins unless the approval carries override: { reason }`,
      { dealId: r.dealId, earlierDealIds: earlierPending },
      [],
      'earlier-registration-pending',
    );
  }
  const protectedUntil = new Date(now.getTime() + protectionDays * DAY_MS).toISOString();
  const rejections: DealRegistrationRejected[] = overlapping.map((l) => ({
    type: 'DealRegistrationRejected',
    data: {
      dealId: l.dealId,
      partnerId: l.partnerId,
      customerKey: account.customerKey,
      reason: CONFLICT_LOST,
      reasonCode: 'conflict-lost',
      winnerDealId: r.dealId,
      rejectedAt: at,
      resolvedConflicts: [],
    },
  }));
  const approved: DealRegistrationApproved = {
    type: 'DealRegistrationApproved',
    data: {
      dealId: r.dealId,
      partnerId: r.partnerId,
      customerKey: account.customerKey,
      products: r.products,
      approvedAt: at,
      protectedUntil,
      protectionDays,
      programVersion,
      rejectedDealIds: overlapping.map((l) => l.dealId),
      resolvedConflicts: [],
      // Recorded only when it set something aside: an override with nothing earlier pending changes nothing.
      ...(override !== undefined && earlierPending.length ? { precedenceOverride: { reason: override.reason, earlierDealIds: earlierPending } } : {}),
      ...(externalRef !== undefined ? { externalRef } : {}),
    },
  };
  // The approval resolves what the whole append resolves: it is the decision, the rejections its consequence.
  const after = [approved, ...rejections].reduce<CustomerAccount>(evolveCustomerAccount, account);
  return [{ ...approved, data: { ...approved.data, resolvedConflicts: resolvable(after, families) } }, ...rejections];
}

/** 422 `protection-lapsed`, or `registration-not-active` for one that was never protected. */
function requireProtected(r: Registration, action: string): Protection {
  if (r.status === 'approved') return r.protection;
  if (r.status === 'expired' && r.protection !== undefined) {
    throw new RuleViolation(`cannot ${action} deal ${r.dealId}: its protection lapsed at ${r.protection.protectedUntil} and it expired`, {
      dealId: r.dealId,
      currentStatus: r.status,
      protectedUntil: r.protection.protectedUntil,
    }, [], 'protection-lapsed');
  }
  throw notActive(r, action);
}

function extend(command: ExtendDeal, state: CustomerAccount, now: Date): DealRegistrationExtended {
  const { days, maxExtensionDays, programVersion, partnerStatus } = command.data;
  if (!Number.isSafeInteger(days) || days < 1) throw invalidField('days', 'days must be a positive integer');
  const { account, r } = existing(state, command.data.dealId);
  const protection = requireProtected(r, 'extend');
  requireActivePartner(r.partnerId, partnerStatus, 'extend registrations', r.dealId);
  const at = now.toISOString();
  if (at > protection.protectedUntil) {
    throw new RuleViolation(`deal ${r.dealId} is no longer protected (since ${protection.protectedUntil}): an extension must be asked for while it is`, {
      dealId: r.dealId,
      protectedUntil: protection.protectedUntil,
    }, [], 'protection-lapsed');
  }
  if (protection.extended) throw new RuleViolation(`deal ${r.dealId} was already extended: one extension per registration`, { dealId: r.dealId });
  if (days > maxExtensionDays) {
    throw new RuleViolation(`an extension of ${days} days exceeds the ${maxExtensionDays} days program version ${programVersion} allows`, {
      dealId: r.dealId,
      maxExtensionDays,
      programVersion,
    });
  }
  const previous = protection.protectedUntil;
  return {
    type: 'DealRegistrationExtended',
    data: {
      dealId: r.dealId,
      partnerId: r.partnerId,
      customerKey: account.customerKey,
      days,
      previousProtectedUntil: previous,
      protectedUntil: new Date(Date.parse(previous) + days * DAY_MS).toISOString(),
      maxExtensionDays,
      programVersion,
      extendedAt: at,
    },
  };
}

function win(command: WinDeal, state: CustomerAccount, at: string): DealWon {
  const { amount, closedAt, partnerStatus } = command.data;
  const errors: FieldError[] = [];
  const money = moneyProblem(amount);
  if (money !== undefined) errors.push({ path: 'amount', message: money });
  if (!isInstant(closedAt)) errors.push({ path: 'closedAt', message: 'must be a canonical UTC instant' });
  if (errors.length) throw new InvalidInput(errors[0]?.message ?? 'invalid win', {}, errors);
  const { account, r } = existing(state, command.data.dealId);
  const protection = requireProtected(r, 'record a win of');
  requireActivePartner(r.partnerId, partnerStatus, 'win registered deals', r.dealId);
  if (closedAt < r.registeredAt) {
    throw new RuleViolation(`deal ${r.dealId} closed at ${closedAt}, before it was registered at ${r.registeredAt}: a partner cannot register a deal that has already closed`, {
      dealId: r.dealId,
      registeredAt: r.registeredAt,
    }, [], 'closed-before-registration');
  }
  // Business time: a win recorded late still counts if the deal closed while protected.
  if (closedAt > protection.protectedUntil) {
    throw new RuleViolation(`deal ${r.dealId} closed at ${closedAt}, after its protection ended at ${protection.protectedUntil}`, {
      dealId: r.dealId,
      protectedUntil: protection.protectedUntil,
    }, [], 'protection-lapsed');
  }
  return {
    type: 'DealWon',
    data: {
      dealId: r.dealId,
      partnerId: r.partnerId,
      customerKey: account.customerKey,
      products: r.products,
      amount: { amountMinor: amount.amountMinor, currency: amount.currency },
      closedAt,
      protectedUntil: protection.protectedUntil,
      wonAt: at,
      resolvedConflicts: [],
    },
  };
}

function expire(command: ExpireDeals, state: CustomerAccount, at: string): readonly DealEvent[] {
  const { asOf, registrationReviewDays, terminatedPartners, programVersion } = command.data;
  if (!isInstant(asOf)) throw invalidField('asOf', 'asOf must be a canonical UTC instant');
  if (!Number.isSafeInteger(registrationReviewDays) || registrationReviewDays < 1) throw new RuleViolation(`program version ${programVersion} has no valid registrationReviewDays`);
  if (state.status === 'new') return [];
  const reviewMs = registrationReviewDays * DAY_MS;
  const reasonOf = (r: Registration): ExpiryReason | undefined => {
    if (r.status === 'approved' && r.protection.protectedUntil < asOf) return 'protection-ended';
    if (UNDECIDED.has(r.status) && new Date(Date.parse(r.registeredAt) + reviewMs).toISOString() < asOf) return 'review-lapsed';
    if (isActive(r) && terminatedPartners.includes(r.partnerId)) return 'partner-terminated';
    return undefined;
  };
  const events: DealRegistrationExpired[] = [];
  for (const r of state.registrations) {
    const reason = reasonOf(r);
    if (reason === undefined) continue;
    events.push({
      type: 'DealRegistrationExpired',
      data: {
        dealId: r.dealId,
        partnerId: r.partnerId,
        customerKey: state.customerKey,
        products: r.products,
        ...(r.protection !== undefined ? { protectedUntil: r.protection.protectedUntil } : {}),
        asOf,
        expiredAt: at,
        reason,
        programVersion,
        resolvedConflicts: [],
      },
    });
  }
  return withResolutions(state, events, command.data.productFamilies);
}

function aliasDomain(command: AliasDomain, state: CustomerAccount, at: string): readonly CustomerDomainAliased[] {
  const { customerKey, domain } = command.data;
  checkAliasPair(customerKey, domain);
  if (state.status === 'alias') {
    throw new RuleViolation(`${customerKey} is itself an alias of ${state.primaryKey}: alias ${domain} to ${state.primaryKey}`, { customerKey, aliasOf: state.primaryKey }, [], 'customer-aliased');
  }
  if (state.status === 'primary' && state.aliases.includes(domain)) return [];
  return [{ type: 'CustomerDomainAliased', data: { customerKey, domain, recordedOn: 'primary', aliasedAt: at } }];
}

function becomeAlias(command: BecomeAlias, state: CustomerAccount, at: string): readonly CustomerDomainAliased[] {
  const { customerKey, domain } = command.data;
  checkAliasPair(customerKey, domain);
  if (state.status === 'alias') {
    if (state.primaryKey === customerKey) return [];
    throw new AlreadyExists(`${domain} is already an alias of ${state.primaryKey}: a domain is an alias of at most one account`, { domain, aliasOf: state.primaryKey });
  }
  if (state.status === 'primary') {
    const active = state.registrations.filter(isActive).map((r) => r.dealId);
    if (active.length) {
      throw new RuleViolation(`${domain} has active registrations of its own (${active.join(', ')}): decide them before aliasing it`, { domain, dealIds: active }, [], 'alias-has-registrations');
    }
    if (state.aliases.length) {
      throw new RuleViolation(`${domain} has aliases of its own (${state.aliases.join(', ')}): an alias cannot have aliases`, { domain, aliases: state.aliases }, [], 'alias-has-aliases');
    }
  }
  return [{ type: 'CustomerDomainAliased', data: { customerKey, domain, recordedOn: 'alias', aliasedAt: at } }];
}

function checkAliasPair(customerKey: string, domain: string): void {
  if (registrableDomain(domain) !== domain) throw invalidField('domain', 'domain must be a normalized registrable domain');
  if (registrableDomain(customerKey) !== customerKey) throw invalidField('customerKey', 'customerKey must be a normalized registrable domain');
  if (domain === customerKey) throw invalidField('domain', 'an account cannot be its own alias');
  if (isConsumerDomain(domain)) throw new RuleViolation(`${domain} is a consumer or free-mail domain, not a customer`, { domain }, [], 'consumer-domain');
}

function markDirect(command: MarkDirect, state: CustomerAccount, at: string): CustomerMarkedDirect {
  const { customerKey, until } = command.data;
  const reason = requireText(command.data.reason, 'reason');
  if (until !== undefined && !isInstant(until)) throw invalidField('until', 'until must be a canonical UTC instant');
  if (registrableDomain(customerKey) !== customerKey) throw invalidField('customerKey', 'customerKey must be a normalized registrable domain');
  if (state.status === 'alias') {
    throw new RuleViolation(`${customerKey} is an alias of ${state.primaryKey}: mark ${state.primaryKey} instead`, { customerKey, aliasOf: state.primaryKey }, [], 'customer-aliased');
  }
  return { type: 'CustomerMarkedDirect', data: { customerKey, reason, ...(until !== undefined ? { until } : {}), markedAt: at } };
}

function releaseDirect(command: ReleaseDirect, state: CustomerAccount, at: string): CustomerDirectReleased {
  const { customerKey } = command.data;
  const reason = requireText(command.data.reason, 'reason');
  if (state.status !== 'primary' || state.direct === undefined) throw new RuleViolation(`${customerKey} is not a direct account`, { customerKey }, [], 'not-direct');
  return { type: 'CustomerDirectReleased', data: { customerKey, reason, releasedAt: at } };
}

/** Open conflicts in which no two active members overlap any more, with their winners. */
export function resolvable(state: CustomerAccount, families: ProductFamilies = {}): readonly ConflictResolution[] {
  if (state.status === 'new') return [];
  const out: ConflictResolution[] = [];
  for (const c of state.openConflicts) {
    const members = c.members.map((m) => findRegistration(state, m)).filter((r): r is Registration => r !== undefined);
    const live = members.filter(isActive);
    const contestedStill = live.some((a, i) => live.slice(i + 1).some((b) => shareProduct(a.products, b.products, families)));
    if (contestedStill) continue;
    let winner: { dealId: string; seq: number } | undefined;
    for (const m of members) {
      const seq = m.protection?.approvalSeq;
      if (seq !== undefined && (winner === undefined || seq > winner.seq)) winner = { dealId: m.dealId, seq };
    }
    out.push({ conflictId: c.conflictId, ...(winner ? { winnerDealId: winner.dealId } : {}) });
  }
  return out;
}

type Resolving = DealRegistrationRejected | DealRegistrationExpired | DealWon | DealLost;

/** Each event carries the conflicts that it leaves without two active, overlapping members. */
function withResolutions<E extends Resolving>(state: CustomerAccount, events: readonly E[], families?: ProductFamilies): readonly E[] {
  let s = state;
  return events.map((e) => {
    const resolved = resolvable(evolveCustomerAccount(s, e), families);
    const out = { ...e, data: { ...e.data, resolvedConflicts: resolved } } as E;
    s = evolveCustomerAccount(s, out);
    return out;
  });
}

// --- helpers ---

function accountOf(state: CustomerAccount): OpenAccount {
  if (state.status === 'new') throw new NotFound('this customer account has no registrations');
  return state;
}

function existing(state: CustomerAccount, dealId: string): { account: OpenAccount; r: Registration } {
  const r = findRegistration(state, dealId);
  if (!r || state.status === 'new') throw new NotFound(`deal ${dealId} not found`);
  return { account: state, r };
}

function notActive(r: Registration, action: string): RuleViolation {
  return new RuleViolation(`cannot ${action} deal ${r.dealId}: it is ${r.status}`, { dealId: r.dealId, currentStatus: r.status }, [], 'registration-not-active');
}

function requireStatus(r: Registration, action: string, allowed: ReadonlySet<DealStatus>): void {
  if (!allowed.has(r.status)) throw notActive(r, action);
}
