import { InvalidInput, RuleViolation } from '#libs/kernel/errors.js';
import { decideProgram, programInForce, type DefineProgram } from './program-decider.js';
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
