import { InvalidInput, NamedRuleViolation, RuleViolation, UnknownCertification } from '#libs/kernel/errors.js';
import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import { decideProgram, programDecider, programInForce, type DefineProgram } from './program-decider.js';
import { DEFAULT_PROGRAM } from './program.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal, nothing was thrown');
}

const now = new Date('2026-04-01T10:00:00Z');
const { version: _v, ...base } = DEFAULT_PROGRAM;
const define = (over: Partial<DefineProgram> = {}): DefineProgram => ({ ...base, ...over });

describe('tier program', () => {
  it('is the default, version 0, until one is defined', () => {
    expect(programInForce([])).toBe(DEFAULT_PROGRAM);
  });

  it('given the default, defining a program records version 1 with its time; the next one is version 2', () => {
    const [e1] = decideProgram(define({ protectionDays: 60 }), DEFAULT_PROGRAM, now);
    expect(e1).toMatchObject({ type: 'TierProgramDefined', data: { version: 1, protectionDays: 60, definedAt: '2026-04-01T10:00:00.000Z' } });
    const p1 = programInForce([e1!]);
    expect(p1.version).toBe(1);
    const [e2] = decideProgram(define({ protectionDays: 45 }), p1, now);
    expect(e2!.data.version).toBe(2);
    expect(programInForce([e1!, e2!]).protectionDays).toBe(45);
  });

  it('re-sending the program in force is a no-op; re-sending the default content still defines version 1', () => {
    const [e1] = decideProgram(define({ protectionDays: 60 }), DEFAULT_PROGRAM, now);
    expect(decideProgram(define({ protectionDays: 60 }), programInForce([e1!]), now)).toEqual([]);
    expect(decideProgram(define(), DEFAULT_PROGRAM, now)).toHaveLength(1);
  });

  it('stores tiers in rank order', () => {
    const [e] = decideProgram(define({ tiers: [...base.tiers].reverse() }), DEFAULT_PROGRAM, now);
    expect(e!.data.tiers.map((t) => t.rank)).toEqual([0, 1, 2, 3]);
  });

  it.each([
    [{ reportingCurrency: 'usd' }, 'reportingCurrency'],
    [{ lookbackDays: 0 }, 'lookbackDays'],
    [{ protectionDays: 1.5 }, 'protectionDays'],
    [{ dealRegistrationDiscountBps: 10_001 }, 'dealRegistrationDiscountBps'],
    [{ tiers: [] }, 'tiers'],
    [{ tiers: [{ ...base.tiers[0]!, discountBps: -1 }] }, 'tiers.0.discountBps'],
  ])('refuses %j as invalid input naming %s', (over, path) => {
    const error = thrown(() => decideProgram(define(over as Partial<DefineProgram>), DEFAULT_PROGRAM, now));
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).errors.map((x) => x.path)).toContain(path);
  });

  it('refuses duplicate names or ranks, and requirements that decrease with rank', () => {
    const [t0, t1] = base.tiers;
    expect(() => decideProgram(define({ tiers: [t0!, { ...t1!, name: t0!.name }] }), DEFAULT_PROGRAM, now)).toThrow(RuleViolation);
    expect(() => decideProgram(define({ tiers: [t0!, { ...t1!, rank: 0 }] }), DEFAULT_PROGRAM, now)).toThrow(RuleViolation);
    expect(() => decideProgram(define({ tiers: [{ ...t0!, minWonDeals: 3 }, t1!] }), DEFAULT_PROGRAM, now)).toThrow(/must not decrease/);
  });
});

