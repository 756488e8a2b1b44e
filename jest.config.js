/** Native ESM Jest (NestJS 12 is ESM-only): run through `node --experimental-vm-modules`. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  moduleNameMapper: {
    // package.json `imports` aliases point at dist/ for Node; Jest runs the TypeScript sources.
    '^#events/(.*)\\.js$': '<rootDir>/events/$1',
    '^#projections/(.*)\\.js$': '<rootDir>/projections/$1',
    '^#libs/([^/]+)/(.*)\\.js$': '<rootDir>/libs/$1/src/$2',
    '^#api/(.*)\\.js$': '<rootDir>/apps/api/src/$1',
    '^#cli/(.*)\\.js$': '<rootDir>/apps/cli/src/$1',
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // A CommonJS package that requires the ESM-only @nestjs/common: see the file for why Jest needs this.
    '^@nestjs/throttler$': '<rootDir>/test/support/nestjs-throttler.jest.mjs',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  // The response-validation contract (test/support/contract.ts): fragments cleared, then merged into reports/contract/.
  globalSetup: '<rootDir>/test/support/contract-setup.mjs',
  globalTeardown: '<rootDir>/test/support/contract-report.mjs',
  testTimeout: 60000,
  maxWorkers: 2,
};
