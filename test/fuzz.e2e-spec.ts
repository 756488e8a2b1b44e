import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { isCurrency } from '#libs/money/currency.js';
import { KEYS, removeDir, startApp, type TestApp } from './support/app.js';
import { routeTable, type Route } from './support/routes.js';

/**
 * Hostile input against every command route (every POST/PUT of the app's route table, with the body schema
 * the OpenAPI document gives it): each generated request is one that must be refused — one field made
 * invalid in an otherwise valid body, a required field missing, an unknown or prototype-polluting member,
 * invalid JSON, a body that is not an object, a wrong content type, an oversize or too deeply nested body, an
 * invalid id in the path, an invalid Idempotency-Key. Every answer must be a 4xx problem+json with the
 * documented shape and a known slug; the log must not move.
 *
 * Replay a failure: FUZZ_SEED=<printed seed> npm run test:jest -- test/fuzz.e2e-spec.ts (FUZZ_RUNS: how many;
 * FUZZ_SEED=random for a fresh seed).
 */
const SEED = seed(process.env.FUZZ_SEED);

/**
 * The default seed comes from the commit under test (its first 31 bits), so every commit explores new inputs
 * while a run is reproducible: CI and `ci-local` on the same commit run the same cases. `FUZZ_SEED=random` draws
 * one; a number replays one. Outside a git checkout the default is a fixed seed.
 */
function seed(given: string | undefined): number {
  if (given === 'random') return Math.floor(Math.random() * 2 ** 31);
  if (given !== undefined && given !== '') return Number(given);
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
    return Number.parseInt(head.slice(0, 8), 16) % 2 ** 31;
  } catch {
    return 248_704_836;
  }
}
const RUNS = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 4000;

/** API.md, "Conventions": the slugs a refusal may carry (and the status each goes with). */
const SLUG_STATUS: Readonly<Record<string, number>> = {
  'validation-failed': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'already-exists': 409,
  'concurrency-conflict': 409,
  'registration-conflict': 409,
  'rule-violation': 422,
  'idempotency-key-reused': 422,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'not-caught-up': 503,
};

const BODY_LIMIT = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------
// The body schemas, from the OpenAPI document the running app serves.

interface Schema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly $ref?: string;
  readonly allOf?: readonly Schema[];
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  /** Set on an object whose members are free (a statement's `content` presented for verification): no member is unknown there. */
  readonly additionalProperties?: boolean | Schema;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly example?: unknown;
}

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly schema?: Schema;
}

interface OpenApi {
  readonly paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> }; parameters?: readonly Parameter[] }>>;
  readonly components: { readonly schemas: Record<string, Schema> };
}

type Kind = 'money' | 'currency' | 'time' | 'id' | 'pattern' | 'enum' | 'integer' | 'boolean' | 'text' | 'string-array' | 'object-array' | 'object';
type Path = readonly (string | number)[];

interface Field {
  readonly path: Path;
  readonly name: string;
  readonly schema: Schema;
  readonly kind: Kind;
  /** Required in its parent object (the base body has every optional member too). */
  readonly required: boolean;
}

interface CommandRoute {
  readonly route: Route;
  readonly schema: Schema;
  readonly fields: readonly Field[];
  readonly base: Record<string, unknown>;
}

function refName(s: Schema): string | undefined {
  const ref = s.$ref ?? s.allOf?.find((x) => x.$ref !== undefined)?.$ref;
  return ref?.split('/').pop();
}

function kindOf(name: string, s: Schema, resolved: Schema): Kind {
  if (refName(s) === 'MoneyDto') return 'money';
  if (resolved.type === 'object' || resolved.properties !== undefined) return 'object';
  if (resolved.type === 'array') return resolved.items && (resolved.items.$ref !== undefined || resolved.items.type === 'object') ? 'object-array' : 'string-array';
  if (resolved.enum) return 'enum';
  if (resolved.type === 'integer' || resolved.type === 'number') return 'integer';
  if (resolved.type === 'boolean') return 'boolean';
  if (/currency$/i.test(name)) return 'currency';
  // Business and record times (API.md, "Conventions"): `...At`, `...Date`, `asOf`.
  if (/(At|Date)$/.test(name) || name === 'asOf') return 'time';
  if (resolved.pattern === ID_PATTERN.source) return 'id';
  if (resolved.pattern !== undefined) return 'pattern';
  return 'text';
}

