import fc from 'fast-check';
import type { PartnerState } from '#libs/partners/partner.js';
import { DEFAULT_PROGRAM } from '#libs/program/program.js';
import type { PartnerEvent, PartnerType } from '#events/partners.js';
import type { ProgramEvent } from '#events/program.js';
import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import type { TierProgram } from '#libs/program/program.js';
import { evaluateTier, tierEvaluationDecider } from './evaluation.js';
import { programEffectiveAt, programTimeline } from './program-timeline.js';
import { inWindow, lowestTierFor, qualifyingTier, shortfallToNext, windowEnding } from './qualification.js';
import { bpsOf, priceWaterfall } from './waterfall.js';

const P = DEFAULT_PROGRAM;
const asOf = new Date('2026-06-30T00:00:00Z');
const none = { netSourcedRevenueMinor: 0, certifiedSellers: 0, wonDeals: 0 };
const silver = { netSourcedRevenueMinor: 10_000_000, certifiedSellers: 2, wonDeals: 0 };
const gold = { netSourcedRevenueMinor: 50_000_000, certifiedSellers: 5, wonDeals: 5 };

function partner(tier: string, pendingDowngrade?: { from: string; to: string; effectiveAt: string }, status: 'active' | 'terminated' = 'active'): PartnerState {
  return {
    status,
    partnerId: 'P1',
    name: 'n',
    type: 'reseller',
    domain: 'p1.example',
    tier,
    enrolledAt: '2025-01-01T00:00:00.000Z',
    programVersion: 0,
    certifications: [],
    ...(pendingDowngrade ? { pendingDowngrade } : {}),
  };
}

describe('qualification', () => {
  it('is the highest tier whose every requirement is met', () => {
    expect(qualifyingTier(P, none).name).toBe('Registered');
    expect(qualifyingTier(P, silver).name).toBe('Silver');
    expect(qualifyingTier(P, { ...silver, certifiedSellers: 1 }).name).toBe('Registered');
    expect(qualifyingTier(P, gold).name).toBe('Gold');
    // Revenue enough for Platinum but sellers only for Gold: Gold.
    expect(qualifyingTier(P, { netSourcedRevenueMinor: 300_000_000, certifiedSellers: 5, wonDeals: 20 }).name).toBe('Gold');
  });

  it('includes both edges of the window [asOf - lookbackDays, asOf]', () => {
    const w = windowEnding(asOf, { lookbackDays: 365 });
    expect(w.from.toISOString()).toBe('2025-06-30T00:00:00.000Z');
    expect(inWindow('2025-06-30T00:00:00.000Z', w)).toBe(true);
    expect(inWindow('2025-06-29T23:59:59.999Z', w)).toBe(false);
    expect(inWindow('2026-06-30T00:00:00.000Z', w)).toBe(true);
    expect(inWindow('2026-06-30T00:00:00.001Z', w)).toBe(false);
  });

  it('names the next tier and the shortfall to it, never negative', () => {
    const s = shortfallToNext(P, 'Silver', { netSourcedRevenueMinor: 60_000_000, certifiedSellers: 3, wonDeals: 1 });
    expect(s.next?.name).toBe('Gold');
    expect(s.shortfall).toEqual({ revenueMinor: 0, certifiedSellers: 2, wonDeals: 4, certifications: [] });
    expect(shortfallToNext(P, 'Platinum', gold).next).toBeUndefined();
  });
});

describe('tier evaluation', () => {
  it('promotes at once, possibly over several tiers', () => {
    expect(evaluateTier(partner('Registered'), gold, asOf, P)).toEqual([
      { type: 'PartnerTierChanged', data: { partnerId: 'P1', from: 'Registered', to: 'Gold', kind: 'promotion', asOf: asOf.toISOString(), programVersion: 0 } },
    ]);
  });

  it('schedules a downgrade with the grace period when the partner no longer qualifies', () => {
    expect(evaluateTier(partner('Gold'), silver, asOf, P)).toEqual([
      { type: 'TierDowngradeScheduled', data: { partnerId: 'P1', from: 'Gold', to: 'Silver', effectiveAt: '2026-09-28T00:00:00.000Z', asOf: asOf.toISOString(), programVersion: 0 } },
    ]);
  });

  const pending = { from: 'Gold', to: 'Silver', effectiveAt: '2026-09-28T00:00:00.000Z' };

  it('decides nothing new while a scheduled downgrade is not yet due, or for a partner at its tier', () => {
    expect(evaluateTier(partner('Gold', pending), silver, new Date('2026-09-27T23:59:59Z'), P)).toEqual([]);
    expect(evaluateTier(partner('Silver'), silver, asOf, P)).toEqual([]);
  });

  it('cancels the downgrade when the partner qualifies again before it is due, or on the day', () => {
    for (const when of ['2026-08-01T00:00:00Z', '2026-09-28T00:00:00Z']) {
      expect(evaluateTier(partner('Gold', pending), gold, new Date(when), P)).toEqual([
        { type: 'TierDowngradeCancelled', data: { partnerId: 'P1', tier: 'Gold', asOf: new Date(when).toISOString() } },
      ]);
    }
  });

  it('demotes at or after the effective date to the tier it then qualifies for', () => {
    expect(evaluateTier(partner('Gold', pending), none, new Date('2026-09-28T00:00:00Z'), P)).toEqual([
      { type: 'PartnerTierChanged', data: { partnerId: 'P1', from: 'Gold', to: 'Registered', kind: 'demotion', asOf: '2026-09-28T00:00:00.000Z', programVersion: 0 } },
    ]);
  });

  it('promotes past a pending downgrade when the partner now qualifies higher', () => {
    const platinum = { netSourcedRevenueMinor: 200_000_000, certifiedSellers: 10, wonDeals: 15 };
    expect(evaluateTier(partner('Gold', pending), platinum, asOf, P)[0]).toMatchObject({ type: 'PartnerTierChanged', data: { to: 'Platinum', kind: 'promotion' } });
  });

  it('leaves terminated partners alone, and demotes at once with no grace period', () => {
    expect(evaluateTier(partner('Gold', undefined, 'terminated'), none, asOf, P)).toEqual([]);
    expect(evaluateTier(partner('Gold'), none, asOf, { ...P, downgradeGraceDays: 0 })[0]).toMatchObject({ data: { kind: 'demotion', to: 'Registered' } });
  });
});

