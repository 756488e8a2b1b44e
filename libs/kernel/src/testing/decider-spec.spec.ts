import { RuleViolation } from '../errors.js';
import type { Decider } from '../decider.js';
import { deciderSpec } from './decider-spec.js';

type Ev = { type: 'Added'; data: { n: number } };
const counter: Decider<number, number, Ev> = {
  initialState: () => 0,
  evolve: (s, e) => s + e.data.n,
  decide: (n, s) => {
    if (s + n > 10) throw new RuleViolation('over ten', { total: s + n });
    return [{ type: 'Added', data: { n } }];
  },
};

describe('deciderSpec', () => {
  const spec = deciderSpec(counter, new Date('2026-01-01T00:00:00Z'));
  it('folds the given events with the decider and checks the decided events', () => {
    expect(spec.given({ type: 'Added', data: { n: 4 } }).state).toBe(4);
    spec.given({ type: 'Added', data: { n: 4 } }).when(2).then([{ type: 'Added', data: { n: 2 } }]);
  });
  it('checks a refusal by class and members, and fails when nothing is thrown', () => {
    spec.given({ type: 'Added', data: { n: 9 } }).when(2).thenThrows(RuleViolation, { extensions: { total: 11 } });
    expect(() => spec.given().when(2).thenThrows(RuleViolation)).toThrow();
  });
});
