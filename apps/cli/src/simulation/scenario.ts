import type { CommandBus } from '@nestjs/cqrs';
import { ATTRIBUTION_EVENT_TYPES, type AttributionCredit, type AttributionEvent } from '#events/attribution.js';
import { DEAL_EVENT_TYPES, type DealEvent, type DealStatus } from '#events/deals.js';
import { eventsOf, isRecorded, type Actor, type RecordedEvent } from '#events/envelope.js';
import { MDF_EVENT_TYPES, type MdfEvent } from '#events/mdf.js';
import { PARTNER_EVENT_TYPES, type PartnerEvent, type PartnerStatus } from '#events/partners.js';
import { PROGRAM_EVENT_TYPES, type ProgramEvent } from '#events/program.js';
import { DomainError } from '#libs/kernel/errors.js';
import type { DefineProgram } from '#libs/program/program-decider.js';
import { DEFAULT_PROGRAM, type TierProgram } from '#libs/program/program.js';
import { AttributeRevenueCommand, ReverseAttributionCommand } from '#libs/ledger/attribution.commands.js';
import { CustomerAccountCommand, DealActionCommand, ExpireDealsCommand, RegisterDealCommand, type AccountAction, type DealAction } from '#libs/ledger/deals.commands.js';
import type { RejectionReasonCode } from '#events/deals.js';
import { commandContext, type CommandContext, type CommandOutcome } from '#libs/ledger/context.js';
import type { Clock } from '#libs/ledger/tokens.js';
import { AllocateMdfCommand, MdfClaimActionCommand, MdfRequestActionCommand, ReleaseMdfCommand, RequestMdfCommand, SubmitMdfClaimCommand } from '#libs/ledger/mdf.commands.js';
import { PublishExchangeRateCommand } from '#libs/ledger/exchange-rates.commands.js';
import { EnrollPartnerCommand, PartnerCommandMessage } from '#libs/ledger/partners.commands.js';
import { DefineProgramCommand } from '#libs/ledger/program.commands.js';
import { EvaluateTiersCommand, OverrideTierCommand } from '#libs/ledger/tiers.commands.js';
import { DefineCertificationCommand } from '#libs/ledger/certifications.commands.js';
import type { DefineCommissionPlan } from '#libs/commissions/plan.js';
import { DefineCommissionPlanCommand } from '#libs/ledger/commissions.commands.js';
import { CreatePayoutRunCommand, PayoutRunActionCommand } from '#libs/ledger/payouts.commands.js';
import type { CommissionClawedBack, PayoutRunCreated } from '#events/commissions.js';
import type { RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import type { StatementChange } from '#libs/statements/content.js';
import { Random, WeightedTable } from './random.js';
import { customerProfiles, ExchangeRates, exponent, partnerProfiles, PRODUCTS, spelling, type CustomerProfile, type PartnerProfile } from './world.js';

/** The events the simulation's local picture follows (`observe`), narrowed by their type lists: no cast. */
type ObservedEvent = PartnerEvent | DealEvent | MdfEvent | AttributionEvent | ProgramEvent;
const OBSERVED_TYPES: readonly ObservedEvent['type'][] = [...PARTNER_EVENT_TYPES, ...DEAL_EVENT_TYPES, ...MDF_EVENT_TYPES, ...ATTRIBUTION_EVENT_TYPES, ...PROGRAM_EVENT_TYPES];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const FULL_SHARE = 10_000;

export interface SimulationOptions {
  readonly seed: number;
  readonly partners: number;
  /** Deal registration attempts (refused ones included). */
  readonly deals: number;
  readonly months: number;
  /** 00:00 UTC of the first simulated day; the history covers `months` calendar months from it. */
  readonly start: Date;
  /** Partner statements issued after each quarter's payout run (default `DEFAULT_STATEMENTS_PER_QUARTER`; 0: none). */
  readonly statementsPerQuarter?: number;
  readonly onProgress?: (day: number, days: number) => void;
  /** The statements read back at the end, one by one (each recomputes its period at the head). */
  readonly onStatementsProgress?: (done: number, total: number) => void;
}

/** Statements a quarter: the partners with the most revenue recognized in it (a statement recomputes its period from the log). */
export const DEFAULT_STATEMENTS_PER_QUARTER = 3;

/** A request to issue a statement, as `POST /v1/statements` takes it. */
export interface StatementRequest {
  readonly statementId: string;
  readonly partnerId: string;
  readonly period: string;
}

/** Statements through the code the HTTP routes use (libs/ledger/src/statements.ts), signed with the ledger's checkpoint key. */
export interface StatementPorts {
  issue(ctx: CommandContext, request: StatementRequest): Promise<CommandOutcome>;
  /** The statement's restatement now (what `GET /v1/statements/{id}` shows): each content leaf changed since issue. */
  restatement(statementId: string): Promise<{ readonly asOfPosition: string; readonly changes: readonly StatementChange[] }>;
}

export interface SimulationPorts {
  readonly commands: CommandBus;
  readonly clock: SimulationClock;
  /** Brings the read models to the log's head: called before the commands whose handlers read them. */
  readonly catchUp: () => Promise<void>;
  readonly statements: StatementPorts;
}

/**
 * The refund finance books after a quarter's statements went out, dated in that quarter: the statement issued
 * before it is restated by exactly the refund's lines (revenue reversed and net, commission clawed back and closing).
 */
export interface LateRefund {
  readonly statementId: string;
  readonly partnerId: string;
  readonly period: string;
  readonly attributionId: string;
  /** In the attribution's currency. */
  readonly amountMinor: number;
  readonly currency: string;
  /** The partner's share of the reversal in the reporting currency: what the statement's revenue lines move by. */
  readonly reversedReportingMinor: number;
  readonly creditType: string;
  /** The partner's commission clawed back by the refund (reporting currency). */
  readonly clawedBackMinor: number;
  /** Business date of the refund, in the stated quarter. */
  readonly reversedAt: string;
  /** When finance booked it: after the statement was issued. */
  readonly bookedAt: string;
  /** The statement's restatement at the end of the simulation: the lines the refund changed, as issued and now. */
  readonly changes: readonly StatementChange[];
}

export interface StatementsSummary {
  readonly perQuarter: number;
  readonly issued: number;
  /** Statements whose period, recomputed at the end, differs from what they said when issued (late bookings, the late refund). */
  readonly restated: number;
  readonly restatedIds: readonly string[];
  /** Undefined when no statement was issued, or no stated partner had a refundable attribution in the quarter. */
  readonly lateRefund?: LateRefund;
}

export interface CommandTally {
  issued: number;
  refused: number;
}

export interface SimulationResult {
  readonly seed: number;
  readonly partners: number;
  readonly deals: number;
  readonly months: number;
  readonly from: string;
  readonly to: string;
  /** By command, in the order each was first issued. */
  readonly commands: Readonly<Record<string, Readonly<CommandTally>>>;
  /** `<command> <problem type>: <message with ids and numbers elided>` → count, most frequent first. */
  readonly refusals: Readonly<Record<string, number>>;
  readonly eventsWritten: number;
  readonly eventsByType: Readonly<Record<string, number>>;
  readonly partnersByStatus: Readonly<Record<string, number>>;
  readonly partnersByTier: Readonly<Record<string, number>>;
  readonly dealsByStatus: Readonly<Record<string, number>>;
  readonly statements: StatementsSummary;
}

/** The clock the whole application is built with: business time as the simulation walks it, never backwards. */
export class SimulationClock implements Clock {
  constructor(private t: number) {}

  now(): Date {
    return new Date(this.t);
  }

  get ms(): number {
    return this.t;
  }

  advanceTo(ms: number): void {
    if (ms > this.t) this.t = ms;
  }
}

/** The program launches with entry thresholds a little below the standard ones... */
const LAUNCH_PROGRAM: DefineProgram = {
  reportingCurrency: 'USD',
  lookbackDays: 365,
  downgradeGraceDays: 90,
  protectionDays: 90,
  maxExtensionDays: 60,
  dealRegistrationDiscountBps: 1000,
  tiers: [
    { name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: false },
    { name: 'Silver', rank: 1, minSourcedRevenueMinor: 7_500_000, minCertifiedSellers: 2, minWonDeals: 1, discountBps: 1500, mdfEligible: true },
    { name: 'Gold', rank: 2, minSourcedRevenueMinor: 40_000_000, minCertifiedSellers: 5, minWonDeals: 5, discountBps: 2000, mdfEligible: true },
    { name: 'Platinum', rank: 3, minSourcedRevenueMinor: 150_000_000, minCertifiedSellers: 10, minWonDeals: 12, discountBps: 2500, mdfEligible: true },
  ],
};

/**
 * ...and halfway moves to the standard thresholds, with longer protection and a larger registration uplift, and
 * two tracks (tier program v2): resellers, distributors and MSPs climb Silver, Gold and Platinum; technology and
 * referral partners climb Select and Premier, which ask for sellers holding the Technical Specialist certification.
 */
const SELL_TRACK = ['reseller', 'distributor', 'msp'] as const;
const BUILD_TRACK = ['technology', 'referral'] as const;
const REVISED_PROGRAM: DefineProgram = {
  reportingCurrency: DEFAULT_PROGRAM.reportingCurrency,
  lookbackDays: DEFAULT_PROGRAM.lookbackDays,
  downgradeGraceDays: DEFAULT_PROGRAM.downgradeGraceDays,
  protectionDays: 120,
  maxExtensionDays: DEFAULT_PROGRAM.maxExtensionDays,
  dealRegistrationDiscountBps: 1200,
  tiers: [
    ...DEFAULT_PROGRAM.tiers.map((t) => (t.rank === 0 ? { ...t } : { ...t, partnerTypes: [...SELL_TRACK] })),
    { name: 'Select', rank: 1, minSourcedRevenueMinor: 3_000_000, minCertifiedSellers: 1, minWonDeals: 0, discountBps: 1500, mdfEligible: true, partnerTypes: [...BUILD_TRACK], requiredCertifications: [{ certification: 'technical-specialist', minSellers: 1 }] },
    { name: 'Premier', rank: 2, minSourcedRevenueMinor: 15_000_000, minCertifiedSellers: 3, minWonDeals: 0, discountBps: 2000, mdfEligible: true, partnerTypes: [...BUILD_TRACK], requiredCertifications: [{ certification: 'technical-specialist', minSellers: 2 }] },
  ],
  // Rules of engagement tighten too: a partner may hold a handful of open registrations (HubSpot-style capacity),
  // and the platform products overlap as one family.
  maxOpenRegistrations: 8,
  productFamilies: { PLATFORM: ['CORE', 'EDGE'] },
};

/** The certification catalog (tier program v2): from its first entry on, only these names certify. */
const CATALOG = [
  { name: 'sales-accreditation', title: 'Sales Accreditation', validityDays: 365 },
  { name: 'technical-specialist', title: 'Technical Specialist', validityDays: 730 },
] as const;

/**
 * The commission plan finance defines at launch (docs/commissions.md): 10 % of sourced revenue, 2.5 % of
 * influenced, more for Gold and Platinum and for Gold resellers; 30 days' hold, $500 minimum payout. The bench's
 * synthetic log defines the same plan.
 */
export const COMMISSION_PLAN: DefineCommissionPlan = {
  holdDays: 30,
  minimumPayoutMinor: 50_000,
  rules: [
    { creditType: 'sourced', rateBps: 1000 },
    { creditType: 'influenced', rateBps: 250 },
    { tier: 'Gold', creditType: 'sourced', rateBps: 1500 },
    { tier: 'Gold', partnerType: 'reseller', creditType: 'sourced', rateBps: 2000 },
    { tier: 'Platinum', creditType: 'sourced', rateBps: 2000 },
  ],
};

const OPS: Actor = { id: 'simulation-channel-ops', role: 'channel-ops' };
const FINANCE: Actor = { id: 'simulation-finance', role: 'finance' };
/** Finance's commission and payout commands take a fixed minute each and draw nothing from the seed's sequence. */
const FINANCE_PACE = { thinkSeconds: 60 } as const;
/** Statements go out as a batch after the payout: a few seconds each, nothing drawn from the seed's sequence. */
const STATEMENT_PACE = { thinkSeconds: 5 } as const;
/** Late bookings of a quarter (attributions of deals closed in it) arrive within about 31 days: the late refund comes after. */
const LATE_REFUND_AFTER_DAYS = 35;
const partnerActor = (partnerId: string): Actor => ({ id: `simulation-partner-${partnerId}`, role: 'partner', partnerId });

const DEAL_REJECTIONS: readonly (readonly [RejectionReasonCode, string])[] = [
  ['duplicate', 'duplicate of an existing opportunity'],
  ['not-qualified', 'insufficient qualification: no budget confirmed'],
  ['other', 'customer outside the partner territory'],
  ['existing-customer', 'not a new opportunity'],
];
const DEAL_LOSSES = ['chose a competitor', 'budget cut', 'project postponed indefinitely', 'no decision', 'went with the incumbent vendor'];
const SUSPENSIONS = ['compliance review', 'unpaid invoices over 90 days', 'breach of the partner agreement under review'];
const TERMINATIONS = ['partnership ended by mutual agreement', 'acquired by a competitor', 'repeated breach of the partner agreement'];
const MDF_ACTIVITIES = ['Webinar series', 'Trade show booth', 'Co-branded email campaign', 'Lead generation program', 'Partner enablement workshop', 'Customer roadshow'];
const PROOFS = ['invoice.pdf', 'attendee-list.csv', 'campaign-report.pdf', 'event-photos.zip', 'leads-export.csv'];
const INFLUENCER_TYPES = new Set(['technology', 'referral', 'msp']);

type Fate = 'regular' | 'stays-pending' | 'suspended' | 'terminated';

interface SimPartner extends PartnerProfile {
  status: PartnerStatus | 'none';
  tier: string;
  fate: Fate;
}

interface SimDeal {
  readonly dealId: string;
  readonly partnerId: string;
  readonly customerKey: string;
  readonly products: readonly string[];
  readonly currency: string;
  readonly estimateMinor: number;
  readonly registeredAt: number;
  status: DealStatus;
  approvedAt?: number;
  protectedUntil?: number;
  extended: boolean;
  wonMinor?: number;
  closedAt?: string;
  reviews: number;
}

interface SimFund {
  readonly currency: string;
  allocatedMinor: number;
  approvedMinor: number;
}

interface SimRequest {
  readonly requestId: string;
  readonly partnerId: string;
  readonly period: string;
  readonly requestedMinor: number;
  status: 'requested' | 'approved' | 'rejected';
  approvedMinor: number;
  claimedMinor: number;
}

interface SimClaim {
  readonly claimId: string;
  readonly requestId: string;
  readonly claimedMinor: number;
  status: 'submitted' | 'approved' | 'rejected' | 'paid';
}

interface SimAttribution {
  readonly attributionId: string;
  readonly amountMinor: number;
  readonly currency: string;
  /** The quarter of `recognizedAt`. */
  readonly period: string;
  /** The one partner credited, when the attribution has a single sourced credit. */
  readonly soleSourced?: string;
  remainingMinor: number;
}

interface Task {
  readonly at: number;
  readonly seq: number;
  readonly run: () => Promise<void>;
}

/** Tasks by time, then by the order they were scheduled in: a binary heap. */
class Agenda {
  private readonly heap: Task[] = [];
  private seq = 0;

  push(at: number, run: () => Promise<void>): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, run });
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!earlier(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): Task | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && earlier(h[l]!, h[m]!)) m = l;
        if (r < h.length && earlier(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

const earlier = (a: Task, b: Task): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

const iso = (ms: number): string => new Date(ms).toISOString();
const midnight = (ms: number): number => ms - (((ms % DAY) + DAY) % DAY);
const isoDay = (ms: number): string => iso(midnight(ms));
const startOfMonth = (ms: number, add = 0): number => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1);
};
const periodOf = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
};
const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const UNDECIDED: ReadonlySet<DealStatus> = new Set(['submitted', 'conflicted']);
const ACTIVE: ReadonlySet<DealStatus> = new Set(['submitted', 'conflicted', 'approved']);

