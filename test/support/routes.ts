import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** One route of the running app, as Nest registered it with Fastify. */
export interface Route {
  readonly method: string;
  /** Fastify style: `/v1/partners/:id/activate`. */
  readonly path: string;
  /** OpenAPI style: `/v1/partners/{id}/activate`. */
  readonly openApiPath: string;
  /** `METHOD path`, the key tests index their tables by. */
  readonly key: string;
  readonly controller: string;
  readonly handler: string;
}

function join(...parts: string[]): string {
  const path = `/${parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/')}`;
  return path;
}

/**
 * Every route of every controller in the running app (its route table), read from the controllers Nest
 * instantiated: a route added tomorrow is in this list without anyone editing a test.
 */
export function routeTable(app: NestFastifyApplication): Route[] {
  const routes: Route[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const metatype = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (typeof metatype !== 'function') continue;
      const base = Reflect.getMetadata(PATH_METADATA, metatype) as string | string[] | undefined;
      const prefixes = Array.isArray(base) ? base : [base ?? ''];
      const proto = metatype.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor' || typeof proto[name] !== 'function') continue;
        const handler = proto[name] as object;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const own = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        for (const prefix of prefixes) {
          for (const p of Array.isArray(own) ? own : [own ?? '']) {
            const path = join(prefix, p);
            const verb = RequestMethod[method];
            routes.push({ method: verb, path, openApiPath: path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'), key: `${verb} ${path}`, controller: metatype.name, handler: name });
          }
        }
      }
    }
  }
  return routes.sort((a, b) => a.key.localeCompare(b.key));
}
