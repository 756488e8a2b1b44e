import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_EVENT_TYPES } from './catalog.js';

describe('event catalog', () => {
  it('names every type of every exported *_TYPES list in events/', async () => {
    const dir = join(process.cwd(), 'events');
    const listed: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.includes('.spec.') && f !== 'catalog.ts')) {
      const mod = (await import(`./${file.replace(/\.ts$/, '.js')}`)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) if (/_TYPES$/.test(name) && Array.isArray(value) && value.every((v) => typeof v === 'string' && /^[A-Z][A-Za-z0-9]+$/.test(v))) listed.push(...(value as string[]));
    }
    expect(listed.length).toBeGreaterThan(20);
    expect([...ALL_EVENT_TYPES].sort()).toEqual([...new Set(listed)].sort());
  });
});