/**
 * A refusal's message without its ids, amounts and dates, so that refusals group by what went wrong:
 * "deal <id> overlaps the approved registration <id> of <domain>".
 */
export function reasonOf(message: string): string {
  return message
    .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, '<time>')
    .replace(/\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b/gi, '<domain>')
    .replace(/\b[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*-\d(?:[\w.-]*\w)?/g, '<id>')
    .replace(/\b\d+\b/g, '<n>');
}

/**
 * A channel program's history, driven through the application's command handlers on the CommandBus, as its
 * users would (statements through `issueStatement`, as the route runs it): channel ops enroll and review, partners
 * register deals and ask for MDF, finance attributes
 * revenue, month ends run deal expiry and tier evaluation, quarter ends a payout run and partner statements (one
 * later restated by a refund booked after it). Business time is the injected clock, walked
 * task by task (a discrete-event agenda); every choice comes from one seeded `Random`, in execution order,
 * and every command carries an Idempotency-Key derived from the seed and its rank, so its command id and
 * event ids are deterministic too. Refusals are part of the story: they are counted, never thrown.
 */
export class Simulation {
  private readonly random: Random;
  private readonly agenda = new Agenda();
  private readonly start: number;
  private readonly end: number;
  private readonly fx: ExchangeRates;
  private readonly partners: SimPartner[];
  private readonly partnerById = new Map<string, SimPartner>();
  private readonly customers = new WeightedTable<CustomerProfile>();
  private readonly deals = new Map<string, SimDeal>();
  private readonly dealsByCustomer = new Map<string, SimDeal[]>();
  private readonly funds = new Map<string, SimFund>();
  private readonly requests = new Map<string, SimRequest>();
  private readonly claims = new Map<string, SimClaim>();
  private readonly attributions = new Map<string, SimAttribution>();
  /** Revenue recognized per quarter and partner (reporting amounts of the allocations): who gets a statement. */
  private readonly revenueByPeriod = new Map<string, Map<string, number>>();
  private readonly statementsIssued: StatementRequest[] = [];
  private lateRefund: Omit<LateRefund, 'changes'> | undefined;
  private program: TierProgram = DEFAULT_PROGRAM;
  private readonly certified = new Map<string, { sellerId: string; certification: string }[]>();
  private readonly tallies = new Map<string, CommandTally>();
  private readonly refusals = new Map<string, number>();
  private readonly eventsByType = new Map<string, number>();
  private eventsWritten = 0;
  private commandSeq = 0;
  private dealSeq = 0;
  private requestSeq = 0;
  private claimSeq = 0;
  private attributionSeq = 0;

