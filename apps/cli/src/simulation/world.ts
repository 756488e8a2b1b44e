import type { PartnerType } from '#events/partners.js';
import { currencyExponent } from '#libs/money/currency.js';
import type { Random } from './random.js';

/**
 * The cast and the catalogue of the simulated program: partner and customer companies (fictional names,
 * real public suffixes so that domain folding has something to fold), countries, currencies, products,
 * exchange rates. Everything is drawn from the simulation's `Random`.
 */

export type Country = 'US' | 'GB' | 'DE' | 'FR' | 'JP' | 'AU' | 'CA';

const TLD: Record<Country, string> = { US: 'com', GB: 'co.uk', DE: 'de', FR: 'fr', JP: 'co.jp', AU: 'com.au', CA: 'ca' };

/** Deals are priced in the customer's currency: what makes `reportingAmountMinor` necessary. */
const DEAL_CURRENCY: Record<Country, string> = { US: 'USD', GB: 'GBP', DE: 'EUR', FR: 'EUR', JP: 'JPY', AU: 'USD', CA: 'USD' };

/** MDF is budgeted in the partner's home currency where the vendor has a budget in it. */
const FUND_CURRENCY: Record<Country, string> = { US: 'USD', GB: 'GBP', DE: 'EUR', FR: 'EUR', JP: 'USD', AU: 'USD', CA: 'USD' };

const PARTNER_COUNTRIES: readonly (readonly [Country, number])[] = [
  ['US', 45],
  ['GB', 15],
  ['DE', 12],
  ['FR', 8],
  ['JP', 6],
  ['AU', 7],
  ['CA', 7],
];
const CUSTOMER_COUNTRIES: readonly (readonly [Country, number])[] = [
  ['US', 50],
  ['GB', 12],
  ['DE', 10],
  ['FR', 6],
  ['JP', 8],
  ['AU', 6],
  ['CA', 8],
];

export const PARTNER_TYPE_MIX: readonly (readonly [PartnerType, number])[] = [
  ['reseller', 40],
  ['msp', 20],
  ['distributor', 10],
  ['technology', 15],
  ['referral', 15],
];

const PARTNER_PREFIXES = [
  'North', 'Blue', 'Iron', 'Silver', 'Bright', 'Cloud', 'Summit', 'Harbor', 'Vertex', 'Pioneer', 'Atlas', 'Cedar', 'Granite', 'Lumen', 'Nimbus',
  'Orbit', 'Quartz', 'Redwood', 'Sterling', 'Tidal', 'Copper', 'Falcon', 'Maple', 'Horizon', 'Beacon', 'Keystone', 'Evergreen', 'Meridian', 'Aurora', 'Cobalt',
];
const PARTNER_ROOTS = ['wind', 'peak', 'stone', 'bridge', 'field', 'gate', 'point', 'line', 'works', 'logic', 'sphere', 'path'];
const PARTNER_DESCRIPTORS: Record<PartnerType, readonly string[]> = {
  reseller: ['Solutions', 'Systems', 'IT'],
  distributor: ['Distribution', 'Supply'],
  msp: ['Managed Services', 'Cloud Services'],
  technology: ['Labs', 'Software', 'Technologies'],
  referral: ['Advisory', 'Consulting', 'Partners'],
};

const CUSTOMER_NAMES = [
  'Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Cyberdyne', 'Soylent', 'Tyrell', 'Wonka', 'Stark', 'Wayne', 'Oscorp', 'Monarch',
  'Dunder', 'Virtucon', 'Gekko', 'Nakatomi', 'Weyland', 'Aperture', 'Prestige', 'Krusty', 'Duff', 'Cogswell', 'Spacely', 'Bluth', 'Pendant',
  'Kramerica', 'Wernham', 'Ajax', 'Zorin', 'Frobozz', 'Yoyodyne', 'Omni', 'Tessier', 'Mishima', 'Rekall', 'Encom', 'Genco', 'Sirius',
];
const INDUSTRIES = [
  'Logistics', 'Foods', 'Health', 'Bank', 'Energy', 'Retail', 'Motors', 'Pharma', 'Media', 'Airlines', 'Insurance', 'Telecom', 'Steel', 'Textiles',
  'Robotics', 'Biotech', 'Shipping', 'Hotels', 'Foundry', 'Analytics', 'Mining', 'Chemicals', 'Aerospace', 'Furniture', 'Games', 'Records', 'Water',
  'Paper', 'Optics', 'Rail',
];
const REGIONS = ['', '', '', 'Nordic', 'Pacific', 'Atlantic', 'Central', 'Northern', 'Southern', 'Western', 'Eastern', 'Alpine', 'Coastal', 'Metro'];
const QUALIFIERS = ['', 'Group', 'International', 'Holdings', 'Europe', 'Americas', 'Asia'];

/** Product codes, and how often a registration names each. */
export const PRODUCTS: readonly (readonly [string, number])[] = [
  ['CORE', 5],
  ['ANALYTICS', 3],
  ['SECURITY', 3],
  ['AUTOMATION', 2],
  ['AI-ASSIST', 2],
  ['EDGE', 1],
  ['BACKUP', 1],
  ['SUPPORT-PLUS', 1],
];

export interface PartnerProfile {
  readonly partnerId: string;
  readonly name: string;
  readonly type: PartnerType;
  readonly domain: string;
  readonly country: Country;
  readonly fundCurrency: string;
  /** Relative business volume (the largest partner is 1): deals, sellers, MDF requests follow it. */
  readonly size: number;
  readonly sellers: number;
}