function collect(doc: OpenApi, schema: Schema, at: Path, out: Field[], resolve: (s: Schema) => Schema): void {
  const s = resolve(schema);
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const resolved = resolve(prop);
    const path = [...at, name];
    const kind = kindOf(name, prop, resolved);
    out.push({ path, name, schema: resolved, kind, required: (s.required ?? []).includes(name) });
    if (kind === 'object') collect(doc, resolved, path, out, resolve);
    if (kind === 'object-array') collect(doc, resolved.items!, [...path, 0], out, resolve);
  }
}

/** A valid value for a schema: its example, else the simplest value of its kind. */
function valid(name: string, s: Schema, resolve: (s: Schema) => Schema): unknown {
  const r = resolve(s);
  const kind = kindOf(name, s, r);
  if (kind === 'money') return { amountMinor: 1250000, currency: 'USD' };
  if (kind === 'object') return Object.fromEntries(Object.entries(r.properties ?? {}).map(([k, v]) => [k, valid(k, v, resolve)]));
  if (kind === 'object-array') return [valid(name, r.items!, resolve)];
  if (r.example !== undefined) return r.example;
  switch (kind) {
    case 'enum':
      return r.enum![0];
    case 'time':
      return '2026-03-31';
    case 'id':
      return 'X-1';
    case 'currency':
      return 'USD';
    case 'integer':
      return r.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string-array':
      return ['A-1'];
    default:
      return 'text';
  }
}

function commandRoutes(routes: readonly Route[], doc: OpenApi): CommandRoute[] {
  const resolve = (s: Schema): Schema => {
    let r = s;
    for (let i = 0; i < 10; i++) {
      const name = refName(r);
      if (name === undefined) return r;
      r = doc.components.schemas[name]!;
    }
    return r;
  };
  return routes
    .filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method))
    .map((route) => {
      const op = doc.paths[route.openApiPath]?.[route.method.toLowerCase()];
      const schema = op?.requestBody?.content?.['application/json']?.schema;
      if (schema === undefined) throw new Error(`${route.key} has no JSON request body in the OpenAPI document`);
      const fields: Field[] = [];
      collect(doc, schema, [], fields, resolve);
      return { route, schema: resolve(schema), fields, base: valid('(body)', schema, resolve) as Record<string, unknown> };
    });
}

// ---------------------------------------------------------------------------------------------------------
// The requests.

interface Fuzzed {
  readonly kind: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array | undefined;
  /** Acceptable statuses (all refusals). */
  readonly expect: readonly number[];
  /** For a single-field mutation: the top-level member every field error must be about. */
  readonly field?: string;
  readonly note: string;
}

const clone = <T>(v: T): T => structuredClone(v);

function setAt(target: Record<string, unknown>, path: Path, value: unknown, remove = false): Record<string, unknown> {
  const root = clone(target);
  let node: Record<string | number, unknown> = root;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete node[last];
  // Own enumerable even for `__proto__`, so that JSON.stringify writes it as a member.
  else Object.defineProperty(node, last, { value, enumerable: true, configurable: true, writable: true });
  return root;
}

const WRONG_TYPES = fc.constantFrom<unknown>(null, true, false, 0, 1, -1, 1.5, 'text', '', [], ['x'], {}, { a: 1 }, [[]], [{}]);
const IMPOSSIBLE_TIMES = [
  '2026-02-30',
  '2025-02-29',
  '2026-04-31',
  '2026-13-01',
  '2026-00-10',
  '2026-01-00',
  '2026-01-32',
  '1969-12-31',
  '0000-01-01',
  '10000-01-01',
  '+002026-03-31',
  '2026-3-31',
  '31/03/2026',
  '03/31/2026',
  '2026-03-31T24:00:00Z',
  '2026-03-31T23:60:00Z',
  '2026-03-31T23:59:61Z',
  '2026-03-31T12:00:00',
  '2026-03-31T12:00:00+02:00',
  '2026-03-31 12:00:00Z',
  '2026-03-31T12:00:00.1234567890Z',
  '2026-03-31Z',
  'now',
  'yesterday',
  'NaN',
  '',
  ' 2026-03-31',
  '2026-03-31\n',
];

