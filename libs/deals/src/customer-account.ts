import { invalidField, isInstant, isText, MAX_TEXT, requireText } from '#libs/kernel/input.js';
import type {
  ConflictChange,
  ConflictResolution,
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
} from '#events/deals.js';
import { CONFLICT_LOST, CUSTOMER_STREAM_PREFIX } from '#events/deals.js';
import { assertNever, ID_PATTERN, type Decider } from '#libs/kernel/decider.js';
import { AlreadyExists, InvalidInput, NotFound, RegistrationConflict, RuleViolation, type FieldError } from '#libs/kernel/errors.js';
import { moneyProblem } from '#libs/money/money.js';
import { registrableDomain } from '#libs/partners/domain-name.js';

/**
 * The customer account: every deal registration of one customer (its registrable domain), the consistency
 * boundary of overlap, conflicts and "at most one approved registration per customer + product"
 * (DOMAIN.md, "Deal registration"; docs/deals.md for conflicts).
 */
export const customerStreamId = (customerKey: string): string => `${CUSTOMER_STREAM_PREFIX}${customerKey}`;

export const MAX_PRODUCTS = 50;
const DAY_MS = 86_400_000;

// --- commands: already shaped by the HTTP layer; the decider still checks what its rules rely on ---

export type RegisterDeal = {
  readonly type: 'RegisterDeal';
  readonly data: {
    readonly dealId: string;
    readonly partnerId: string;
    /** `registrableDomain(customer.domain)`. */
    readonly customerKey: string;
    readonly customer: DealCustomer;
    readonly products: readonly string[];
    readonly estimatedValue: DealMoney;
    /** Canonical (`toISOString()`). */
    readonly expectedCloseDate: string;
  };
};
export type ApproveDeal = {
  readonly type: 'ApproveDeal';
  /** Policy of the program in force. */
  readonly data: { readonly dealId: string; readonly protectionDays: number; readonly programVersion: number };
};
export type RejectDeal = { readonly type: 'RejectDeal'; readonly data: { readonly dealId: string; readonly reason: string } };
export type ExtendDeal = {
  readonly type: 'ExtendDeal';
  readonly data: { readonly dealId: string; readonly days: number; readonly maxExtensionDays: number; readonly programVersion: number };
};
export type WinDeal = { readonly type: 'WinDeal'; readonly data: { readonly dealId: string; readonly amount: DealMoney; readonly closedAt: string } };
export type LoseDeal = { readonly type: 'LoseDeal'; readonly data: { readonly dealId: string; readonly reason: string } };
/** Expires every approved registration of the account whose protection ended before `asOf`. */
export type ExpireDeals = { readonly type: 'ExpireDeals'; readonly data: { readonly asOf: string } };

export type DealCommand = RegisterDeal | ApproveDeal | RejectDeal | ExtendDeal | WinDeal | LoseDeal | ExpireDeals;

// --- state ---

export interface Registration {
  readonly dealId: string;
  readonly partnerId: string;
  readonly products: readonly string[];
  readonly status: DealStatus;
  readonly registeredAt: string;
  readonly approvedAt?: string;
  readonly protectedUntil?: string;
  readonly extended: boolean;
  /** Order of the approval among the account's events, to name a conflict's latest approved member. */
  readonly approvalSeq?: number;
  readonly closedAt?: string;
  readonly wonAmount?: DealMoney;
}

export interface OpenConflict {
  readonly conflictId: string;
  readonly members: readonly string[];
  readonly products: readonly string[];
}

export interface CustomerAccount {
  readonly customerKey?: string;
  /** In registration order. */
  readonly registrations: readonly Registration[];
  readonly openConflicts: readonly OpenConflict[];
  /** Events folded so far. */
  readonly seq: number;
}

export const initialCustomerAccount = (): CustomerAccount => ({ registrations: [], openConflicts: [], seq: 0 });

