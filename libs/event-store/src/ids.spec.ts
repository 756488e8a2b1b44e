import { commandIdForKey, eventIdFor, newCommandId } from './ids.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('command and event ids', () => {
  it('gives commands without a key time-ordered ids (UUIDv7): each sorts after the one before', () => {
    const ids = Array.from({ length: 2000 }, () => newCommandId());
    for (const id of ids) expect(id).toMatch(UUID);
    expect(ids.every((id) => id[14] === '7')).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('derives event ids from the command: the same for a racing second run, distinct per stream and index', () => {
    const c = newCommandId();
    expect(eventIdFor(c, 's-1', 0)).toBe(eventIdFor(c, 's-1', 0));
    const ids = [eventIdFor(c, 's-1', 0), eventIdFor(c, 's-1', 1), eventIdFor(c, 's-2', 0), eventIdFor(newCommandId(), 's-1', 0)];
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(ids.every((id) => id[14] === '8')).toBe(true);
  });

  it('keeps the command id time prefix in its event ids, so new events sort at the end of the index', () => {
    const first = newCommandId();
    const events = Array.from({ length: 500 }, (_, i) => eventIdFor(i === 0 ? first : newCommandId(), 'customer-acme.com', 0));
    expect(events[0]!.slice(0, 13)).toBe(first.slice(0, 13));
    const prefixes = events.map((e) => e.slice(0, 13));
    expect([...prefixes].sort()).toEqual(prefixes);
  });

  it('derives a keyed command id from actor and key alone, so a retry finds its earlier run', () => {
    expect(commandIdForKey('k1', 'order-7')).toBe(commandIdForKey('k1', 'order-7'));
    expect(commandIdForKey('k1', 'order-7')).not.toBe(commandIdForKey('k2', 'order-7'));
    expect(commandIdForKey('k1', 'order-7')).toMatch(UUID);
    expect(eventIdFor(commandIdForKey('k1', 'order-7'), 's', 0)).toBe(eventIdFor(commandIdForKey('k1', 'order-7'), 's', 0));
  });
});