function badValue(field: Field): fc.Arbitrary<{ value: unknown; note: string }> {
  const s = field.schema;
  const notes = (arb: fc.Arbitrary<unknown>, note: string) => arb.map((value) => ({ value, note }));
  const options: fc.Arbitrary<{ value: unknown; note: string }>[] = [notes(WRONG_TYPES.filter((v) => !acceptsJsonType(field, v)), 'wrong type')];
  const hugeText = fc.integer({ min: Math.max(s.maxLength ?? 2000, 2000) + 1, max: 200_000 }).map((n) => 'x'.repeat(n));
  switch (field.kind) {
    case 'text':
      options.push(notes(fc.constantFrom('', ' ', '   ', '\t', '\n \n'), 'blank text'));
      options.push(notes(fc.integer({ min: (s.maxLength ?? 2000) + 1, max: 200_000 }).map((n) => 'y'.repeat(n)), 'too long'));
      break;
    case 'id':
      options.push(notes(fc.string({ maxLength: 40, unit: 'binary' }).filter((v) => !ID_PATTERN.test(v)), 'bad id'));
      options.push(notes(fc.constantFrom('', ' ', '-x', '.x', '_x', 'x y', 'x/y', 'x\\y', 'x?y', 'é', '../x', 'x\u0000', 'a'.repeat(129), '<script>'), 'bad id'));
      options.push(notes(hugeText, 'huge id'));
      break;
    case 'pattern': {
      const pattern = new RegExp(s.pattern!);
      options.push(notes(fc.string({ maxLength: 40 }).filter((v) => !pattern.test(v)), 'not matching its pattern'));
      options.push(notes(fc.constantFrom('2026-Q5', '2026-Q0', '26-Q1', '2026Q1', '2026-q1', ''), 'not matching its pattern'));
      options.push(notes(hugeText, 'huge string'));
      break;
    }
    case 'enum':
      options.push(notes(fc.string({ maxLength: 20 }).filter((v) => !s.enum!.includes(v)), 'not one of the enum'));
      options.push(notes(fc.constantFrom(...s.enum!.map((v) => String(v).toUpperCase()), ...s.enum!.map((v) => ` ${String(v)}`)), 'enum in another spelling'));
      break;
    case 'currency':
      options.push(notes(fc.constantFrom('usd', 'US', 'USDX', 'ZZZ', 'QQQ', 'XXX', 'XAU', ' USD', 'US D', '€', '', '840'), 'bad currency'));
      break;
    case 'time':
      options.push(notes(fc.constantFrom(...IMPOSSIBLE_TIMES), 'impossible or malformed time'));
      options.push(notes(fc.integer({ min: 0, max: 2 ** 40 }), 'time as a number'));
      break;
    case 'integer': {
      const bad: unknown[] = [1.5, 0.1, 2 ** 53, -(2 ** 53), 1e21, 1e308, -1e308, '1', '10', '1e3', '0x10'];
      if (s.minimum !== undefined) bad.push(s.minimum - 1, s.minimum - 0.5, -1);
      if (s.maximum !== undefined) bad.push(s.maximum + 1, s.maximum + 0.5);
      options.push(notes(fc.constantFrom(...bad), 'bad integer'));
      options.push(notes(fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }), 'float'));
      break;
    }
    case 'boolean':
      options.push(notes(fc.constantFrom('true', 'false', 1, 0, 'yes'), 'not a boolean'));
      break;
    case 'money':
      options.push(
        notes(
          fc.oneof(
            fc.constantFrom<unknown>(1.5, -1, 2 ** 53, -(2 ** 53), 1e21, '100', '1e3', null, true, [], {}).map((amountMinor) => ({ amountMinor, currency: 'USD' })),
            fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }).map((amountMinor) => ({ amountMinor, currency: 'EUR' })),
            fc.integer({ max: -1 }).map((amountMinor) => ({ amountMinor, currency: 'USD' })),
            fc.constantFrom<unknown>('usd', 'US', 'USDX', 'ZZZ', 'XXX', 'XAU', '', 840, null).map((currency) => ({ amountMinor: 100, currency })),
            fc.stringMatching(/^[A-Z]{3}$/).filter((c) => !isCurrency(c)).map((currency) => ({ amountMinor: 100, currency })),
            fc.constantFrom<unknown>({ amountMinor: 100 }, { currency: 'USD' }, { amountMinor: 100, currency: 'USD', extra: 1 }, { amount: 100, currency: 'USD' }, '100 USD', 100, [100, 'USD']),
          ),
          'bad money',
        ),
      );
      break;
    case 'string-array': {
      const element = field.name === 'products' ? 'P-1' : 'https://example.com/proof';
      options.push(notes(fc.constantFrom<unknown>('x', {}, 1), 'not an array'));
      if ((s.minItems ?? 0) > 0) options.push(notes(fc.constant([]), 'empty array'));
      const max = s.maxItems ?? 1000;
      options.push(notes(fc.integer({ min: max + 1, max: max + 20_000 }).map((n) => Array.from({ length: n }, (_, i) => `${element}${i}`)), 'huge array'));
      options.push(notes(fc.constantFrom<unknown>([1], [null], [{}], [[]], [''], ['x'.repeat(3000)], [true]), 'bad element'));
      if (s.uniqueItems) options.push(notes(fc.constant([element, element]), 'duplicate elements'));
      break;
    }
    case 'object-array': {
      options.push(notes(fc.constantFrom<unknown>('x', {}, 1, [null], [1], ['x'], [[]]), 'not an array of objects'));
      if ((s.minItems ?? 0) > 0) options.push(notes(fc.constant([]), 'empty array'));
      options.push(notes(fc.integer({ min: (s.maxItems ?? 1000) + 1, max: (s.maxItems ?? 1000) + 3000 }).map((n) => Array.from({ length: n }, () => ({ x: 1 }))), 'huge array'));
      break;
    }
    case 'object':
      options.push(notes(fc.constantFrom<unknown>('x', 1, [], [{}], true), 'not an object'));
      break;
  }
  return fc.oneof(...options);
}

