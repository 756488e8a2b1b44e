import { RuleViolation } from '../errors.js';
import type { Decider } from '../decider.js';
import { deciderSpec, recorded } from './decider-spec.js';

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
  it('decides commands in turn into a history, per stream when asked to remember', () => {
    expect(spec.decided(3, 4)).toEqual([{ type: 'Added', data: { n: 3 } }, { type: 'Added', data: { n: 4 } }]);
    expect(() => spec.decided(6, 6)).toThrow(RuleViolation);
    const streams = spec.streams();
    streams.decide('a', 6);
    expect(() => streams.decide('a', 6)).toThrow(RuleViolation);
    expect(streams.decide('b', 6)).toEqual([{ type: 'Added', data: { n: 6 } }]);
    expect(streams.history('a')).toEqual([{ type: 'Added', data: { n: 6 } }]);
  });
  it('records an event as the store would, with the record time given', () => {
    const e = recorded<Ev>({ type: 'Added', data: { n: 1 } }, '2026-02-01T00:00:00.000Z', 3n);
    expect(e).toMatchObject({ type: 'Added', data: { n: 1 }, position: 3n, revision: 2n, metadata: { recordedAt: '2026-02-01T00:00:00.000Z', commandId: 'cmd-3' } });
  });
});
