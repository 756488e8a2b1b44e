// Jest only (jest.config.js maps `@nestjs/throttler` here): the package is CommonJS and `require`s
// `@nestjs/common` and `@nestjs/core`, which are ESM-only since NestJS 12. Node >= 20.19 loads that
// (`require(esm)`), Jest's module registry does not before Node 24.9. This evaluates the package's own
// dist files unchanged, handing them the ESM instances of @nestjs/common and @nestjs/core that the code under
// test uses, so the guard, module and storage are the real ones. The service itself never loads this file.
import * as common from '@nestjs/common';
import * as core from '@nestjs/core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const nodeRequire = createRequire(import.meta.url);
// Resolved through package.json: the bare name is the one Jest maps to this very file.
const dist = join(dirname(nodeRequire.resolve('@nestjs/throttler/package.json')), 'dist');
const shared = { '@nestjs/common': common, '@nestjs/core': core };
const cache = new Map();

function load(file) {
  const cached = cache.get(file);
  if (cached) return cached.exports;
  const module = { exports: {} };
  cache.set(file, module);
  const requireFrom = (name) => {
    if (name in shared) return shared[name];
    if (name.startsWith('./')) return load(join(dist, `${name.slice(2)}.js`));
    return nodeRequire(name);
  };
  new Function('exports', 'require', 'module', '__filename', '__dirname', readFileSync(file, 'utf8'))(module.exports, requireFrom, module, file, dist);
  return module.exports;
}

const throttler = load(join(dist, 'index.js'));

export const {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  SkipThrottle,
  Throttle,
  ThrottlerException,
  ThrottlerGuard,
  ThrottlerModule,
  ThrottlerStorageService,
  getOptionsToken,
  getStorageToken,
} = throttler;
export default throttler;
