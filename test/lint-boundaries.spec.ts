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

describe('lint: no global modules (eslint.config.js)', () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const code = (decorator: string) => `import { Global, Module } from '@nestjs/common';\n${decorator}\n@Module({})\nexport class X {}\n`;
  async function syntax(filePath: string, text: string): Promise<string[]> {
    const [result] = await eslint.lintText(text, { filePath });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
  }

  it.each(['apps/api/src/x/x.module.ts', 'libs/ledger/src/x.module.ts', 'projections/x/x.module.ts'])('refuses @Global() in %s', async (file) => {
    expect(await syntax(file, code('@Global()'))).toEqual([expect.stringContaining('@Global() hides a dependency')]);
  });

  it('allows a module that declares its imports', async () => {
    expect(await syntax('apps/api/src/x/x.module.ts', code(''))).toEqual([]);
  });
});