describe('price waterfall', () => {
  it('rounds each layer half away from zero and keeps list = layers + net', () => {
    // 15% of 333 = 49.95 → 50; 10% of 333 = 33.3 → 33.
    const w = priceWaterfall(333, [
      { kind: 'tier-discount', bps: 1500 },
      { kind: 'deal-registration', bps: 1000 },
    ]);
    expect(w.layers.map((l) => l.amountMinor)).toEqual([50, 33]);
    expect(w.netMinor).toBe(250);
    expect(bpsOf(5, 1000)).toBe(1); // 0.5 → 1
    expect(bpsOf(4, 1000)).toBe(0); // 0.4 → 0
  });

  it('never takes more than the list price, even at 100% in two halves', () => {
    const w = priceWaterfall(1, [
      { kind: 'tier-discount', bps: 5000 },
      { kind: 'deal-registration', bps: 5000 },
    ]);
    expect(w.layers.map((l) => l.amountMinor)).toEqual([1, 0]);
    expect(w.netMinor).toBe(0);
  });

  it('sums exactly for any price and layers (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (list, a, b) => {
        fc.pre(a + b <= 10_000);
        const w = priceWaterfall(list, [
          { kind: 'tier-discount', bps: a },
          { kind: 'deal-registration', bps: b },
        ]);
        expect(w.layers.reduce((s, l) => s + l.amountMinor, 0) + w.netMinor).toBe(list);
        expect(w.netMinor).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe('tier program v2 in evaluations', () => {
  const spec = deciderSpec(tierEvaluationDecider, asOf);
  const enrolled = (type: PartnerType = 'reseller'): PartnerEvent => ({ type: 'PartnerEnrolled', data: { partnerId: 'P1', name: 'n', type, domain: 'p1.example', tier: 'Registered', programVersion: 0, enrolledAt: '2025-01-01T00:00:00.000Z' } });
  const activated: PartnerEvent = { type: 'PartnerActivated', data: { partnerId: 'P1', activatedAt: '2025-01-02T00:00:00.000Z' } };
  const suspended: PartnerEvent = { type: 'PartnerSuspended', data: { partnerId: 'P1', reason: 'review', suspendedAt: '2025-02-01T00:00:00.000Z' } };
  const twoTracks: TierProgram = {
    ...P,
    version: 4,
    tiers: [
      { name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: false },
      { name: 'Silver', rank: 1, minSourcedRevenueMinor: 10_000_000, minCertifiedSellers: 2, minWonDeals: 0, discountBps: 1500, mdfEligible: true, partnerTypes: ['reseller'] },
      { name: 'Select', rank: 1, minSourcedRevenueMinor: 1_000_000, minCertifiedSellers: 1, minWonDeals: 0, discountBps: 1200, mdfEligible: true, partnerTypes: ['technology'], requiredCertifications: [{ certification: 'Integration Engineer', minSellers: 2 }] },
    ],
  };

  it('promotes only active partners: a pending or suspended one that qualifies stays where it is', () => {
    spec.given(enrolled()).when({ inputs: silver, asOf, program: P }).then([]);
    spec.given(enrolled(), activated, suspended).when({ inputs: silver, asOf, program: P }).then([]);
    spec.given(enrolled(), activated).when({ inputs: silver, asOf, program: P }).thenMatches([{ type: 'PartnerTierChanged', data: { to: 'Silver', kind: 'promotion' } }]);
  });

  it('climbs the ladder of the partner type, and names the certifications missing for the next tier', () => {
    const tech = { netSourcedRevenueMinor: 50_000_000, certifiedSellers: 3, wonDeals: 0, certifications: { 'Integration Engineer': 1, Sales: 3 } };
    // Enough revenue for the reseller Silver, but a technology partner's next tier is Select, which needs two engineers.
    spec.given(enrolled('technology'), activated).when({ inputs: tech, asOf, program: twoTracks }).then([]);
    expect(shortfallToNext(twoTracks, 'Registered', tech, 'technology')).toMatchObject({
      next: { name: 'Select' },
      shortfall: { revenueMinor: 0, certifiedSellers: 0, certifications: [{ certification: 'Integration Engineer', minSellers: 2, missingSellers: 1 }] },
    });
    spec.given(enrolled('technology'), activated)
      .when({ inputs: { ...tech, certifications: { 'Integration Engineer': 2 } }, asOf, program: twoTracks })
      .thenMatches([{ type: 'PartnerTierChanged', data: { from: 'Registered', to: 'Select', programVersion: 4 } }]);
    expect(qualifyingTier(twoTracks, tech, 'reseller').name).toBe('Silver');
    expect(lowestTierFor(twoTracks, 'technology')?.name).toBe('Registered');
  });

  it('uses the version effective at asOf: the latest defined whose effectiveFrom is at or before it', () => {
    const { version: _v, ...content } = P;
    const defined = (version: number, definedAt: string, effectiveFrom?: string): ProgramEvent => ({ type: 'TierProgramDefined', data: { ...content, version, definedAt, ...(effectiveFrom ? { effectiveFrom } : {}) } });
    // Version 1 was stored before effectiveFrom existed: it applies from when it was defined.
    const timeline = [defined(1, '2026-01-01T00:00:00.000Z'), defined(2, '2026-03-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z'), defined(3, '2026-04-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z')].reduce(
      programTimeline.evolve,
      programTimeline.initialState(),
    );
    expect(programEffectiveAt(timeline, new Date('2025-12-31T00:00:00Z')).version).toBe(0);
    expect(programEffectiveAt(timeline, new Date('2026-01-15T00:00:00Z')).version).toBe(1);
    expect(programEffectiveAt(timeline, new Date('2026-02-15T00:00:00Z')).version).toBe(3);
    // Version 3 was defined after version 2 but applies from an earlier date: from 2026-06-01 version 3 still holds.
    expect(programEffectiveAt(timeline, new Date('2026-07-01T00:00:00Z')).version).toBe(3);
  });
});

describe('tier overrides in evaluations', () => {
  const spec = deciderSpec(tierEvaluationDecider, asOf);
  const history: PartnerEvent[] = [
    { type: 'PartnerEnrolled', data: { partnerId: 'P1', name: 'n', type: 'reseller', domain: 'p1.example', tier: 'Registered', programVersion: 0, enrolledAt: '2025-01-01T00:00:00.000Z' } },
    { type: 'PartnerActivated', data: { partnerId: 'P1', activatedAt: '2025-01-02T00:00:00.000Z' } },
    { type: 'PartnerTierOverridden', data: { partnerId: 'P1', tier: 'Gold', from: 'Registered', reason: 'launch', until: '2026-08-01T00:00:00.000Z', overriddenAt: '2026-06-01T00:00:00.000Z', programVersion: 0 } },
  ];

  it('does not move an overridden partner before the end date, but records what it qualifies for (first, then on change)', () => {
    const recorded = (qualifyingTier: string, at: Date = asOf): PartnerEvent => ({
      type: 'PartnerTierQualificationRecorded',
      data: { partnerId: 'P1', tier: 'Gold', qualifyingTier, until: '2026-08-01T00:00:00.000Z', asOf: at.toISOString(), programVersion: 0 },
    });
    spec.given(...history).when({ inputs: silver, asOf, program: P }).then([recorded('Silver')]);
    spec.given(...history).when({ inputs: none, asOf, program: P }).then([recorded('Registered')]);
    // Evaluated again with the same qualification: nothing new; with another, recorded again.
    spec.given(...history, recorded('Silver')).when({ inputs: silver, asOf, program: P }).then([]);
    spec.given(...history, recorded('Silver')).when({ inputs: none, asOf, program: P }).then([recorded('Registered')]);
  });

  it('ends the override at its date and evaluates the partner from its own tier in the same run', () => {
    const at = new Date('2026-08-01T00:00:00Z');
    spec.given(...history).when({ inputs: silver, asOf: at, program: P }).then([
      { type: 'PartnerTierOverrideEnded', data: { partnerId: 'P1', tier: 'Gold', restoredTier: 'Registered', reason: 'the override period ended', endedAt: '2026-08-01T00:00:00.000Z' } },
      { type: 'PartnerTierChanged', data: { partnerId: 'P1', from: 'Registered', to: 'Silver', kind: 'promotion', asOf: at.toISOString(), programVersion: 0 } },
    ]);
  });
});
