import { ESLint } from 'eslint';

/** The dependency direction is a lint rule that fails `npm test`: these prove it bites, and where it does not. */
describe('lint: dependency direction (eslint.config.js)', () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  async function problems(filePath: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  }

  it.each([
    ['events/x.ts', "import { fold } from '#libs/kernel/decider.js';\nexport const f = fold;\n"],
    ['events/x.ts', "import { fold } from '../libs/kernel/src/decider.js';\nexport const f = fold;\n"],
    ['libs/deals/src/x.ts', "import { listDeals } from '#projections/deals/deals.queries.js';\nexport const f = listDeals;\n"],
    ['libs/deals/src/x.ts', "import { listDeals } from '../../../projections/deals/deals.queries.js';\nexport const f = listDeals;\n"],
    ['projections/deals/x.ts', "import { bootstrap } from '#api/bootstrap.js';\nexport const f = bootstrap;\n"],
    ['apps/api/src/x.ts', "import { progress } from '#cli/progress.js';\nexport const f = progress;\n"],
    ['apps/api/src/deals/x.ts', "import { fold } from '../../../../libs/kernel/src/decider.js';\nexport const f = fold;\n"],
    ['apps/cli/src/x.ts', "import { createApp } from '#api/bootstrap.js';\nexport const f = createApp;\n"],
  ])('refuses an upward, sideways or deep import in %s: %s', async (file, code) => {
    expect((await problems(file, code)).length).toBeGreaterThan(0);
  });

  it.each([
    ['libs/deals/src/x.ts', "import type { DealEvent } from '#events/deals.js';\nexport type T = DealEvent;\n"],
    ['projections/deals/x.ts', "import { fold } from '#libs/kernel/decider.js';\nexport const f = fold;\n"],
    ['apps/api/src/x.ts', "import { listDeals } from '#projections/deals/deals.queries.js';\nexport const f = listDeals;\n"],
    ['test/x.ts', "import { bootstrap } from '#api/bootstrap.js';\nexport const f = bootstrap;\n"],
  ])('allows a downward import in %s: %s', async (file, code) => {
    expect(await problems(file, code)).toEqual([]);
  });
});