const ACTIVE: ReadonlySet<DealStatus> = new Set(['submitted', 'conflicted', 'approved']);
const UNDECIDED: ReadonlySet<DealStatus> = new Set(['submitted', 'conflicted']);

/** Submitted, conflicted, or approved and not yet expired, won or lost. */
export const isActive = (r: Registration): boolean => ACTIVE.has(r.status);

/** Two registrations overlap when they share a product; the same customer is given by the stream. */
export function shareProduct(a: readonly string[], b: readonly string[]): boolean {
  return a.some((p) => b.includes(p));
}

export function findRegistration(state: CustomerAccount, dealId: string): Registration | undefined {
  return state.registrations.find((r) => r.dealId === dealId);
}

/** The active registrations overlapping `products`, other than `exceptDealId`, in registration order. */
export function activeOverlaps(state: CustomerAccount, products: readonly string[], exceptDealId?: string): readonly Registration[] {
  return state.registrations.filter((r) => r.dealId !== exceptDealId && isActive(r) && shareProduct(r.products, products));
}

// --- evolve ---

/**
 * Total: events are facts, so one that does not fit the state is ignored rather than refused. Conflict
 * membership and resolution are read from the events (the decider wrote them), never recomputed here.
 */
export function evolveCustomerAccount(state: CustomerAccount, event: DealEvent): CustomerAccount {
  const seq = state.seq + 1;
  if (event.type === 'DealRegistered') {
    const d = event.data;
    if (findRegistration(state, d.dealId)) return { ...state, seq };
    const registration: Registration = {
      dealId: d.dealId,
      partnerId: d.partnerId,
      products: d.products,
      status: d.status,
      registeredAt: d.registeredAt,
      extended: false,
    };
    let openConflicts = [...state.openConflicts];
    for (const change of d.conflicts ?? []) {
      const i = openConflicts.findIndex((c) => c.conflictId === change.conflictId);
      if (i < 0) {
        openConflicts.push({ conflictId: change.conflictId, members: [...change.addedDealIds], products: change.products });
      } else {
        const c = openConflicts[i]!;
        const members = [...c.members, ...change.addedDealIds.filter((id) => !c.members.includes(id))];
        openConflicts = openConflicts.map((x, j) => (j === i ? { ...c, members, products: change.products } : x));
      }
    }
    return { customerKey: state.customerKey ?? d.customerKey, registrations: [...state.registrations, registration], openConflicts, seq };
  }
  const target = findRegistration(state, event.data.dealId);
  if (!target) return { ...state, seq };
  const update = (patch: Partial<Registration>): readonly Registration[] =>
    state.registrations.map((r) => (r.dealId === target.dealId ? { ...r, ...patch } : r));
  const resolve = (resolved: readonly ConflictResolution[] | undefined): readonly OpenConflict[] =>
    state.openConflicts.filter((c) => !(resolved ?? []).some((x) => x.conflictId === c.conflictId));
  switch (event.type) {
    case 'DealRegistrationApproved': {
      const { approvedAt, protectedUntil } = event.data;
      return { ...state, seq, registrations: update({ status: 'approved', approvedAt, protectedUntil, approvalSeq: seq }), openConflicts: resolve(event.data.resolvedConflicts) };
    }
    case 'DealRegistrationRejected':
      return { ...state, seq, registrations: update({ status: 'rejected' }), openConflicts: resolve(event.data.resolvedConflicts) };
    case 'DealRegistrationExtended':
      return { ...state, seq, registrations: update({ protectedUntil: event.data.protectedUntil, extended: true }) };
    case 'DealRegistrationExpired':
      return { ...state, seq, registrations: update({ status: 'expired' }), openConflicts: resolve(event.data.resolvedConflicts) };
    case 'DealWon':
      return { ...state, seq, registrations: update({ status: 'won', closedAt: event.data.closedAt, wonAmount: event.data.amount }), openConflicts: resolve(event.data.resolvedConflicts) };
    case 'DealLost':
      return { ...state, seq, registrations: update({ status: 'lost' }), openConflicts: resolve(event.data.resolvedConflicts) };
    default: {
      const _exhaustive: never = event;
      return { ...state, seq };
    }
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
      const reason = requireText(command.data.reason, 'reason');
      const r = existing(state, command.data.dealId);
      requireStatus(r, 'reject', UNDECIDED);
      const event: DealRegistrationRejected = {
        type: 'DealRegistrationRejected',
        data: { dealId: r.dealId, partnerId: r.partnerId, customerKey: key(state), reason, rejectedAt: at, resolvedConflicts: [] },
      };
      return withResolutions(state, [event]);
    }
    case 'ExtendDeal':
      return [extend(command, state, at)];
    case 'WinDeal':
      return withResolutions(state, [win(command, state, at)]);
    case 'LoseDeal': {
      const reason = requireText(command.data.reason, 'reason');
      const r = existing(state, command.data.dealId);
      requireStatus(r, 'record the loss of', ACTIVE);
      const event: DealLost = {
        type: 'DealLost',
        data: { dealId: r.dealId, partnerId: r.partnerId, customerKey: key(state), reason, lostAt: at, resolvedConflicts: [] },
      };
      return withResolutions(state, [event]);
    }
    default:
      return assertNever(command);
  }
}