/**
 * A wrong type must really be wrong: `[]` for an array without `minItems` is not (`requiredCertifications: []`,
 * found by the seed 1853289730), nor a number for an integer.
 */
function acceptsJsonType(field: Field, v: unknown): boolean {
  if (v === null) return false;
  const array = Array.isArray(v);
  if (array && (v as unknown[]).length === 0 && (field.kind === 'string-array' || field.kind === 'object-array')) return (field.schema.minItems ?? 0) === 0;
  switch (field.kind) {
    case 'string-array':
      return array && (v as unknown[]).length > 0 && (v as unknown[]).every((e) => typeof e === 'string' && e !== '');
    case 'object-array':
      return array && (v as unknown[]).length > 0 && (v as unknown[]).every((e) => typeof e === 'object' && e !== null && !Array.isArray(e));
    case 'object':
      return typeof v === 'object' && !array;
    case 'money':
      return false;
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) && v >= (field.schema.minimum ?? -Infinity) && v <= (field.schema.maximum ?? Infinity);
    case 'boolean':
      return typeof v === 'boolean';
    default:
      // Strings: only a string could be valid, and '' never is.
      return typeof v === 'string' && v !== '';
  }
}

const OTHER_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'text/json',
  'text/html',
  'application/xml',
  'text/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/octet-stream',
  'application/jsonx',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/problem+json',
  'application/ld+json',
  'application/javascript',
  'image/png',
  'json',
  'application',
  '*/*',
];

const INVALID_JSON = [
  '{',
  '}',
  '{"a":1,}',
  "{'a':1}",
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":undefined}',
  '{a:1}',
  '{"a":1}{"b":2}',
  '{"a":1} x',
  '{"a":"\\x41"}',
  '{"a":01}',
  '{"a":1e}',
  '/* c */ {}',
  '{"a":1 // c\n}',
  '\u0000',
  'nul',
];