  constructor(
    private readonly options: SimulationOptions,
    private readonly ports: SimulationPorts,
  ) {
    this.random = new Random(options.seed);
    this.start = midnight(options.start.getTime());
    const first = new Date(this.start);
    this.end = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + options.months, first.getUTCDate());
    this.fx = new ExchangeRates(this.random, options.months);
    this.partners = partnerProfiles(this.random, options.partners).map((p) => ({ ...p, status: 'none', tier: '', fate: 'regular' }));
    for (const p of this.partners) this.partnerById.set(p.partnerId, p);
    const customers = customerProfiles(this.random, Math.max(5, Math.round(options.deals * 1.2)));
    // A mild skew: a few customers are courted again and again, most once or twice.
    this.random.shuffle(customers).forEach((c, rank) => this.customers.add(c, 1 / Math.pow(rank + 1, 0.4)));
  }

  async run(): Promise<SimulationResult> {
    this.plan();
    const days = Math.round((this.end - this.start) / DAY);
    for (let task = this.agenda.pop(); task !== undefined; task = this.agenda.pop()) {
      this.ports.clock.advanceTo(task.at);
      await task.run();
      this.options.onProgress?.(Math.min(days, Math.floor((task.at - this.start) / DAY)), days);
    }
    this.options.onProgress?.(days, days);
    return this.result(await this.readBackStatements());
  }

  /** Every statement issued, read back at the head as `GET /v1/statements/{id}` shows it: which were restated since issue. */
  private async readBackStatements(): Promise<StatementsSummary> {
    const restatedIds: string[] = [];
    let changes: readonly StatementChange[] = [];
    for (const [i, s] of this.statementsIssued.entries()) {
      const r = await this.ports.statements.restatement(s.statementId);
      if (r.changes.length > 0) restatedIds.push(s.statementId);
      if (s.statementId === this.lateRefund?.statementId) changes = r.changes;
      this.options.onStatementsProgress?.(i + 1, this.statementsIssued.length);
    }
    return {
      perQuarter: this.statementsPerQuarter,
      issued: this.statementsIssued.length,
      restated: restatedIds.length,
      restatedIds,
      ...(this.lateRefund ? { lateRefund: { ...this.lateRefund, changes } } : {}),
    };
  }

  private get statementsPerQuarter(): number {
    return this.options.statementsPerQuarter ?? DEFAULT_STATEMENTS_PER_QUARTER;
  }

  // --- the calendar ---------------------------------------------------------------------------------

  private plan(): void {
    const { months } = this.options;
    const quarterEnds: number[] = [];
    const horizonDays = (this.end - this.start) / DAY;
    this.at(this.start + 8 * HOUR, () => this.defineProgram(LAUNCH_PROGRAM));
    this.at(this.start + 8 * HOUR + 10 * MINUTE, () => this.defineCatalog(), { exact: true });
    this.at(this.start + 8 * HOUR + 20 * MINUTE, () => this.defineCommissionPlan(), { exact: true });
    if (months >= 4) this.at(startOfMonth(this.start, Math.floor(months / 2)) + 9 * HOUR, () => this.defineProgram(REVISED_PROGRAM), { exact: true });

    this.assignFates();
    // Half the partners join at launch, the rest over the first three quarters of the period, in id order.
    const launch = Math.ceil(this.partners.length / 2);
    const joins = this.partners
      .map((_, i) => (i < launch ? this.random.between(0, 13) : this.random.between(14, Math.max(15, horizonDays * 0.75))))
      .sort((a, b) => a - b);
    this.partners.forEach((p, i) => this.at(this.start + joins[i]! * DAY, () => this.enroll(p)));
    if (this.partners.length >= 8) this.at(this.start + horizonDays * 0.4 * DAY, () => this.duplicateEnrollment());
    if (horizonDays >= 60) {
      this.at(this.start + horizonDays * 0.2 * DAY, () => this.directAccount());
      this.at(this.start + horizonDays * 0.3 * DAY, () => this.aliasAccount());
    }
    // Tier program v2: a certification revoked, and a partner held at a tier for two months.
    this.at(this.start + horizonDays * 0.45 * DAY, () => this.revokeCertification());
    if (months >= 4) this.at(this.start + horizonDays * 0.6 * DAY, () => this.overrideTier());

    // Registrations start once the first partners are active and grow with the program.
    const first = Math.min(10, horizonDays / 10);
    let remaining = this.options.deals;
    while (remaining > 0) {
      const competitors = Math.min(remaining - 1, this.random.chance(0.22) ? (this.random.chance(0.7) ? 1 : 2) : 0);
      const u = this.random.next();
      const x = -1 + Math.sqrt(1 + 3 * u); // density growing linearly to twice the launch rate
      this.at(this.start + (first + x * (horizonDays - first)) * DAY, () => this.opportunity(competitors), { clampToEnd: true });
      remaining -= 1 + competitors;
    }

    for (let m = 0; m < months; m++) {
      const monthStart = Math.max(this.start, startOfMonth(this.start, m));
      const monthEnd = Math.min(this.end, startOfMonth(this.start, m + 1));
      // Money (v2): finance publishes the month's rates first thing; a release run gives back lapsed MDF approvals.
      this.at(monthStart, () => this.publishRates(monthStart), { exact: true });
      this.at(monthEnd - 45 * MINUTE, () => this.releaseRun(), { exact: true });
      this.at(monthStart + 9 * HOUR, () => this.marketplaceRevenue(monthStart, monthEnd), { exact: true });
      const quarterStart = startOfMonth(this.start, m);
      if (new Date(quarterStart).getUTCMonth() % 3 === 0 && quarterStart >= this.start) this.at(quarterStart + 9 * HOUR, () => this.allocateMdf());
      this.at(monthEnd - HOUR, () => this.expiryRun(), { exact: true });
      this.at(monthEnd - 30 * MINUTE, () => this.tierEvaluation(), { exact: true });
      // Commissions (v2): finance runs a payout at each quarter's end, approves it and pays its lines; then
      // issues the quarter's partner statements (issue #21).
      if (new Date(monthEnd).getUTCMonth() % 3 === 0 && monthEnd === startOfMonth(this.start, m + 1)) {
        quarterEnds.push(monthEnd);
        this.at(monthEnd - 15 * MINUTE, () => this.payoutRun().then(() => this.issueStatements(periodOf(monthEnd - 1))), { exact: true });
      }
    }
    this.planLateRefund(quarterEnds);
  }

  /**
   * One refund booked after a quarter's statements, dated in that quarter (a credit note that arrived late). Finance
   * looks on the first weekday 35 days after each quarter's end, once that quarter's late bookings are in, until it
   * finds one to book (see `bookLateRefund`); a history too short for that gets it right after the last quarter's
   * statements. Each look is at a fixed time and draws nothing from the seed's sequence.
   */
  private planLateRefund(quarterEnds: readonly number[]): void {
    if (this.statementsPerQuarter <= 0 || quarterEnds.length === 0) return;
    const booking = (quarterEnd: number) => {
      let day = midnight(quarterEnd + LATE_REFUND_AFTER_DAYS * DAY);
      while (new Date(day).getUTCDay() % 6 === 0) day += DAY;
      return day + 10 * HOUR;
    };
    for (const q of quarterEnds) if (booking(q) < this.end - DAY) this.at(booking(q), () => this.bookLateRefund(q), { exact: true });
    const last = quarterEnds[quarterEnds.length - 1]!;
    this.at(last - 15 * MINUTE, () => this.bookLateRefund(last), { exact: true });
  }

  private assignFates(): void {
    const n = this.partners.length;
    // The two largest partners stay: programs rarely lose their anchors.
    const bySize = [...this.partners].sort((a, b) => b.size - a.size || a.partnerId.localeCompare(b.partnerId));
    const candidates = this.random.shuffle(bySize.slice(Math.min(2, Math.max(0, n - 3))));
    const take = (count: number, fate: Fate) => {
      for (let i = 0; i < count && candidates.length; i++) candidates.pop()!.fate = fate;
    };
    take(n >= 10 ? Math.max(1, Math.round(n * 0.05)) : 0, 'stays-pending');
    take(n >= 6 ? Math.max(1, Math.round(n * 0.08)) : 0, 'suspended');
    take(n >= 10 ? Math.max(1, Math.round(n * 0.04)) : 0, 'terminated');
  }

  /** Office hours (weekdays, 08:00–17:00 UTC) around `ms`; `exact` keeps the time as given. */
  private at(ms: number, run: () => Promise<void>, options: { exact?: boolean; clampToEnd?: boolean } = {}): void {
    let at = options.exact ? ms : this.officeHours(ms);
    if (at >= this.end) {
      if (!options.clampToEnd) return;
      at = this.end - HOUR - this.random.int(1, 120) * MINUTE;
    }
    this.agenda.push(Math.max(at, this.ports.clock.ms), run);
  }

  /** About `days` from now, in office hours; dropped when that is after the simulated period. */
  private later(days: number, run: () => Promise<void>, options: { clampToEnd?: boolean } = {}): void {
    this.at(this.ports.clock.ms + days * DAY, run, options);
  }

  private officeHours(ms: number): number {
    let day = midnight(ms);
    const weekday = new Date(day).getUTCDay();
    if (weekday === 6) day += 2 * DAY;
    else if (weekday === 0) day += DAY;
    return Math.max(day + 8 * HOUR + this.random.int(0, 9 * 60) * MINUTE, this.ports.clock.ms + MINUTE);
  }

  private monthIndex(ms: number): number {
    const a = new Date(this.start);
    const b = new Date(ms);
    return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
  }

  // --- commands -------------------------------------------------------------------------------------

  /**
   * One command through the bus, as the API would send it: the Idempotency-Key is the seed and the command's
   * rank, so its command id (and so its event ids) are the same in every run of the seed.
   */
  private issue(kind: string, actor: Actor, method: 'POST' | 'PUT', path: string, body: object, command: (ctx: CommandContext) => object, options: { thinkSeconds?: number } = {}): Promise<CommandOutcome | undefined> {
    return this.issueWith(kind, actor, method, path, body, (ctx) => this.ports.commands.execute(command(ctx)) as Promise<CommandOutcome>, options);
  }

  /** `issue` for a command run by a function rather than sent on the bus (statements: `issueStatement`, as the route calls it). */
  private async issueWith(
    kind: string,
    actor: Actor,
    method: 'POST' | 'PUT',
    path: string,
    body: object,
    execute: (ctx: CommandContext) => Promise<CommandOutcome>,
    options: { thinkSeconds?: number } = {},
  ): Promise<CommandOutcome | undefined> {
    this.commandSeq += 1;
    const ctx = commandContext(actor, { idempotencyKey: `simulate-${this.options.seed}-${this.commandSeq}`, method, path, body });
    let tally = this.tallies.get(kind);
    if (tally === undefined) this.tallies.set(kind, (tally = { issued: 0, refused: 0 }));
    tally.issued += 1;
    try {
      const outcome = await execute(ctx);
      this.observe(outcome.events);
      return outcome;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      tally.refused += 1;
      const key = `${kind} ${error.problemType}: ${reasonOf(error.message)}`;
      this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
      return undefined;
    } finally {
      // The next command is someone's next click: a little later.
      this.ports.clock.advanceTo(this.ports.clock.ms + (options.thinkSeconds ?? this.random.int(20, 180)) * 1000);
    }
  }

  /** The local picture of the ledger, from the events the commands recorded (the simulation is the only writer). */
  private observe(events: readonly RecordedEvent[]): void {
    for (const recorded of events) {
      this.eventsWritten += 1;
      this.eventsByType.set(recorded.type, (this.eventsByType.get(recorded.type) ?? 0) + 1);
      if (!isRecorded<ObservedEvent>(recorded, OBSERVED_TYPES)) continue;
      const e = recorded;
      switch (e.type) {
        case 'TierProgramDefined': {
          const { definedAt: _definedAt, ...program } = e.data;
          this.program = program;
          break;
        }
        case 'PartnerEnrolled':
          this.partner(e.data.partnerId, { status: 'pending', tier: e.data.tier });
          break;
        case 'PartnerActivated':
        case 'PartnerReinstated':
          this.partner(e.data.partnerId, { status: 'active' });
          break;
        case 'PartnerSuspended':
          this.partner(e.data.partnerId, { status: 'suspended' });
          break;
        case 'PartnerTerminated':
          this.partner(e.data.partnerId, { status: 'terminated' });
          break;
        case 'PartnerTierChanged':
          this.partner(e.data.partnerId, { tier: e.data.to });
          break;
        case 'PartnerTierOverridden':
          this.partner(e.data.partnerId, { tier: e.data.tier });
          break;
        case 'PartnerTierOverrideEnded':
          this.partner(e.data.partnerId, { tier: e.data.restoredTier });
          break;
        case 'SellerCertified': {
          const held = this.certified.get(e.data.partnerId) ?? [];
          this.certified.set(e.data.partnerId, [...held, { sellerId: e.data.sellerId, certification: e.data.certification }]);
          break;
        }
        case 'DealRegistered': {
          const d = e.data;
          const deal: SimDeal = {
            dealId: d.dealId,
            partnerId: d.partnerId,
            customerKey: d.customerKey,
            products: d.products,
            currency: d.estimatedValue.currency,
            estimateMinor: d.estimatedValue.amountMinor,
            registeredAt: Date.parse(d.registeredAt),
            status: d.status,
            extended: false,
            reviews: 0,
          };
          this.deals.set(d.dealId, deal);
          const list = this.dealsByCustomer.get(d.customerKey);
          if (list) list.push(deal);
          else this.dealsByCustomer.set(d.customerKey, [deal]);
          break;
        }
        case 'DealRegistrationApproved':
          this.deal(e.data.dealId, { status: 'approved', approvedAt: Date.parse(e.data.approvedAt), protectedUntil: Date.parse(e.data.protectedUntil) });
          break;
        case 'DealRegistrationExtended':
          this.deal(e.data.dealId, { extended: true, protectedUntil: Date.parse(e.data.protectedUntil) });
          break;
        case 'DealRegistrationRejected':
          this.deal(e.data.dealId, { status: 'rejected' });
          break;
        case 'DealRegistrationExpired':
          this.deal(e.data.dealId, { status: 'expired' });
          break;
        case 'DealLost':
          this.deal(e.data.dealId, { status: 'lost' });
          break;
        case 'DealWon':
          this.deal(e.data.dealId, { status: 'won', wonMinor: e.data.amount.amountMinor, closedAt: e.data.closedAt });
          break;
        case 'MdfFundsAllocated': {
          const key = `${e.data.partnerId}.${e.data.period}`;
          const fund = this.funds.get(key);
          if (fund) fund.allocatedMinor += e.data.amount.amountMinor;
          else this.funds.set(key, { currency: e.data.amount.currency, allocatedMinor: e.data.amount.amountMinor, approvedMinor: 0 });
          break;
        }
        case 'MdfRequested':
          this.requests.set(e.data.requestId, {
            requestId: e.data.requestId,
            partnerId: e.data.partnerId,
            period: e.data.period,
            requestedMinor: e.data.amount.amountMinor,
            status: 'requested',
            approvedMinor: 0,
            claimedMinor: 0,
          });
          break;
        case 'MdfApproved': {
          const r = this.requests.get(e.data.requestId);
          const fund = this.funds.get(`${e.data.partnerId}.${e.data.period}`);
          if (r) {
            r.status = 'approved';
            r.approvedMinor += e.data.amount.amountMinor;
          }
          if (fund) fund.approvedMinor += e.data.amount.amountMinor;
          break;
        }
        case 'MdfRequestRejected': {
          const r = this.requests.get(e.data.requestId);
          if (r) r.status = 'rejected';
          break;
        }
        case 'MdfClaimSubmitted': {
          const r = this.requests.get(e.data.requestId);
          if (r) r.claimedMinor += e.data.amount.amountMinor;
          this.claims.set(e.data.claimId, { claimId: e.data.claimId, requestId: e.data.requestId, claimedMinor: e.data.amount.amountMinor, status: 'submitted' });
          break;
        }
        case 'MdfClaimApproved':
        case 'MdfClaimPaid':
        case 'MdfClaimRejected': {
          const c = this.claims.get(e.data.claimId);
          if (!c) break;
          if (e.type === 'MdfClaimRejected') {
            const r = this.requests.get(c.requestId);
            if (r) r.claimedMinor -= c.claimedMinor;
          }
          c.status = e.type === 'MdfClaimApproved' ? 'approved' : e.type === 'MdfClaimPaid' ? 'paid' : 'rejected';
          break;
        }
        case 'RevenueAttributed': {
          const d: RevenueAttributed['data'] = e.data;
          const period = periodOf(Date.parse(d.recognizedAt));
          const [only] = d.credits;
          this.attributions.set(d.attributionId, {
            attributionId: d.attributionId,
            amountMinor: d.amount.amountMinor,
            currency: d.amount.currency,
            period,
            ...(d.credits.length === 1 && only?.type === 'sourced' ? { soleSourced: only.partnerId } : {}),
            remainingMinor: d.amount.amountMinor,
          });
          const byPartner = this.revenueByPeriod.get(period) ?? new Map<string, number>();
          this.revenueByPeriod.set(period, byPartner);
          for (const a of d.allocations) byPartner.set(a.partnerId, (byPartner.get(a.partnerId) ?? 0) + (a.reportingAmountMinor ?? a.amountMinor));
          break;
        }
        case 'RevenueAttributionReversed': {
          const a = this.attributions.get(e.data.attributionId);
          if (a) a.remainingMinor = e.data.remainingMinor;
          break;
        }
        default:
          break;
      }
    }
  }

  private partner(partnerId: string, patch: Partial<Pick<SimPartner, 'status' | 'tier'>>): void {
    const p = this.partnerById.get(partnerId);
    if (p) Object.assign(p, patch);
  }

  private deal(dealId: string, patch: Partial<SimDeal>): void {
    const d = this.deals.get(dealId);
    if (d) Object.assign(d, patch);
  }

  // --- program and month ends -----------------------------------------------------------------------

  private async defineCatalog(): Promise<void> {
    for (const c of CATALOG) {
      const body = { title: c.title, validityDays: c.validityDays };
      await this.issue('DefineCertification', OPS, 'PUT', `/v1/certifications/${c.name}`, body, (ctx) => new DefineCertificationCommand(ctx, { name: c.name, ...body }));
    }
  }

  /** A seller's certification revoked (an audit found it was not earned): it stops counting. */
  private async revokeCertification(): Promise<void> {
    const candidates = this.partners.filter((p) => p.status === 'active' && (this.certified.get(p.partnerId)?.length ?? 0) > 0);
    if (candidates.length === 0) return;
    const p = this.random.pick(candidates);
    const { sellerId, certification } = this.random.pick(this.certified.get(p.partnerId)!);
    const body = { reason: 'certification exam found invalid by the audit' };
    await this.issue('RevokeCertification', OPS, 'POST', `/v1/partners/${p.partnerId}/certifications/${sellerId}/${encodeURIComponent(certification)}/revoke`, body, (ctx) =>
      new PartnerCommandMessage(ctx, { type: 'RevokeCertification', data: { partnerId: p.partnerId, sellerId, certification, ...body } }),
    );
  }

  /** Channel ops hold the largest active partner one tier up for two months (a strategic launch); evaluations end it. */
  private async overrideTier(): Promise<void> {
    const active = this.partners.filter((p) => p.status === 'active').sort((a, b) => b.size - a.size || a.partnerId.localeCompare(b.partnerId));
    const p = active[0];
    if (p === undefined) return;
    const ladder = this.program.tiers.filter((t) => t.partnerTypes === undefined || t.partnerTypes.includes(p.type)).sort((a, b) => a.rank - b.rank);
    const at = ladder.findIndex((t) => t.name === p.tier);
    const tier = ladder[Math.min(ladder.length - 1, at + 1)]?.name;
    if (tier === undefined) return;
    const body = { tier, reason: 'strategic launch partner for the new product line', until: isoDay(this.ports.clock.ms + 60 * DAY) };
    await this.issue('OverrideTier', OPS, 'POST', `/v1/partners/${p.partnerId}/tier-override`, body, (ctx) => new OverrideTierCommand(ctx, { partnerId: p.partnerId, ...body }));
  }

  private async defineCommissionPlan(): Promise<void> {
    await this.issue('DefineCommissionPlan', FINANCE, 'PUT', '/v1/commission-plan', COMMISSION_PLAN, (ctx) => new DefineCommissionPlanCommand(ctx, COMMISSION_PLAN), FINANCE_PACE);
  }

  /**
   * A quarter's payout run: what is payable by now (held accruals and balances under the minimum carry forward,
   * clawbacks after an earlier payment net here), approved, and each line paid with a bank reference.
   */
  private async payoutRun(): Promise<void> {
    const now = new Date(this.ports.clock.ms);
    const payoutId = `PO-${now.getUTCFullYear()}-Q${Math.floor(now.getUTCMonth() / 3) + 1}`;
    const body = { payoutId, asOf: iso(this.ports.clock.ms) };
    const created = await this.issue('CreatePayoutRun', FINANCE, 'POST', '/v1/payouts', body, (ctx) => new CreatePayoutRunCommand(ctx, body), FINANCE_PACE);
    const [run] = eventsOf<PayoutRunCreated>(created?.events ?? [], 'PayoutRunCreated');
    if (run === undefined) return;
    await this.issue('ApprovePayoutRun', FINANCE, 'POST', `/v1/payouts/${payoutId}/approve`, {}, (ctx) => new PayoutRunActionCommand(ctx, { type: 'ApprovePayoutRun', data: { payoutId } }), FINANCE_PACE);
    for (const line of run.data.lines) {
      const paid = { paidAt: iso(this.ports.clock.ms), reference: `SIM-${payoutId}-${line.partnerId}` };
      await this.issue('MarkPayoutLinePaid', FINANCE, 'POST', `/v1/payouts/${payoutId}/lines/${line.partnerId}/paid`, paid, (ctx) =>
        new PayoutRunActionCommand(ctx, { type: 'MarkPayoutLinePaid', data: { payoutId, partnerId: line.partnerId, ...paid } }), FINANCE_PACE,
      );
    }
  }

  /**
   * The quarter's partner statements, after its payout run: for the partners with the most revenue recognized in
   * the quarter (then the largest), `ST-<period>-<partnerId>`, computed at the log's head and signed with the
   * ledger's checkpoint key, through the code `POST /v1/statements` runs.
   */
  private async issueStatements(period: string): Promise<void> {
    if (this.statementsPerQuarter <= 0) return;
    const revenue = this.revenueByPeriod.get(period) ?? new Map<string, number>();
    const chosen = this.partners
      .filter((p) => p.status !== 'none')
      .sort((a, b) => (revenue.get(b.partnerId) ?? 0) - (revenue.get(a.partnerId) ?? 0) || b.size - a.size || a.partnerId.localeCompare(b.partnerId))
      .slice(0, this.statementsPerQuarter);
    for (const p of chosen) {
      const request: StatementRequest = { statementId: `ST-${period}-${p.partnerId}`, partnerId: p.partnerId, period };
      const outcome = await this.issueWith('IssueStatement', FINANCE, 'POST', '/v1/statements', request, (ctx) => this.ports.statements.issue(ctx, request), STATEMENT_PACE);
      if (outcome?.events.some((e) => e.type === 'PartnerStatementIssued')) this.statementsIssued.push(request);
    }
  }

  /**
   * A credit note dated the quarter's last day, booked after its statements went out: a quarter of what remains of
   * a stated partner's largest attribution of the quarter that credits it alone (sourced), so that only its
   * statement moves. A statement already restated (by a late booking) is passed over, so that the refund's lines
   * stand alone in its restatement; the quarter's later statements are not issued yet, so no other moves.
   */
  private async bookLateRefund(quarterEnd: number): Promise<void> {
    if (this.lateRefund !== undefined) return;
    const period = periodOf(quarterEnd - 1);
    for (const s of this.statementsIssued.filter((x) => x.period === period)) {
      const a = [...this.attributions.values()]
        .filter((x) => x.period === period && x.soleSourced === s.partnerId && x.remainingMinor > 0)
        .sort((x, y) => y.remainingMinor - x.remainingMinor || x.attributionId.localeCompare(y.attributionId))[0];
      if (a === undefined || (await this.ports.statements.restatement(s.statementId)).changes.length > 0) continue;
      const unit = 10 ** exponent(a.currency);
      const amountMinor = Math.min(a.remainingMinor, Math.max(unit, Math.round((a.remainingMinor * 0.25) / unit) * unit));
      const reversedAt = isoDay(quarterEnd - DAY);
      const body = { amountMinor, reason: `credit note dated ${reversedAt.slice(0, 10)}, received after statement ${s.statementId}`, reversedAt };
      const data = { attributionId: a.attributionId, ...body };
      const bookedAt = iso(this.ports.clock.ms);
      const outcome = await this.issue('ReverseAttribution', FINANCE, 'POST', `/v1/revenue-attributions/${a.attributionId}/reverse`, body, (ctx) => new ReverseAttributionCommand(ctx, data), FINANCE_PACE);
      const [reversal] = eventsOf<RevenueAttributionReversed>(outcome?.events ?? [], 'RevenueAttributionReversed');
      if (reversal === undefined) continue;
      const share = reversal.data.allocations.find((x) => x.partnerId === s.partnerId)!;
      const clawedBackMinor = eventsOf<CommissionClawedBack>(outcome!.events, 'CommissionClawedBack')
        .filter((c) => c.data.partnerId === s.partnerId)
        .reduce((n, c) => n + c.data.amountMinor, 0);
      this.lateRefund = {
        statementId: s.statementId,
        partnerId: s.partnerId,
        period,
        attributionId: a.attributionId,
        amountMinor,
        currency: a.currency,
        reversedReportingMinor: share.reportingAmountMinor ?? share.amountMinor,
        creditType: share.type,
        clawedBackMinor,
        reversedAt,
        bookedAt,
      };
      return;
    }
  }

  private async defineProgram(program: DefineProgram): Promise<void> {
    await this.issue('DefineProgram', OPS, 'PUT', '/v1/tier-program', program, (ctx) => new DefineProgramCommand(ctx, program));
  }

  /** The month-end runs read the read models (brought to the log's head first), like the service's handlers. */
  private async expiryRun(): Promise<void> {
    await this.ports.catchUp();
    const asOf = iso(this.ports.clock.ms);
    await this.issue('ExpireDeals', OPS, 'POST', '/v1/deal-expirations', { asOf }, (ctx) => new ExpireDealsCommand(ctx, asOf));
  }

  private async tierEvaluation(): Promise<void> {
    await this.ports.catchUp();
    const asOf = this.ports.clock.now();
    await this.issue('EvaluateTiers', OPS, 'POST', '/v1/tier-evaluations', { asOf: asOf.toISOString() }, (ctx) => new EvaluateTiersCommand(ctx, asOf));
  }

  // --- partners -------------------------------------------------------------------------------------

  private async enroll(p: SimPartner): Promise<void> {
    const domain = this.random.weighted<string>([
      [p.domain, 3],
      [`https://www.${p.domain}/`, 2],
      [`https://www.${p.domain}/partners`, 1],
    ]);
    const body = { partnerId: p.partnerId, name: p.name, type: p.type, domain, country: p.country };
    const ok = await this.issue('EnrollPartner', OPS, 'POST', '/v1/partners', body, (ctx) => new EnrollPartnerCommand(ctx, body));
    if (ok && p.fate !== 'stays-pending') this.later(this.random.between(1, 14), () => this.activate(p));
  }

  /** Channel ops enrolling a partner twice under another id: the domain is taken. */
  private async duplicateEnrollment(): Promise<void> {
    const active = this.partners.filter((p) => p.status === 'active');
    if (active.length === 0) return;
    const p = this.random.pick(active);
    const partnerId = `P-${pad(this.partners.length + 1, p.partnerId.length - 2)}`;
    const body = { partnerId, name: `${p.name} Ltd`, type: p.type, domain: `https://WWW.${p.domain.toUpperCase()}/`, country: p.country };
    await this.issue('EnrollPartner', OPS, 'POST', '/v1/partners', body, (ctx) => new EnrollPartnerCommand(ctx, body));
  }

  private async activate(p: SimPartner): Promise<void> {
    const ok = await this.lifecycle(p, 'ActivatePartner', 'activate', {});
    if (!ok) return;
    const remainingDays = (this.end - this.ports.clock.ms) / DAY;
    for (let k = 1; k <= p.sellers; k++) {
      const sellerId = `${p.partnerId}-S${pad(k, 2)}`;
      this.later(this.random.between(3, Math.max(4, Math.min(240, remainingDays * 0.7))), () => this.certify(p, sellerId, 'sales-accreditation'));
    }
    if (p.fate === 'suspended') this.later(this.random.between(45, 200), () => this.suspend(p));
    if (p.fate === 'terminated') this.later(this.random.between(60, 300), () => this.terminate(p));
  }

  private async suspend(p: SimPartner): Promise<void> {
    if (!(await this.lifecycle(p, 'SuspendPartner', 'suspend', { reason: this.random.pick(SUSPENSIONS) }))) return;
    if (this.random.chance(0.6)) this.later(this.random.between(10, 45), () => this.lifecycle(p, 'ReinstatePartner', 'reinstate', { reason: 'review completed' }).then(() => undefined));
    else if (this.random.chance(0.5)) this.later(this.random.between(20, 60), () => this.terminate(p));
  }

  private async terminate(p: SimPartner): Promise<void> {
    await this.lifecycle(p, 'TerminatePartner', 'terminate', { reason: this.random.pick(TERMINATIONS) });
  }

  private lifecycle(
    p: SimPartner,
    type: 'ActivatePartner' | 'SuspendPartner' | 'ReinstatePartner' | 'TerminatePartner',
    action: string,
    body: { reason?: string },
  ): Promise<CommandOutcome | undefined> {
    const command = { type, data: { partnerId: p.partnerId, ...body } } as ConstructorParameters<typeof PartnerCommandMessage>[1];
    return this.issue(type, OPS, 'POST', `/v1/partners/${p.partnerId}/${action}`, body, (ctx) => new PartnerCommandMessage(ctx, command));
  }

  private async certify(p: SimPartner, sellerId: string, certification: string): Promise<void> {
    const earned = midnight(this.ports.clock.ms) - this.random.int(0, 5) * DAY;
    const r = this.random.next();
    // The catalog's validity bounds the expiry: an expiry is given only when it is shorter, else the catalog's applies.
    const validity = CATALOG.find((c) => c.name === certification)?.validityDays ?? 365;
    const asked = r < 0.7 ? 365 : r < 0.9 ? 730 : undefined;
    const given = asked !== undefined && asked < validity ? earned + asked * DAY : undefined;
    const expires = given ?? earned + validity * DAY;
    const body = { sellerId, certification, earnedAt: iso(earned), ...(given !== undefined ? { expiresAt: iso(given) } : {}) };
    const ok = await this.issue('CertifySeller', OPS, 'POST', `/v1/partners/${p.partnerId}/certifications`, body, (ctx) =>
      new PartnerCommandMessage(ctx, { type: 'CertifySeller', data: { partnerId: p.partnerId, ...body } }),
    );
    if (!ok) return;
    // Most sellers renew before their certification lapses; some add a technical one later.
    if (expires !== undefined && this.random.chance(0.75)) {
      this.later((expires - this.ports.clock.ms) / DAY - this.random.between(0, 20), () => this.certify(p, sellerId, certification));
    }
    if (certification === 'sales-accreditation' && this.random.chance(0.3)) this.later(this.random.between(30, 180), () => this.certify(p, sellerId, 'technical-specialist'));
  }

  // --- deals ----------------------------------------------------------------------------------------

  /** Partners register where they sell; now and then someone from a partner that is not active tries too. */
  private registrant(except?: string): SimPartner | undefined {
    const enrolled = this.partners.filter((p) => p.status !== 'none' && p.status !== 'terminated' && p.partnerId !== except);
    const active = enrolled.filter((p) => p.status === 'active');
    const inactive = enrolled.filter((p) => p.status !== 'active');
    // Now and then someone at a pending or suspended partner tries anyway (and is refused); with nobody active
    // yet, the opportunity mostly waits.
    if (inactive.length && this.random.chance(active.length ? 0.01 : 0.1)) return this.bySize(inactive);
    return active.length ? this.bySize(active) : undefined;
  }

  private bySize(partners: readonly SimPartner[]): SimPartner {
    return this.random.weighted(partners.map((p) => [p, p.size] as const));
  }

  private products(): string[] {
    const n = this.random.weighted([
      [1, 6],
      [2, 3],
      [3, 1],
    ]);
    const out = new Set<string>();
    while (out.size < n) out.add(this.random.weighted(PRODUCTS));
    return [...out];
  }

  /** A customer opportunity; in about a fifth of them other partners show up for the same customer within weeks. */
  private async opportunity(competitors: number): Promise<void> {
    const partner = this.registrant();
    if (partner === undefined) {
      // Nobody can register yet: the opportunity comes back a week later (or never, at the very end).
      if (this.ports.clock.ms + 7 * DAY < this.end) this.later(7, () => this.opportunity(competitors), { clampToEnd: true });
      return;
    }
    const customer = this.customers.draw(this.random);
    const products = this.products();
    await this.register(partner, customer, products);
    for (let i = 0; i < competitors; i++) {
      this.later(this.random.between(1, 20), () => this.compete(customer, products, partner.partnerId), { clampToEnd: true });
    }
  }

  private async compete(customer: CustomerProfile, products: readonly string[], first: string): Promise<void> {
    const partner = this.registrant(first) ?? this.partnerById.get(first)!;
    // At least one product in common, so the registrations overlap.
    const mine = new Set([this.random.pick(products), ...(this.random.chance(0.4) ? this.products() : [])]);
    await this.register(partner, customer, [...mine]);
  }

  private async register(partner: SimPartner, customer: CustomerProfile, products: readonly string[]): Promise<void> {
    const now = this.ports.clock.ms;
    const dealId = `D-${pad(this.dealSeq + 1, 6)}`;
    const usd = Math.min(3_000_000, Math.max(1_500, 30_000 * customer.scale * this.random.logNormal(1, 0.5)));
    const body = {
      dealId,
      partnerId: partner.partnerId,
      customer: { name: customer.name, domain: spelling(this.random, customer.domain), country: customer.country },
      products: [...products],
      estimatedValue: { amountMinor: this.fx.fromUsd(usd, customer.currency, this.monthIndex(now)), currency: customer.currency },
      expectedCloseDate: isoDay(now + this.random.int(30, 150) * DAY),
    };
    const ok = await this.issue('RegisterDeal', partnerActor(partner.partnerId), 'POST', '/v1/deals', body, (ctx) => new RegisterDealCommand(ctx, body));
    if (!ok) return;
    this.dealSeq += 1;
    const deal = this.deals.get(dealId)!;
    if (this.random.chance(0.03)) this.later(this.random.between(2, 30), () => this.lose(deal));
    else this.later(this.random.between(1, 8), () => this.review(deal));
  }

  private activeOverlaps(deal: SimDeal): SimDeal[] {
    return (this.dealsByCustomer.get(deal.customerKey) ?? []).filter((o) => o !== deal && ACTIVE.has(o.status) && o.products.some((p) => deal.products.includes(p)));
  }

  private act(deal: SimDeal, action: DealAction): Promise<CommandOutcome | undefined> {
    const kind = { approve: 'ApproveDeal', reject: 'RejectDeal', extend: 'ExtendDeal', won: 'WinDeal', lost: 'LoseDeal' }[action.type];
    const { type: _type, ...body } = action;
    return this.issue(kind, OPS, 'POST', `/v1/deals/${deal.dealId}/${action.type}`, body, (ctx) => new DealActionCommand(ctx, deal.dealId, action));
  }

  /**
   * Channel ops review a registration: first come, first served among overlapping ones (approving it rejects the
   * others); one already protected by another partner is rejected, though ops sometimes try to approve it first.
   */
  private async review(deal: SimDeal): Promise<void> {
    if (!UNDECIDED.has(deal.status)) return;
    const overlaps = this.activeOverlaps(deal);
    const holder = overlaps.find((o) => o.status === 'approved');
    if (holder) {
      if (this.random.chance(0.3)) await this.act(deal, { type: 'approve' });
      if (UNDECIDED.has(deal.status)) await this.act(deal, { type: 'reject', reasonCode: 'duplicate', reason: `customer already protected by registration ${holder.dealId}` });
      return;
    }
    const first = [deal, ...overlaps].sort((a, b) => a.registeredAt - b.registeredAt || a.dealId.localeCompare(b.dealId))[0]!;
    if (first !== deal && deal.reviews < 2) {
      deal.reviews += 1;
      this.later(this.random.between(3, 7), () => this.review(deal));
      return;
    }
    if (overlaps.length === 0) {
      const r = this.random.next();
      if (r < 0.04) return; // never reviewed: it stays submitted
      if (r < 0.12) {
        const [reasonCode, reason] = this.random.pick(DEAL_REJECTIONS);
        await this.act(deal, { type: 'reject', reasonCode, reason });
        return;
      }
    }
    // Ops tire of waiting for the earlier registration: the approval is refused (first to register wins), then
    // given again with a recorded override.
    const approved =
      (await this.act(deal, { type: 'approve' })) ??
      (first !== deal && UNDECIDED.has(deal.status) && UNDECIDED.has(first.status)
        ? await this.act(deal, { type: 'approve', override: { reason: `the customer asked for ${deal.partnerId}; ${first.dealId} has not moved` } })
        : undefined);
    if (approved) this.planOutcome(deal);
  }

  /** Direct sales take over a customer for two months: registrations for it are refused until then. */
  private async directAccount(): Promise<void> {
    const customer = this.customers.draw(this.random);
    const until = isoDay(this.ports.clock.ms + 60 * DAY);
    if (!(await this.account(customer.domain, { type: 'direct', reason: 'strategic account: direct sales lead', until }))) return;
    const partner = this.registrant();
    if (partner) this.later(this.random.between(3, 20), () => this.register(partner, customer, this.products()));
  }

  /** A customer's second country site becomes an alias of its account; partners then register it under either name. */
  private async aliasAccount(): Promise<void> {
    const customer = this.customers.draw(this.random);
    const [label] = customer.domain.split('.');
    const alias = `${label}.${customer.domain.endsWith('.de') ? 'fr' : 'de'}`;
    if (!(await this.account(customer.domain, { type: 'alias', domain: alias }))) return;
    for (let i = 0; i < 2; i++) {
      const partner = this.registrant();
      if (partner) this.later(this.random.between(2, 30), () => this.register(partner, { ...customer, domain: alias }, this.products()), { clampToEnd: true });
    }
  }

  private account(customerKey: string, action: AccountAction): Promise<CommandOutcome | undefined> {
    const kind = { alias: 'AliasCustomerDomain', direct: 'MarkCustomerDirect', release: 'ReleaseDirectCustomer' }[action.type];
    const path = { alias: 'aliases', direct: 'direct', release: 'direct/release' }[action.type];
    const { type: _type, ...body } = action;
    return this.issue(kind, OPS, 'POST', `/v1/customer-accounts/${customerKey}/${path}`, body, (ctx) => new CustomerAccountCommand(ctx, customerKey, action));
  }

  private planOutcome(deal: SimDeal): void {
    const protectionDays = (deal.protectedUntil! - deal.approvedAt!) / DAY;
    const r = this.random.next();
    if (r < 0.5) this.later(this.random.between(7, protectionDays - 8), () => this.win(deal));
    else if (r < 0.72) this.later(this.random.between(7, Math.min(80, protectionDays - 8)), () => this.lose(deal));
    else if (r < 0.82) this.later(protectionDays - this.random.between(3, 10), () => this.extend(deal));
    else if (r < 0.84) this.later(protectionDays + this.random.between(2, 25), () => this.lateWin(deal));
    // Otherwise nobody records an outcome, and a month-end expiry run expires the registration.
  }

  private async extend(deal: SimDeal): Promise<void> {
    if (deal.status !== 'approved' || deal.extended) return;
    const previous = deal.protectedUntil!;
    // Sometimes asked for longer than the program allows: refused, then asked again within policy.
    const days = this.random.chance(0.2) ? 90 : this.random.pick([30, 45, 60]);
    let ok = await this.act(deal, { type: 'extend', days });
    if (!ok && days > this.program.maxExtensionDays && this.program.maxExtensionDays > 0) ok = await this.act(deal, { type: 'extend', days: this.program.maxExtensionDays });
    if (!ok) return;
    const left = (deal.protectedUntil! - this.ports.clock.ms) / DAY;
    const r = this.random.next();
    if (r < 0.55) this.later(this.random.between(Math.min(3, left - 8), left - 8), () => this.win(deal));
    else if (r < 0.8) this.later(this.random.between(3, Math.max(4, (previous - this.ports.clock.ms) / DAY + 20)), () => this.lose(deal));
  }

  private async win(deal: SimDeal): Promise<void> {
    if (deal.status !== 'approved') return;
    const now = this.ports.clock.ms;
    const closed = Math.min(Math.max(midnight(now - this.random.int(0, 3) * DAY), deal.approvedAt!), deal.protectedUntil!);
    const amountMinor = roundPrice(deal.estimateMinor * this.random.between(0.7, 1.15), deal.currency);
    if (await this.act(deal, { type: 'won', amount: { amountMinor, currency: deal.currency }, closedAt: iso(closed) })) {
      this.later(this.random.between(2, 25), () => this.attributeDeal(deal));
    }
  }

  /** A win entered after the protection ended: refused (and by then the registration has often expired). */
  private async lateWin(deal: SimDeal): Promise<void> {
    if (deal.status !== 'approved' && deal.status !== 'expired') return;
    await this.act(deal, { type: 'won', amount: { amountMinor: roundPrice(deal.estimateMinor, deal.currency), currency: deal.currency }, closedAt: isoDay(deal.protectedUntil! + DAY) });
  }

  private async lose(deal: SimDeal): Promise<void> {
    if (!ACTIVE.has(deal.status)) return;
    await this.act(deal, { type: 'lost', reason: this.random.pick(DEAL_LOSSES) });
  }

  // --- revenue --------------------------------------------------------------------------------------

  /**
   * The caller's reporting amount: none in the reporting currency, none once finance publishes rates (the ledger
   * converts at the rate in force at recognizedAt and records it); before the first publication, the conversion at
   * close that finance computed itself (recorded as `source: "caller"`).
   */
  private reporting(amountMinor: number, currency: string, at: number): number | undefined {
    if (currency === this.program.reportingCurrency) return undefined;
    if (this.ratesFrom !== undefined && isoDay(at) >= this.ratesFrom) return undefined;
    return this.fx.toUsdMinor(amountMinor, currency, this.monthIndex(at));
  }

  /** The earliest `date` of a published rate (a day), once finance has published one. */
  private ratesFrom: string | undefined;

  private async publishRates(monthStart: number): Promise<void> {
    const date = isoDay(monthStart);
    for (const currency of this.fx.currencies()) {
      if (currency === this.program.reportingCurrency) continue;
      const data = { currency, date, rate: this.fx.published(currency, this.monthIndex(monthStart)), source: 'Simulated treasury' };
      if (await this.issue('PublishExchangeRate', FINANCE, 'POST', '/v1/exchange-rates', data, (ctx) => new PublishExchangeRateCommand(ctx, data))) this.ratesFrom ??= date;
    }
  }

  private async releaseRun(): Promise<void> {
    const asOf = iso(this.ports.clock.ms);
    await this.issue('ReleaseMdf', OPS, 'POST', '/v1/mdf/releases', { asOf }, (ctx) => new ReleaseMdfCommand(ctx, asOf));
  }

  /** Finance books a won deal: sourced to its registrant, sometimes with influenced credits for partners who helped. */
  private async attributeDeal(deal: SimDeal): Promise<void> {
    if (deal.status !== 'won') return;
    const credits: AttributionCredit[] = [{ partnerId: deal.partnerId, type: 'sourced', shareBps: FULL_SHARE }];
    const helpers = this.partners.filter((p) => p.status !== 'none' && p.partnerId !== deal.partnerId && INFLUENCER_TYPES.has(p.type));
    if (helpers.length && this.random.chance(0.25)) {
      const chosen = this.random.shuffle(helpers).slice(0, this.random.chance(0.6) ? 1 : 2);
      const split = chosen.length === 1 ? [FULL_SHARE] : this.random.pick([[5000, 5000], [6000, 4000], [7000, 3000]]);
      chosen.forEach((p, i) => credits.push({ partnerId: p.partnerId, type: 'influenced', shareBps: split[i]! }));
    }
    const recognizedAt = isoDay(Date.parse(deal.closedAt!));
    const reportingAmountMinor = this.reporting(deal.wonMinor!, deal.currency, Date.parse(deal.closedAt!));
    const body = {
      attributionId: `A-${deal.dealId}`,
      dealId: deal.dealId,
      amount: { amountMinor: deal.wonMinor!, currency: deal.currency },
      ...(reportingAmountMinor !== undefined ? { reportingAmountMinor } : {}),
      recognizedAt,
      credits,
    };
    // Now and then the sourced credit goes to the wrong partner first: refused, then corrected.
    if (helpers.length && this.random.chance(0.015)) {
      const wrong = { ...body, credits: [{ partnerId: this.random.pick(helpers).partnerId, type: 'sourced' as const, shareBps: FULL_SHARE }] };
      await this.issue('AttributeRevenue', FINANCE, 'POST', '/v1/revenue-attributions', wrong, (ctx) => new AttributeRevenueCommand(ctx, wrong));
    }
    if (await this.issue('AttributeRevenue', FINANCE, 'POST', '/v1/revenue-attributions', body, (ctx) => new AttributeRevenueCommand(ctx, body))) {
      this.planReversal(this.attributions.get(body.attributionId)!);
    }
  }

  /** Referral fees and marketplace sales: revenue sourced by referral and technology partners, tied to no deal. */
  private async marketplaceRevenue(monthStart: number, monthEnd: number): Promise<void> {
    for (const p of this.partners) {
      if (p.status !== 'active' || (p.type !== 'referral' && p.type !== 'technology') || !this.random.chance(0.35)) continue;
      const days = (monthEnd - monthStart) / DAY;
      this.later(this.random.between(2, Math.max(2.5, days - 3)), async () => {
        const now = this.ports.clock.ms;
        const amountMinor = this.fx.fromUsd(this.random.between(1_000, 15_000), p.fundCurrency, this.monthIndex(now));
        const reportingAmountMinor = this.reporting(amountMinor, p.fundCurrency, now);
        this.attributionSeq += 1;
        const body = {
          attributionId: `A-M-${pad(this.attributionSeq, 6)}`,
          amount: { amountMinor, currency: p.fundCurrency },
          ...(reportingAmountMinor !== undefined ? { reportingAmountMinor } : {}),
          recognizedAt: isoDay(now),
          credits: [{ partnerId: p.partnerId, type: 'sourced' as const, shareBps: FULL_SHARE }],
        };
        if (await this.issue('AttributeRevenue', FINANCE, 'POST', '/v1/revenue-attributions', body, (ctx) => new AttributeRevenueCommand(ctx, body))) {
          this.planReversal(this.attributions.get(body.attributionId)!);
        }
      });
    }
  }

  /** Refunds, price adjustments and cancellations, months later; once in a while more than remains is asked. */
  private planReversal(a: SimAttribution): void {
    const r = this.random.next();
    if (r < 0.07) {
      this.later(this.random.between(15, 150), async () => {
        const amountMinor = Math.max(1, Math.round(a.remainingMinor * this.random.between(0.1, 0.4)));
        await this.reverse(a, amountMinor, this.random.pick(['partial refund', 'price adjustment', 'credit note issued']));
      });
    } else if (r < 0.1) {
      this.later(this.random.between(30, 200), () => this.reverse(a, undefined, 'contract cancelled').then(() => undefined));
    } else if (r < 0.115) {
      this.later(this.random.between(15, 150), async () => {
        if (!(await this.reverse(a, Math.max(1, Math.round(a.amountMinor * 0.3)), 'partial refund'))) return;
        this.later(this.random.between(5, 30), async () => {
          // Finance reverses the original amount, not what remains: refused; then takes back the rest.
          if (!(await this.reverse(a, a.amountMinor, 'contract cancelled'))) await this.reverse(a, undefined, 'contract cancelled');
        });
      });
    }
  }

  private reverse(a: SimAttribution, amountMinor: number | undefined, reason: string): Promise<CommandOutcome | undefined> {
    if (a.remainingMinor === 0) return Promise.resolve(undefined);
    const body = { ...(amountMinor !== undefined ? { amountMinor } : {}), reason, reversedAt: isoDay(this.ports.clock.ms) };
    const data = { attributionId: a.attributionId, ...body };
    return this.issue('ReverseAttribution', FINANCE, 'POST', `/v1/revenue-attributions/${a.attributionId}/reverse`, body, (ctx) => new ReverseAttributionCommand(ctx, data));
  }

  // --- MDF ------------------------------------------------------------------------------------------

  /** Quarterly allocations to active partners of an MDF-eligible tier, by tier; ops now and then try an ineligible one. */
  private async allocateMdf(): Promise<void> {
    const period = periodOf(this.ports.clock.ms);
    const month = this.monthIndex(this.ports.clock.ms);
    const budget = [0, 10_000, 25_000, 60_000];
    for (const p of this.partners) {
      const tier = this.program.tiers.find((t) => t.name === p.tier);
      if (p.status !== 'active' || !tier?.mdfEligible) continue;
      const usd = Math.round((budget[Math.min(3, Math.max(1, tier.rank))]! * this.random.between(0.8, 1.25)) / 500) * 500;
      await this.allocate(p, period, this.fx.fromUsd(usd, p.fundCurrency, month));
      if (!this.funds.has(`${p.partnerId}.${period}`)) continue;
      const requests = 1 + (this.random.chance(0.5) ? 1 : 0) + (this.random.chance(p.size) ? 1 : 0);
      for (let i = 0; i < requests; i++) this.later(this.random.between(3, 70), () => this.requestMdf(p, period));
    }
    const lowest = this.program.tiers.find((t) => !t.mdfEligible)?.name;
    const ineligible = this.partners.filter((p) => p.status === 'active' && p.tier === lowest);
    if (ineligible.length && this.random.chance(0.25)) await this.allocate(this.random.pick(ineligible), period, this.fx.fromUsd(5_000, 'USD', month));
  }

  private async allocate(p: SimPartner, period: string, amountMinor: number): Promise<void> {
    const body = { partnerId: p.partnerId, period, amount: { amountMinor, currency: p.fundCurrency } };
    await this.issue('AllocateMdf', OPS, 'POST', '/v1/mdf/allocations', body, (ctx) => new AllocateMdfCommand(ctx, body));
  }

  private async requestMdf(p: SimPartner, period: string): Promise<void> {
    const fund = this.funds.get(`${p.partnerId}.${period}`)!;
    const requestId = `R-${pad(this.requestSeq + 1, 6)}`;
    const activity = this.random.pick(MDF_ACTIVITIES);
    const send = (amountMinor: number) => {
      const body = { requestId, partnerId: p.partnerId, period, activity, amount: { amountMinor, currency: fund.currency } };
      return this.issue('RequestMdf', partnerActor(p.partnerId), 'POST', '/v1/mdf/requests', body, (ctx) => new RequestMdfCommand(ctx, body));
    };
    // Partners ask from what they were allocated, not from what is left: some requests are above it.
    let ok = await send(roundPrice(fund.allocatedMinor * this.random.between(0.15, 0.55), fund.currency));
    const available = fund.allocatedMinor - fund.approvedMinor;
    if (!ok && available > 0 && this.random.chance(0.5)) ok = await send(available);
    if (!ok) return;
    this.requestSeq += 1;
    this.later(this.random.between(2, 10), () => this.reviewRequest(this.requests.get(requestId)!));
  }

  private async reviewRequest(r: SimRequest): Promise<void> {
    if (r.status !== 'requested') return;
    const fund = this.funds.get(`${r.partnerId}.${r.period}`)!;
    const reject = (reason: string) => {
      const body = { reason };
      return this.issue('RejectMdfRequest', OPS, 'POST', `/v1/mdf/requests/${r.requestId}/reject`, body, (ctx) =>
        new MdfRequestActionCommand(ctx, { type: 'RejectRequest', data: { requestId: r.requestId, reason } }),
      );
    };
    const approve = (amountMinor?: number) => {
      const body = amountMinor === undefined ? {} : { amount: { amountMinor, currency: fund.currency } };
      return this.issue('ApproveMdfRequest', OPS, 'POST', `/v1/mdf/requests/${r.requestId}/approve`, body, (ctx) =>
        new MdfRequestActionCommand(ctx, { type: 'ApproveRequest', data: { requestId: r.requestId, ...body } }),
      );
    };
    const x = this.random.next();
    if (x < 0.1) {
      await reject('activity not aligned with the program goals');
      return;
    }
    // Other approvals since the request may have used the fund up: the approval is refused, then ops approve what is left.
    let ok = await approve(x < 0.3 ? roundPrice(r.requestedMinor * this.random.between(0.5, 0.9), fund.currency) : undefined);
    if (!ok) {
      const available = fund.allocatedMinor - fund.approvedMinor;
      ok = available > 0 ? await approve(Math.min(available, r.requestedMinor)) : undefined;
      if (!ok) await reject('the fund is used up for the quarter');
    }
    if (!ok) return;
    const y = this.random.next();
    if (y < 0.75) this.later(this.random.between(15, 50), () => this.claim(r, this.random.between(0.8, 1)));
    else if (y < 0.9) {
      this.later(this.random.between(15, 40), () => this.claim(r, 0.5));
      this.later(this.random.between(45, 80), () => this.claim(r, this.random.between(0.8, 1)));
    }
  }

  private async claim(r: SimRequest, fraction: number, extraProof = false): Promise<void> {
    const fund = this.funds.get(`${r.partnerId}.${r.period}`)!;
    const unit = 10 ** exponent(fund.currency);
    const amountMinor = Math.floor(((r.approvedMinor - r.claimedMinor) * fraction) / unit) * unit;
    if (r.status !== 'approved' || amountMinor <= 0) return;
    const claimId = `C-${pad(this.claimSeq + 1, 6)}`;
    const proofs = this.random.shuffle(PROOFS).slice(0, extraProof ? 4 : this.random.int(1, 3));
    const body = { claimId, amount: { amountMinor, currency: fund.currency }, proofOfPerformance: proofs.map((f) => `https://proof.example.com/${r.partnerId}/${claimId}/${f}`) };
    const data = { requestId: r.requestId, ...body };
    const ok = await this.issue('SubmitMdfClaim', partnerActor(r.partnerId), 'POST', `/v1/mdf/requests/${r.requestId}/claims`, body, (ctx) => new SubmitMdfClaimCommand(ctx, data));
    if (!ok) return;
    this.claimSeq += 1;
    this.later(this.random.between(3, 14), () => this.reviewClaim(r, this.claims.get(claimId)!));
  }

  private async reviewClaim(r: SimRequest, c: SimClaim): Promise<void> {
    if (c.status !== 'submitted') return;
    const fund = this.funds.get(`${r.partnerId}.${r.period}`)!;
    const unit = 10 ** exponent(fund.currency);
    const x = this.random.next();
    if (x < 0.1) {
      const reason = 'proof of performance incomplete';
      const ok = await this.issue('RejectMdfClaim', OPS, 'POST', `/v1/mdf/claims/${c.claimId}/reject`, { reason }, (ctx) =>
        new MdfClaimActionCommand(ctx, { type: 'RejectClaim', data: { claimId: c.claimId, reason } }),
      );
      // Most partners send the claim again, with the missing documents.
      if (ok && this.random.chance(0.7)) this.later(this.random.between(5, 20), () => this.claim(r, 1, true));
      return;
    }
    const partial = x < 0.25 ? Math.floor((c.claimedMinor * 0.9) / unit) * unit : undefined;
    const body = partial === undefined || partial <= 0 ? {} : { amount: { amountMinor: partial, currency: fund.currency } };
    const ok = await this.issue('ApproveMdfClaim', OPS, 'POST', `/v1/mdf/claims/${c.claimId}/approve`, body, (ctx) =>
      new MdfClaimActionCommand(ctx, { type: 'ApproveClaim', data: { claimId: c.claimId, ...body } }),
    );
    if (ok) this.later(this.random.between(5, 25), () => this.pay(c));
  }

  private async pay(c: SimClaim): Promise<void> {
    if (c.status !== 'approved') return;
    const now = this.ports.clock.ms;
    const body = { paidAt: isoDay(now), reference: `PAY-${isoDay(now).slice(0, 10).replace(/-/g, '')}-${c.claimId}` };
    await this.issue('PayMdfClaim', OPS, 'POST', `/v1/mdf/claims/${c.claimId}/pay`, body, (ctx) => new MdfClaimActionCommand(ctx, { type: 'PayClaim', data: { claimId: c.claimId, ...body } }));
  }

  // --- the summary ----------------------------------------------------------------------------------

  private result(statements: StatementsSummary): SimulationResult {
    const count = <T>(items: Iterable<T>, key: (item: T) => string): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
      return out;
    };
    const enrolled = this.partners.filter((p) => p.status !== 'none');
    return {
      seed: this.options.seed,
      partners: this.options.partners,
      deals: this.options.deals,
      months: this.options.months,
      from: iso(this.start),
      to: iso(this.end),
      commands: Object.fromEntries([...this.tallies].map(([k, t]) => [k, { ...t }])),
      refusals: Object.fromEntries([...this.refusals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
      eventsWritten: this.eventsWritten,
      eventsByType: Object.fromEntries(this.eventsByType),
      partnersByStatus: count(enrolled, (p) => p.status),
      partnersByTier: count(
        enrolled.filter((p) => p.status !== 'terminated'),
        (p) => p.tier,
      ),
      dealsByStatus: count(this.deals.values(), (d) => d.status),
      statements,
    };
  }
}

/** A price as people quote it: to the hundred of the currency's units (ten thousand yen), at least one unit. */
function roundPrice(amountMinor: number, currency: string): number {
  const unit = 10 ** exponent(currency);
  const step = (currency === 'JPY' ? 10_000 : 100) * unit;
  return amountMinor >= step ? Math.round(amountMinor / step) * step : Math.max(unit, Math.round(amountMinor / unit) * unit);
}