export const customerAccountDecider: Decider<DealCommand, CustomerAccount, DealEvent> = {
  initialState: initialCustomerAccount,
  evolve: evolveCustomerAccount,
  decide: decideCustomerAccount,
};

function register(command: RegisterDeal, state: CustomerAccount, at: string): DealRegistered {
  const d = command.data;
  const errors: FieldError[] = [];
  if (!ID_PATTERN.test(d.dealId)) errors.push({ path: 'dealId', message: `dealId must match ${ID_PATTERN.source}` });
  if (!ID_PATTERN.test(d.partnerId)) errors.push({ path: 'partnerId', message: `partnerId must match ${ID_PATTERN.source}` });
  if (typeof d.customerKey !== 'string' || registrableDomain(d.customerKey) !== d.customerKey) {
    errors.push({ path: 'customer.domain', message: 'customerKey must be a normalized registrable domain' });
  } else if (registrableDomain(d.customer.domain) !== d.customerKey) {
    errors.push({ path: 'customer.domain', message: `customer.domain does not fold to ${d.customerKey}` });
  }
  if (state.customerKey !== undefined && state.customerKey !== d.customerKey) {
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
  if (errors.length) throw new InvalidInput(errors[0]!.message, {}, errors);

  if (findRegistration(state, d.dealId)) throw new AlreadyExists(`deal ${d.dealId} already exists`, { dealId: d.dealId });

  const overlaps = activeOverlaps(state, d.products);
  const conflicts = overlaps.length ? conflictChanges(state, d.dealId, d.products, overlaps) : [];
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
      registeredAt: at,
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
function conflictChanges(state: CustomerAccount, dealId: string, products: readonly string[], overlaps: readonly Registration[]): readonly ConflictChange[] {
  const ids = overlaps.map((r) => r.dealId);
  const touched = state.openConflicts.filter((c) => c.members.some((m) => ids.includes(m)));
  const uncovered = ids.filter((id) => !state.openConflicts.some((c) => c.members.includes(id)));
  const productsOf = (members: readonly string[]): readonly string[] =>
    contested(members.map((m) => (m === dealId ? products : findRegistration(state, m)!.products)));
  if (touched.length === 0) {
    const members = [...ids, dealId];
    return [{ conflictId: `${ids[0]}/${dealId}`, opened: true, addedDealIds: members, products: productsOf(members) }];
  }
  return touched.map((c, i) => {
    const added = i === 0 ? [...uncovered, dealId] : [dealId];
    return { conflictId: c.conflictId, opened: false, addedDealIds: added, products: productsOf([...c.members, ...added]) };
  });
}

/** Products named by at least two members: what the conflict is about. Sorted. */
function contested(productLists: readonly (readonly string[])[]): readonly string[] {
  const count = new Map<string, number>();
  for (const list of productLists) for (const p of new Set(list)) count.set(p, (count.get(p) ?? 0) + 1);
  return [...count].filter(([, n]) => n >= 2).map(([p]) => p).sort();
}

function approve(command: ApproveDeal, state: CustomerAccount, now: Date): readonly DealEvent[] {
  const { protectionDays, programVersion } = command.data;
  if (!Number.isSafeInteger(protectionDays) || protectionDays < 1) throw new RuleViolation(`program version ${programVersion} has no valid protectionDays`);
  const r = existing(state, command.data.dealId);
  if (r.status === 'approved') throw new RuleViolation(`deal ${r.dealId} is already approved`, { dealId: r.dealId, currentStatus: r.status });
  // Checked before the status, so that a registration that lost a race to an approval learns who holds it.
  const holders = activeOverlaps(state, r.products, r.dealId).filter((o) => o.status === 'approved');
  if (holders.length && (UNDECIDED.has(r.status) || r.status === 'rejected')) {
    throw new RegistrationConflict(
      `deal ${r.dealId} overlaps the approved registration ${holders.map((h) => h.dealId).join(', ')} of ${key(state)}`,
      { dealId: r.dealId, conflictsWith: holders.map((h) => h.dealId) },
    );
  }
  requireStatus(r, 'approve', UNDECIDED);
  const at = now.toISOString();
  const protectedUntil = new Date(now.getTime() + protectionDays * DAY_MS).toISOString();
  const losers = activeOverlaps(state, r.products, r.dealId);
  const rejections: DealRegistrationRejected[] = losers.map((l) => ({
    type: 'DealRegistrationRejected',
    data: { dealId: l.dealId, partnerId: l.partnerId, customerKey: key(state), reason: CONFLICT_LOST, winnerDealId: r.dealId, rejectedAt: at, resolvedConflicts: [] },
  }));
  const approved: DealRegistrationApproved = {
    type: 'DealRegistrationApproved',
    data: {
      dealId: r.dealId,
      partnerId: r.partnerId,
      customerKey: key(state),
      products: r.products,
      approvedAt: at,
      protectedUntil,
      protectionDays,
      programVersion,
      rejectedDealIds: losers.map((l) => l.dealId),
      resolvedConflicts: [],
    },
  };
  // The approval resolves what the whole append resolves: it is the decision, the rejections its consequence.
  const after = [approved, ...rejections].reduce(evolveCustomerAccount, state);
  return [{ ...approved, data: { ...approved.data, resolvedConflicts: resolvable(after) } }, ...rejections];
}

function extend(command: ExtendDeal, state: CustomerAccount, at: string): DealRegistrationExtended {
  const { days, maxExtensionDays, programVersion } = command.data;
  if (!Number.isSafeInteger(days) || days < 1) throw invalidField('days', 'days must be a positive integer');
  const r = existing(state, command.data.dealId);
  requireStatus(r, 'extend', new Set(['approved']));
  if (r.extended) throw new RuleViolation(`deal ${r.dealId} was already extended: one extension per registration`, { dealId: r.dealId });
  if (days > maxExtensionDays) {
    throw new RuleViolation(`an extension of ${days} days exceeds the ${maxExtensionDays} days program version ${programVersion} allows`, {
      dealId: r.dealId,
      maxExtensionDays,
      programVersion,
    });
  }
  const previous = r.protectedUntil!;
  return {
    type: 'DealRegistrationExtended',
    data: {
      dealId: r.dealId,
      partnerId: r.partnerId,
      customerKey: key(state),
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
  const { amount, closedAt } = command.data;
  const errors: FieldError[] = [];
  const money = moneyProblem(amount);
  if (money !== undefined) errors.push({ path: 'amount', message: money });
  if (!isInstant(closedAt)) errors.push({ path: 'closedAt', message: 'must be a canonical UTC instant' });
  if (errors.length) throw new InvalidInput(errors[0]!.message, {}, errors);
  const r = existing(state, command.data.dealId);
  requireStatus(r, 'record a win of', new Set(['approved']));
  // Business time: a win recorded late still counts if the deal closed while protected.
  if (closedAt > r.protectedUntil!) {
    throw new RuleViolation(`deal ${r.dealId} closed at ${closedAt}, after its protection ended at ${r.protectedUntil}`, {
      dealId: r.dealId,
      protectedUntil: r.protectedUntil,
    });
  }
  return {
    type: 'DealWon',
    data: {
      dealId: r.dealId,
      partnerId: r.partnerId,
      customerKey: key(state),
      products: r.products,
      amount: { amountMinor: amount.amountMinor, currency: amount.currency },
      closedAt,
      protectedUntil: r.protectedUntil!,
      wonAt: at,
      resolvedConflicts: [],
    },
  };
}

function expire(command: ExpireDeals, state: CustomerAccount, at: string): readonly DealEvent[] {
  const { asOf } = command.data;
  if (!isInstant(asOf)) throw invalidField('asOf', 'asOf must be a canonical UTC instant');
  const due = state.registrations.filter((r) => r.status === 'approved' && r.protectedUntil! < asOf);
  const events: DealRegistrationExpired[] = due.map((r) => ({
    type: 'DealRegistrationExpired',
    data: {
      dealId: r.dealId,
      partnerId: r.partnerId,
      customerKey: key(state),
      products: r.products,
      protectedUntil: r.protectedUntil!,
      asOf,
      expiredAt: at,
      resolvedConflicts: [],
    },
  }));
  return withResolutions(state, events);
}

/** Open conflicts in which no two active members overlap any more, with their winners. */
export function resolvable(state: CustomerAccount): readonly ConflictResolution[] {
  const out: ConflictResolution[] = [];
  for (const c of state.openConflicts) {
    const members = c.members.map((m) => findRegistration(state, m)).filter((r): r is Registration => r !== undefined);
    const live = members.filter(isActive);
    const contestedStill = live.some((a, i) => live.slice(i + 1).some((b) => shareProduct(a.products, b.products)));
    if (contestedStill) continue;
    let winner: Registration | undefined;
    for (const m of members) if (m.approvalSeq !== undefined && (winner === undefined || m.approvalSeq > winner.approvalSeq!)) winner = m;
    out.push({ conflictId: c.conflictId, ...(winner ? { winnerDealId: winner.dealId } : {}) });
  }
  return out;
}

type Resolving = DealRegistrationRejected | DealRegistrationExpired | DealWon | DealLost;

/** Each event carries the conflicts that it leaves without two active, overlapping members. */
function withResolutions<E extends Resolving>(state: CustomerAccount, events: readonly E[]): readonly E[] {
  let s = state;
  return events.map((e) => {
    const resolved = resolvable(evolveCustomerAccount(s, e));
    const out = { ...e, data: { ...e.data, resolvedConflicts: resolved } } as E;
    s = evolveCustomerAccount(s, out);
    return out;
  });
}

// --- helpers ---

function existing(state: CustomerAccount, dealId: string): Registration {
  const r = findRegistration(state, dealId);
  if (!r) throw new NotFound(`deal ${dealId} not found`);
  return r;
}

function key(state: CustomerAccount): string {
  return state.customerKey!;
}

function requireStatus(r: Registration, action: string, allowed: ReadonlySet<DealStatus>): void {
  if (!allowed.has(r.status)) {
    throw new RuleViolation(`cannot ${action} deal ${r.dealId}: it is ${r.status}`, { dealId: r.dealId, currentStatus: r.status });
  }
}