function fuzzedRequest(cmd: CommandRoute): fc.Arbitrary<Fuzzed> {
  const { route, base, fields } = cmd;
  const json = (body: unknown) => JSON.stringify(body);
  const request = (kind: string, o: Partial<Fuzzed> & { note: string }): Fuzzed => ({
    kind,
    method: route.method,
    path: o.path ?? validPath(route),
    headers: o.headers ?? { 'content-type': 'application/json' },
    body: o.body ?? json(base),
    expect: o.expect ?? [400],
    ...(o.field !== undefined ? { field: o.field } : {}),
    note: o.note,
  });
  const arbs: { weight: number; arbitrary: fc.Arbitrary<Fuzzed> }[] = [];

  if (fields.length > 0) {
    // One field made invalid, the rest of the body valid.
    arbs.push({
      weight: 40,
      // Built once per field (not in a `chain`): constructing arbitraries is what costs, not drawing from them.
      arbitrary: fc.oneof(
        ...fields.map((f) => badValue(f).map((bad) => request('field', { body: json(setAt(base, f.path, bad.value)), field: String(f.path[0]), note: `${f.path.join('.')}: ${bad.note}` }))),
      ),
    });
  }
  const required = fields.filter((f) => f.required);
  if (required.length > 0) {
    arbs.push({
      weight: 8,
      arbitrary: fc.constantFrom(...required).map((f) => request('missing', { body: json(setAt(base, f.path, undefined, true)), field: String(f.path[0]), note: `${f.path.join('.')} missing` })),
    });
  }
  // Unknown members, at the top or inside a nested object, including names that reach prototypes.
  const objectPaths: Path[] = [
    [],
    ...fields.filter((f) => (f.kind === 'object' && !f.schema.additionalProperties) || f.kind === 'money').map((f) => f.path),
    ...fields.filter((f) => f.kind === 'object-array').map((f) => [...f.path, 0]),
  ];
  arbs.push({
    weight: 10,
    arbitrary: fc
      .record({
        at: fc.constantFrom(...objectPaths),
        key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'isAdmin', 'role', 'position', 'status'), fc.string({ minLength: 1, maxLength: 12 })),
        value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ polluted: true }), fc.constant({ prototype: { polluted: true } })),
      })
      .filter(({ at, key }) => !knownMember(cmd, at, key))
      .map(({ at, key, value }) => request('extra member', { body: json(setAt(base, [...at, key], value)), note: `unknown member ${[...at, key].join('.')}` })),
  });
  arbs.push({
    weight: 4,
    arbitrary: fc.oneof(
      fc.constantFrom(...INVALID_JSON),
      fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== '' && !parses(s)),
      fc.constant(json(base).slice(0, -1)),
    ).map((body) => request('invalid JSON', { body, note: 'invalid JSON' })),
  });
  arbs.push({
    weight: 3,
    arbitrary: fc.constantFrom('[]', '[{}]', '"x"', '1', 'true', 'null', json([base])).map((body) => request('not an object', { body, note: `body ${body.slice(0, 20)}` })),
  });
  arbs.push({
    weight: 6,
    arbitrary: fc
      .oneof(fc.constantFrom(...OTHER_TYPES), fc.stringMatching(/^[a-z]{1,8}\/[a-z0-9.+-]{1,12}$/).filter((t) => t !== 'application/json'))
      .map((type) => request('content type', { headers: { 'content-type': type }, expect: [415], note: `Content-Type ${type}` })),
  });
  arbs.push({
    weight: 2,
    arbitrary: fc.constant(request('content type', { headers: {}, body: new TextEncoder().encode(json(base)), expect: [415], note: 'a body without Content-Type' })),
  });
  arbs.push({
    weight: 1,
    arbitrary: fc
      .integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT + 300_000 })
      .map((n) => request('oversize', { body: json({ ...base, pad: 'z'.repeat(n) }), expect: [413], note: `a body over 1 MiB (${n} bytes of padding)` })),
  });
  arbs.push({
    weight: 3,
    arbitrary: fc
      .record({ depth: fc.integer({ min: 33, max: 5000 }), arrays: fc.boolean(), at: fc.constantFrom<Path>([], ...fields.filter((f) => f.path.length === 1).map((f) => f.path)) })
      .map(({ depth, arrays, at }) => {
        const deep = arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        const holder = at.length === 0 ? { ...base, nested: '__DEEP__' } : setAt(base, at, '__DEEP__');
        return request('deep nesting', { body: json(holder).replace('"__DEEP__"', deep), note: `nested ${depth} deep at ${at.join('.') || 'nested'}` });
      }),
  });
  if (route.path.includes(':')) {
    arbs.push({
      weight: 8,
      arbitrary: fc
        .oneof(
          fc.string({ minLength: 1, maxLength: 60, unit: 'binary' }).filter((v) => !ID_PATTERN.test(v)).map(encodeURIComponent),
          fc.constantFrom('-x', '.x', '_x', 'x%20y', 'x%2Fy', '%00', '%', '%zz', '%E0%A4%A', '%C0%AF', 'x%0Ay', '%E2%80%AE'),
          fc.integer({ min: 129, max: 2000 }).map((n) => 'a'.repeat(n)),
        )
        .map((id) => request('path id', { path: route.path.replace(/:[A-Za-z0-9_]+/g, id), expect: [400, 404], note: `path id ${id.slice(0, 40)}` })),
    });
  }
  if (!route.path.startsWith('/v1/audit/')) {
    // Commands take an Idempotency-Key (the read-only audit verify does not).
    arbs.push({
      weight: 3,
      arbitrary: fc
        .oneof(fc.constantFrom('', ' ', 'a b', 'clé', 'x'.repeat(256), 'tab\there', 'k1, k2'), fc.string({ minLength: 256, maxLength: 400 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x')))
        .map((key) => request('idempotency key', { headers: { 'content-type': 'application/json', 'idempotency-key': key }, note: `Idempotency-Key ${JSON.stringify(key.slice(0, 20))}` })),
    });
  }
  return fc.oneof(...arbs);
}

/** As the service reads a body: a leading byte order mark is dropped. */
function parses(s: string): boolean {
  try {
    JSON.parse(s.replace(/^\uFEFF/, ''));
    return true;
  } catch {
    return false;
  }
}

function knownMember(cmd: CommandRoute, at: Path, key: string): boolean {
  const prefix = at.join('.');
  if (at.length > 0 && cmd.fields.find((f) => f.path.join('.') === prefix)?.kind === 'money') return key === 'amountMinor' || key === 'currency';
  return cmd.fields.some((f) => f.path.length === at.length + 1 && f.path.slice(0, -1).join('.') === prefix && f.path[f.path.length - 1] === key);
}

/** Path parameters set to valid ids (no resource has them: the fuzzer never creates any). */
function validPath(route: Route): string {
  return route.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => (name === 'streamId' ? 'partner-FUZZ-1' : 'FUZZ-1'));
}

// ---------------------------------------------------------------------------------------------------------
// Queries: hostile query strings (and path ids) on every GET route of the API.

interface QueryRoute {
  readonly route: Route;
  readonly params: readonly Parameter[];
  /** The required parameters, with valid values. */
  readonly base: Readonly<Record<string, string>>;
}

function queryRoutes(routes: readonly Route[], doc: OpenApi): QueryRoute[] {
  return routes
    .filter((r) => r.method === 'GET' && r.path.startsWith('/v1/'))
    .map((route) => {
      const params = (doc.paths[route.openApiPath]?.get?.parameters ?? []).filter((p) => p.in === 'query');
      const base = Object.fromEntries(params.filter((p) => p.required).map((p) => [p.name, String(p.schema?.example ?? p.schema?.enum?.[0] ?? 'x')]));
      return { route, params, base };
    });
}

/** Values each query parameter must refuse, by what the parameter is. */
function badQueryValue(p: Parameter): fc.Arbitrary<string> {
  const huge = fc.integer({ min: 5001, max: 8000 }).map((n) => 'q'.repeat(n));
  const name = p.name;
  if (/^(minPosition|fromPosition|position)$/.test(name)) return fc.constantFrom('-1', '1.5', 'x', '', '1e3', '0x10', '123456789012345678901', '+1', '1 ');
  if (name === 'limit') return fc.constantFrom('0', '1001', '-1', '1.5', 'x', '', 'Infinity', '100000000000000000000');
  if (name === 'listPriceMinor') return fc.constantFrom('-1', '1.5', 'x', '', '99999999999999999', '1e3');
  if (name === 'currency') return fc.constantFrom('usd', 'ZZZ', 'XXX', 'US', '', 'EURO');
  if (name === 'period') return fc.constantFrom('2026-Q5', '2026-Q0', '2026Q1', '', '26-Q1');
  if (/^(from|to|asOf|standingAsOf)$/.test(name)) return fc.constantFrom(...IMPOSSIBLE_TIMES.filter((v) => v.trim() === v || v === ''));
  if (/Id$/.test(name) && name !== 'streamId') return fc.oneof(fc.string({ minLength: 1, maxLength: 30 }).filter((v) => !ID_PATTERN.test(v)), fc.constant('a'.repeat(129)));
  if (p.schema?.enum) return fc.oneof(fc.string({ maxLength: 12 }).filter((v) => !p.schema!.enum!.includes(v)), fc.constantFrom(...p.schema.enum.map((v) => String(v).toUpperCase())));
  return huge;
}

function fuzzedQuery(q: QueryRoute): fc.Arbitrary<Fuzzed> {
  const { route, params, base } = q;
  const request = (kind: string, query: [string, string][], note: string, path = validPath(route)): Fuzzed => ({
    kind,
    method: 'GET',
    path: `${path}?${new URLSearchParams(query).toString()}`,
    headers: {},
    body: undefined,
    expect: kind === 'path id' ? [400, 404] : [400],
    note,
  });
  const known = new Set(params.map((p) => p.name));
  const arbs: { weight: number; arbitrary: fc.Arbitrary<Fuzzed> }[] = [
    {
      weight: 3,
      arbitrary: fc
        .oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'role', 'isAdmin'), fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/))
        .filter((name) => !known.has(name) && !(name in base))
        .map((name) => request('unknown parameter', [...Object.entries(base), [name, '1']], `unknown parameter ${name}`)),
    },
  ];
  if (params.length > 0) {
    arbs.push({
      weight: 6,
      arbitrary: fc.oneof(...params.map((p) => badQueryValue(p).map((v) => request('bad parameter', [...Object.entries({ ...base, [p.name]: v })], `${p.name}=${v.slice(0, 30)}`)))),
    });
    arbs.push({
      weight: 1,
      arbitrary: fc.constantFrom(...params).map((p) => request('repeated parameter', [...Object.entries(base), [p.name, base[p.name] ?? '1'], [p.name, base[p.name] ?? '2']], `${p.name} twice`)),
    });
  }
  if (route.path.includes(':')) {
    arbs.push({
      weight: 2,
      arbitrary: fc
        .oneof(fc.string({ minLength: 1, maxLength: 60, unit: 'binary' }).filter((v) => !/^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,299}$/.test(v)).map(encodeURIComponent), fc.constantFrom('%zz', '%E0%A4%A', '-x', 'x%20y'))
        .map((id) => request('path id', Object.entries(base), `path id ${id.slice(0, 30)}`, route.path.replace(/:[A-Za-z0-9_]+/g, id))),
    });
  }
  return fc.oneof(...arbs);
}