describe('tier program v2: effectiveFrom, tracks per partner type, required certifications', () => {
  const spec = deciderSpec(programDecider, now);
  const tracks = define({
    tiers: [
      { name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: false },
      { name: 'Silver', rank: 1, minSourcedRevenueMinor: 10_000_000, minCertifiedSellers: 2, minWonDeals: 0, discountBps: 1500, mdfEligible: true, partnerTypes: ['reseller', 'distributor'] },
      { name: 'Select', rank: 1, minSourcedRevenueMinor: 2_000_000, minCertifiedSellers: 1, minWonDeals: 0, discountBps: 1200, mdfEligible: true, partnerTypes: ['technology', 'referral', 'msp'], requiredCertifications: [{ certification: 'Integration Engineer', minSellers: 1 }] },
    ],
  });

  it('records effectiveFrom: when defined by default, canonical when given', () => {
    spec.given().when(define()).thenMatches([{ type: 'TierProgramDefined', data: { version: 1, effectiveFrom: '2026-04-01T10:00:00.000Z', definedAt: '2026-04-01T10:00:00.000Z' } }]);
    spec.given().when(define({ effectiveFrom: '2026-07-01' })).thenMatches([{ type: 'TierProgramDefined', data: { effectiveFrom: '2026-07-01T00:00:00.000Z' } }]);
    spec.given().when(define({ effectiveFrom: 'next week' })).thenThrows(InvalidInput);
  });

  it('re-sending the program in force is a no-op unless it names another effectiveFrom', () => {
    const [e1] = decideProgram(define({ protectionDays: 60 }), DEFAULT_PROGRAM, now);
    spec.given(e1!).when(define({ protectionDays: 60 })).then([]);
    spec.given(e1!).when(define({ protectionDays: 60, effectiveFrom: e1!.data.effectiveFrom! })).then([]);
    spec.given(e1!).when(define({ protectionDays: 60, effectiveFrom: '2026-09-01' })).thenMatches([{ type: 'TierProgramDefined', data: { version: 2 } }]);
  });

  it('checks ranks and requirements per track, so two ladders may share a rank', () => {
    spec.given().when(tracks).thenMatches([{ type: 'TierProgramDefined', data: { version: 1 } }]);
    const clash = { ...tracks, tiers: tracks.tiers.map((t) => (t.name === 'Select' ? { ...t, partnerTypes: ['reseller' as const] } : t)) };
    spec.given().when(clash).thenThrows(RuleViolation, { message: 'tier ranks must be unique in the reseller track' });
    // No tier left for msp and referral partners: every type needs a ladder.
    const orphan = { ...tracks, tiers: tracks.tiers.map((t) => (t.name === 'Registered' ? { ...t, partnerTypes: ['reseller' as const] } : t.name === 'Select' ? { ...t, partnerTypes: ['technology' as const] } : t)) };
    spec.given().when(orphan).thenThrows(RuleViolation, { message: 'no tier applies to partner type msp: every type needs a ladder' });
  });

  it('refuses unknown partner types and bad certification minimums, naming the field', () => {
    const bad = { ...tracks, tiers: tracks.tiers.map((t) => (t.name === 'Select' ? { ...t, partnerTypes: ['wizard' as never], requiredCertifications: [{ certification: 'X', minSellers: 0 }] } : t)) };
    const e = thrown(() => decideProgram(bad, DEFAULT_PROGRAM, now)) as InvalidInput;
    expect(e).toBeInstanceOf(InvalidInput);
    expect(e.errors.map((x) => x.path).sort()).toEqual(['tiers.2.partnerTypes', 'tiers.2.requiredCertifications.0.minSellers']);
  });

  it('checks required certifications against the catalog once it has entries (422 unknown-certification)', () => {
    const requiring = (certification: string) => define({ tiers: base.tiers.map((t) => (t.rank === 1 ? { ...t, requiredCertifications: [{ certification, minSellers: 1 }] } : t)) });
    // No catalog yet: any name, as for certifying.
    expect(decideProgram(requiring('anything'), DEFAULT_PROGRAM, now)).toHaveLength(1);
    expect(decideProgram({ ...requiring('technical-specialist'), facts: { revenueAttributed: false, catalog: ['technical-specialist'] } }, DEFAULT_PROGRAM, now)).toHaveLength(1);
    const e = thrown(() => decideProgram({ ...requiring('tech-specialist'), facts: { revenueAttributed: false, catalog: ['technical-specialist'] } }, DEFAULT_PROGRAM, now)) as UnknownCertification;
    expect(e).toBeInstanceOf(UnknownCertification);
    expect(e.errors.map((x) => x.path)).toEqual(['tiers.1.requiredCertifications.0.certification']);
    expect(e.extensions).toEqual({ known: ['technical-specialist'] });
  });

  it('refuses a change of reporting currency deferred to a later effectiveFrom', () => {
    const later = new Date(now.getTime() + 86_400_000).toISOString();
    const e = thrown(() => decideProgram(define({ reportingCurrency: 'EUR', effectiveFrom: later }), DEFAULT_PROGRAM, now)) as NamedRuleViolation;
    expect(e).toBeInstanceOf(NamedRuleViolation);
    expect(e.rule).toBe('reporting-currency-change-deferred');
    expect(decideProgram(define({ reportingCurrency: 'EUR', effectiveFrom: now.toISOString() }), DEFAULT_PROGRAM, now)).toHaveLength(1);
    expect(decideProgram(define({ protectionDays: 30, effectiveFrom: later }), DEFAULT_PROGRAM, now)).toHaveLength(1);
  });
});
