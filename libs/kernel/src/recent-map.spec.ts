import { RecentMap } from './recent-map.js';

describe('RecentMap', () => {
  it('keeps the most recently set entries, dropping the oldest beyond capacity', () => {
    const m = new RecentMap<string, number>(2);
    m.set('a', 1).set('b', 2);
    m.set('a', 10); // a is now the most recent
    m.set('c', 3);
    expect([...m.entries()]).toEqual([
      ['a', 10],
      ['c', 3],
    ]);
    expect(m.has('b')).toBe(false);
    expect(m.size).toBe(2);
  });

  it('refuses a capacity that keeps nothing', () => {
    expect(() => new RecentMap(0)).toThrow(RangeError);
  });
});