export interface CustomerProfile {
  readonly name: string;
  /** The registrable domain: the customer account's key. */
  readonly domain: string;
  readonly country: Country;
  readonly currency: string;
  /** Scales deal values: a few large enterprises, many mid-sized companies. */
  readonly scale: number;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export function partnerProfiles(random: Random, count: number): PartnerProfile[] {
  const width = Math.max(3, String(count).length);
  const types: PartnerType[] = [];
  // Every type is present in any program of five partners or more.
  for (let i = 0; i < count; i++) types.push(i < 5 ? PARTNER_TYPE_MIX[i]![0] : random.weighted(PARTNER_TYPE_MIX));
  const order = random.shuffle(types.map((_, i) => i));
  const bases = random.shuffle(PARTNER_PREFIXES.flatMap((p) => PARTNER_ROOTS.map((r) => `${p}${r}`)));
  const out: PartnerProfile[] = [];
  for (let i = 0; i < count; i++) {
    const type = types[order[i]!]!;
    // A long tail: a few partners bring most of the business (rank 1 is the largest).
    const size = 1 / Math.pow(i + 1, 0.9);
    const cycle = Math.floor(i / bases.length);
    const base = `${bases[i % bases.length]!}${cycle ? ` ${cycle + 1}` : ''}`;
    const country = random.weighted(PARTNER_COUNTRIES);
    out.push({
      partnerId: `P-${String(i + 1).padStart(width, '0')}`,
      name: `${base} ${random.pick(PARTNER_DESCRIPTORS[type])}`,
      type,
      domain: `${slug(base)}.${TLD[country]}`,
      country,
      fundCurrency: FUND_CURRENCY[country],
      size,
      sellers: 1 + Math.round(14 * Math.pow(size, 0.6)),
    });
  }
  // Ids in enrollment order, sizes shuffled: the largest partner is not always P-001.
  const sizes = random.shuffle(out.map((p) => [p.size, p.sellers] as const));
  return out.map((p, i) => ({ ...p, size: sizes[i]![0], sellers: sizes[i]![1] }));
}

export function customerProfiles(random: Random, count: number): CustomerProfile[] {
  const seen = new Set<string>();
  const out: CustomerProfile[] = [];
  for (let i = 0; i < count; i++) {
    let name = '';
    for (let attempt = 0; attempt < 20 && (name === '' || seen.has(name)); attempt++) {
      name = [random.pick(CUSTOMER_NAMES), random.pick(REGIONS), random.pick(INDUSTRIES), random.pick(QUALIFIERS)].filter(Boolean).join(' ');
    }
    if (seen.has(name)) name = `${name} ${i + 1}`;
    seen.add(name);
    const country = random.weighted(CUSTOMER_COUNTRIES);
    out.push({
      name,
      domain: `${slug(name)}.${TLD[country]}`,
      country,
      currency: DEAL_CURRENCY[country],
      scale: Math.min(8, Math.max(0.2, random.logNormal(1, 0.8))),
    });
  }
  return out;
}

/** How people type a company's web address into a form: `registrableDomain` folds all of them to one key. */
export function spelling(random: Random, domain: string): string {
  const sub = random.pick(['eu', 'us', 'shop', 'app', 'www2', 'investors']);
  const capitalized = domain
    .split('.')
    .map((label, i) => (i === 0 ? label.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-') : label))
    .join('.');
  return random.weighted<string>([
    [domain, 4],
    [`www.${domain}`, 3],
    [`https://www.${domain}/`, 2],
    [`https://${sub}.${domain}/contact`, 1],
    [capitalized, 1],
    [`http://${domain}/en-us/about`, 1],
  ]);
}

/** USD per unit of each deal currency, at the start; each month moves it a little. */
const USD_PER_UNIT: Record<string, number> = { USD: 1, EUR: 1.08, GBP: 1.27, JPY: 0.0067 };

export class ExchangeRates {
  private readonly months: Record<string, number>[] = [];

  constructor(random: Random, months: number) {
    let current = { ...USD_PER_UNIT };
    for (let m = 0; m <= months; m++) {
      this.months.push(current);
      const next: Record<string, number> = { USD: 1 };
      for (const [code, rate] of Object.entries(current)) if (code !== 'USD') next[code] = rate * random.logNormal(1, 0.012);
      current = next;
    }
  }

  /** The conversion at close, in minor units of USD, rounded to the cent. */
  toUsdMinor(amountMinor: number, currency: string, month: number): number {
    const rate = this.months[Math.min(Math.max(0, month), this.months.length - 1)]![currency] ?? 1;
    return Math.round((amountMinor / 10 ** exponent(currency)) * rate * 100);
  }

  /** The currencies finance publishes rates for (all but the reporting currency, USD). */
  currencies(): string[] {
    return Object.keys(USD_PER_UNIT).filter((c) => c !== 'USD');
  }

  /**
   * The month's rate as finance publishes it (POST /v1/exchange-rates): a plain decimal string of 8 significant
   * digits, so the ledger's exact conversion starts from what a treasury table shows.
   */
  published(currency: string, month: number): string {
    const rate = this.months[Math.min(Math.max(0, month), this.months.length - 1)]![currency] ?? 1;
    const digits = Math.max(0, 7 - Math.floor(Math.log10(rate)));
    return rate.toFixed(digits).replace(/\.?0+$/, '');
  }

  /** A round price in `currency` minor units for an amount in US dollars (major units). */
  fromUsd(usd: number, currency: string, month: number): number {
    const rate = this.months[Math.min(Math.max(0, month), this.months.length - 1)]![currency] ?? 1;
    const major = usd / rate;
    // Prices people quote: to the hundred (ten thousand yen).
    const step = currency === 'JPY' ? 10_000 : 100;
    return Math.max(step, Math.round(major / step) * step) * 10 ** exponent(currency);
  }
}

export function exponent(currency: string): number {
  const e = currencyExponent(currency);
  if (e === undefined) throw new Error(`unknown currency ${currency}`);
  return e;
}