// ---------------------------------------------------------------------------------------------------------

describe(`fuzzing every command route with hostile input (FUZZ_SEED=${SEED})`, () => {
  let t: TestApp;
  let commands: CommandRoute[];

  beforeAll(async () => {
    // One client sending thousands of requests as fast as it can is what the rate limit is for: sized above
    // this run (and its shrinking), so that every request reaches validation.
    t = await startApp({ env: { LEDGER_RATE_LIMIT: String(Math.max(6000, RUNS * 3)) } });
    const doc = (await t.request<OpenApi>('GET', '/docs-json', { key: null })).body;
    commands = commandRoutes(routeTable(t.app), doc);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('finds every command route of the route table in the OpenAPI document, with its body schema', () => {
    expect(commands.length).toBeGreaterThanOrEqual(26);
    for (const c of commands) expect({ route: c.route.key, schema: c.schema.type }).toEqual({ route: c.route.key, schema: 'object' });
  });

  const byStatus = new Map<number, number>();
  const byKind = new Map<string, number>();

  /** One hostile request: refused as expected, a documented problem, and the log has not moved. */
  async function check(r: Fuzzed, head: bigint): Promise<void> {
    const res = await fetch(`${t.url}${r.path}`, { method: r.method, headers: { authorization: `Bearer ${KEYS.admin}`, ...r.headers }, body: r.body });
    const text = await res.text();
    byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
    byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
    const what = `${r.method} ${r.path.slice(0, 160)} [${r.note}] → ${res.status} ${text.slice(0, 300)}`;
    expect({ what, status: res.status < 500 }).toEqual({ what, status: true });
    expect({ what, refused: r.expect.includes(res.status) }).toEqual({ what, refused: true });
    expect({ what, type: res.headers.get('content-type') }).toEqual({ what, type: expect.stringMatching(/^application\/problem\+json/) });
    const problem = JSON.parse(text) as { type: unknown; title: unknown; status: unknown; detail: unknown; errors?: unknown };
    expect({ what, shape: shapeProblems(problem, res.status) }).toEqual({ what, shape: [] });
    if (r.field !== undefined && problem.type === 'validation-failed' && Array.isArray(problem.errors)) {
      // The rest of the body was valid: every complaint is about the field that was made invalid.
      const others = (problem.errors as { path: string }[]).filter((e) => e.path !== r.field && !e.path.startsWith(`${r.field}.`));
      expect({ what, others }).toEqual({ what, others: [] });
    }
    const now = await t.store.headPosition();
    expect({ what, appended: now !== head }).toEqual({ what, appended: false });
  }

  it('refuses every hostile request with a problem+json 4xx, never a 5xx, and appends nothing', async () => {
    const head = await t.store.headPosition();
    let sent = 0;
    process.stdout.write(`fuzz: seed ${SEED}, ${RUNS} runs over ${commands.length} command routes (replay with FUZZ_SEED=${SEED})\n`);

    const property = fc.asyncProperty(fc.oneof(...commands.map((c) => fuzzedRequest(c))), async (r) => {
      await check(r, head);
      sent += 1;
    });
    await fc.assert(property, { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 600_000 });

    expect(await t.store.headPosition()).toBe(head);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    process.stdout.write(`fuzz: ${sent} command requests fuzzed (seed ${SEED}); ${tally()}\n`);
  }, 600_000);

  it('refuses hostile query strings and path ids on every query route the same way', async () => {
    byStatus.clear();
    byKind.clear();
    const queries = queryRoutes(routeTable(t.app), (await t.request<OpenApi>('GET', '/docs-json', { key: null })).body);
    expect(queries.length).toBeGreaterThanOrEqual(18);
    const head = await t.store.headPosition();
    let sent = 0;
    const runs = Math.ceil(RUNS / 4);
    await fc.assert(
      fc.asyncProperty(fc.oneof(...queries.map((q) => fuzzedQuery(q))), async (r) => {
        await check(r, head);
        sent += 1;
      }),
      { seed: SEED, numRuns: runs, interruptAfterTimeLimit: 600_000 },
    );
    process.stdout.write(`fuzz: ${sent} query requests fuzzed over ${queries.length} query routes (seed ${SEED}); ${tally()}\n`);
  }, 600_000);

  function tally(): string {
    const statuses = [...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`).join(', ');
    const kinds = [...byKind].sort(([, a], [, b]) => b - a).map(([k, n]) => `${k} ${n}`).join(', ');
    return `by status ${statuses}; by kind ${kinds}`;
  }
});

/** Differences from the documented problem shape (API.md): `{ type, title, status, detail, errors?: [{ path, message }] }`. */
function shapeProblems(p: { type: unknown; title: unknown; status: unknown; detail: unknown; errors?: unknown }, status: number): string[] {
  const problems: string[] = [];
  if (typeof p.type !== 'string' || !(p.type in SLUG_STATUS)) problems.push(`type ${JSON.stringify(p.type)} is not a documented slug`);
  else if (SLUG_STATUS[p.type] !== status) problems.push(`slug ${p.type} with status ${status}`);
  if (typeof p.title !== 'string' || p.title === '') problems.push('no title');
  if (p.status !== status) problems.push(`status member ${JSON.stringify(p.status)} is not the HTTP status ${status}`);
  if (typeof p.detail !== 'string' || p.detail === '') problems.push('no detail');
  if (p.errors !== undefined) {
    if (!Array.isArray(p.errors) || p.errors.length === 0) problems.push('errors is not a non-empty array');
    else if (p.errors.some((e: unknown) => typeof e !== 'object' || e === null || typeof (e as { path?: unknown }).path !== 'string' || typeof (e as { message?: unknown }).message !== 'string')) {
      problems.push('an error without a string path and message');
    }
  }
  return problems;
}
