import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The dependency direction of ARCHITECTURE.md, as import restrictions: events → libs → projections → apps, and
 * neither app imports the other (bench and test may import anything). Imports across folders go through the
 * package.json `imports` aliases; none climbs more than two levels.
 */
const climb = { regex: '^(\\.\\./){3,}', message: 'climbs more than two levels: import through a package.json alias (#events/…, #libs/…, #projections/…)' };
const upward = (names, message) => ({ regex: `^#(${names.join('|')})/`, message });
const relativeInto = (dirs, message) => ({ regex: `^(\\.\\./)+(${dirs.join('|')})/`, message });

// The domain and the event contracts are pure: no framework, no database, no clock, no randomness.
const impure = { group: ['@nestjs/*', 'better-sqlite3', '@eventstore/*', 'node:crypto', 'crypto'], message: 'domain code is pure: no framework, database or randomness' };

const layers = {
  events: [upward(['libs', 'projections', 'api', 'cli'], 'events are contracts: they import nothing of the project'), relativeInto(['libs', 'projections', 'apps'], 'events import nothing of the project')],
  libs: [upward(['projections', 'api', 'cli'], 'libs may import events and other libs only'), relativeInto(['projections', 'apps'], 'libs may import events and other libs only')],
  projections: [upward(['api', 'cli'], 'projections may not import the apps'), relativeInto(['apps'], 'projections may not import the apps')],
  api: [upward(['cli'], 'apps/api may not import apps/cli'), relativeInto(['cli'], 'apps/api may not import apps/cli')],
  cli: [upward(['api'], 'apps/cli may not import apps/api: share code through libs/'), relativeInto(['api'], 'apps/cli may not import apps/api')],
};
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns: [climb, ...patterns] }] });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', AbortController: 'readonly', setImmediate: 'readonly', TextEncoder: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': 'off',
      ...restrict(),
    },
  },
  { files: ['events/**/*.ts'], rules: restrict(...layers.events, impure) },
  { files: ['libs/**/*.ts'], rules: restrict(...layers.libs) },
  { files: ['libs/*/src/**/*.ts'], ignores: ['libs/event-store/**', 'libs/ledger/**', '**/*.spec.ts', '**/*.int-spec.ts'], rules: restrict(...layers.libs, impure) },
  { files: ['projections/**/*.ts'], rules: restrict(...layers.projections) },
  { files: ['apps/api/**/*.ts'], rules: restrict(...layers.api) },
  { files: ['apps/cli/**/*.ts'], rules: restrict(...layers.cli) },
  // Issue #15: what a module uses is in its imports; no global providers (the DTO block below sets its own syntax rule).
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'projections/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "Decorator > CallExpression[callee.name='Global']",
        message: '@Global() hides a dependency: export the provider from a module and import that module where it is used',
      }],
    },
  },
  // class-validator's @IsOptional() also skips null: in a JSON body, `{ "x": null }` would reach a decider as a value.
  // Body members use OptionalMember() (apps/api/src/http/validation.ts); only query DTOs (strings or absent) may not.
  {
    files: ['apps/api/src/**/*.dto.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "ClassDeclaration[id.name!=/Query/] Decorator > CallExpression[callee.name='IsOptional']",
        message: '@IsOptional() lets null through a JSON body: use OptionalMember() (only *Query* DTOs may use @IsOptional)',
      }],
    },
  },
  // Dredd loads hook files with require(): CommonJS on purpose.
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    files: ['libs/*/src/**/*.ts', 'events/**/*.ts'],
    ignores: ['libs/event-store/**', 'libs/ledger/**', '**/*.spec.ts', '**/*.int-spec.ts'],
    rules: { 'no-restricted-properties': ['error', { object: 'Date', property: 'now' }, { object: 'Math', property: 'random' }] },
  },
);
