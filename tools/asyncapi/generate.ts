/**
 * Build tooling (kept out of `events/`, which holds contracts only): writes `events/asyncapi.json` from the
 * event unions in `events/*.ts` with the TypeScript compiler, so the document cannot say something the types do not.
 *
 *   npm run asyncapi                                      # build, then regenerate events/asyncapi.json
 *   node dist/tools/asyncapi/generate.js --check          # exit 1 when the committed document is stale
 *
 * Every exported type alias or interface of `events/*.ts` whose members look like `{ type: "<literal>",
 * data: ... }` is an event: its `data` type becomes a JSON Schema, its JSDoc the description. Number
 * fields named `...Minor` or `...Bps` are integers (money in minor units, basis points); JSDoc tags on data
 * properties refine the schema further: `@asType integer`, `@format date-time`, `@pattern <regex>`,
 * `@minimum <n>`, `@maximum <n>`. Nothing here runs in the service.
 *
 * The document names no host: where the service is reached is configuration, so `GET /docs/events` fills in
 * the `{host}` variable when it serves it (see apps/api/src/subscriptions/asyncapi.document.ts).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

export type JsonSchema = { [keyword: string]: unknown };

export interface DocumentedEvent {
  readonly type: string;
  /** The `events/<capability>.ts` file that declares it. */
  readonly capability: string;
  readonly description: string;
  readonly data: JsonSchema;
}

export const ASYNCAPI_FILE = 'events/asyncapi.json';

/** Files of `events/` that declare no event unions. */
const NOT_EVENTS = new Set(['envelope.ts']);

function isEventFile(name: string): boolean {
  return name.endsWith('.ts') && !name.endsWith('.d.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(name) && !name.startsWith('asyncapi') && !NOT_EVENTS.has(name);
}

/** The repository root: the nearest directory up from here with `events/envelope.ts` (works from `dist/` too). */
export function repositoryRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'events', 'envelope.ts'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no events/envelope.ts above ${from}`);
  }
}

class SchemaBuilder {
  constructor(
    private readonly checker: ts.TypeChecker,
    /** Named types emitted once in `components.schemas` and referenced. */
    private readonly refs: ReadonlyMap<ts.Symbol, string>,
  ) {}

  schema(type: ts.Type, where: string, path: ts.Type[] = []): JsonSchema {
    const c = this.checker;
    const named = type.aliasSymbol ?? type.getSymbol();
    const ref = named === undefined ? undefined : this.refs.get(named);
    if (ref !== undefined && path.length > 0) return { $ref: `#/components/schemas/${ref}` };
    if (path.includes(type)) throw new Error(`${where}: recursive types cannot be described`);
    const f = type.flags;
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return {};
    if (f & ts.TypeFlags.StringLiteral) return { type: 'string', const: (type as ts.StringLiteralType).value };
    if (f & ts.TypeFlags.NumberLiteral) return { type: 'number', const: (type as ts.NumberLiteralType).value };
    if (f & ts.TypeFlags.BooleanLiteral) return { type: 'boolean', const: (type as unknown as { intrinsicName: string }).intrinsicName === 'true' };
    if (f & ts.TypeFlags.String) return { type: 'string' };
    if (f & ts.TypeFlags.Number) return { type: 'number' };
    if (f & ts.TypeFlags.Boolean) return { type: 'boolean' };
    if (f & ts.TypeFlags.BigInt) return { type: 'string', pattern: '^-?\\d+$' };
    if (f & ts.TypeFlags.Null) return { type: 'null' };
    if (type.isUnion()) {
      const members = type.types.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)));
      if (members.length === 1) return this.schema(members[0]!, where, path);
      if (members.every((t) => t.flags & ts.TypeFlags.BooleanLiteral)) return { type: 'boolean' };
      if (members.every((t) => t.isStringLiteral())) return { type: 'string', enum: members.map((t) => (t as ts.StringLiteralType).value) };
      if (members.every((t) => t.isNumberLiteral())) return { type: 'number', enum: members.map((t) => (t as ts.NumberLiteralType).value) };
      return { anyOf: members.map((t) => this.schema(t, where, [...path, type])) };
    }
    if (type.isIntersection()) {
      // `A & B` of object types: one object with the properties of both.
      return this.object(type, where, path);
    }
    if (c.isTupleType(type)) {
      const items = c.getTypeArguments(type as ts.TypeReference).map((t) => this.schema(t, where, [...path, type]));
      // Draft-07 tuple form: AsyncAPI 3.0's schema dialect is a superset of JSON Schema draft 07.
      return { type: 'array', items, additionalItems: false, minItems: items.length };
    }
    if (c.isArrayType(type)) {
      const [item] = c.getTypeArguments(type as ts.TypeReference);
      return { type: 'array', items: item === undefined ? {} : this.schema(item, `${where}[]`, [...path, type]) };
    }
    if (f & ts.TypeFlags.Object) {
      if (c.getSignaturesOfType(type, ts.SignatureKind.Call).length > 0) throw new Error(`${where}: a function is not JSON`);
      return this.object(type, where, path);
    }
    throw new Error(`${where}: cannot describe the type ${c.typeToString(type)} in JSON Schema`);
  }

  private object(type: ts.Type, where: string, path: ts.Type[]): JsonSchema {
    const c = this.checker;
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const prop of c.getPropertiesOfType(type)) {
      const propType = c.getTypeOfSymbol(prop);
      const schema: JsonSchema = { ...this.schema(propType, `${where}.${prop.name}`, [...path, type]) };
      const doc = ts.displayPartsToString(prop.getDocumentationComment(c)).trim();
      if (doc && schema.$ref === undefined) schema.description = doc;
      // DOMAIN.md: money is integer minor units, shares are integer basis points; the names say which.
      if (schema.type === 'number' && INTEGER_BY_NAME.test(prop.name)) schema.type = 'integer';
      for (const tag of prop.getJsDocTags(c)) applyTag(schema, tag, `${where}.${prop.name}`);
      properties[prop.name] = schema;
      if (!(prop.flags & ts.SymbolFlags.Optional)) required.push(prop.name);
    }
    const index = c.getIndexInfoOfType(type, ts.IndexKind.String);
    return {
      type: 'object',
      properties,
      ...(required.length ? { required } : {}),
      additionalProperties: index === undefined ? false : this.schema(index.type, `${where}[key]`, [...path, type]),
    };
  }
}

/** Number fields named `...Minor` (money in minor units) or `...Bps` (basis points) are integers. */
const INTEGER_BY_NAME = /(Minor|Bps)$/;

function applyTag(schema: JsonSchema, tag: ts.JSDocTagInfo, where: string): void {
  const text = ts.displayPartsToString(tag.text).trim();
  switch (tag.name) {
    case 'asType':
      if (text !== 'integer') throw new Error(`${where}: @asType supports "integer" only`);
      if (schema.type !== 'number') throw new Error(`${where}: @asType integer on a non-number`);
      schema.type = 'integer';
      return;
    case 'format':
    case 'pattern':
      schema[tag.name] = text;
      return;
    case 'minimum':
    case 'maximum':
      schema[tag.name] = Number(text);
      return;
    default:
      return;
  }
}

interface Found {
  readonly events: DocumentedEvent[];
  readonly metadata: JsonSchema;
  readonly actor: JsonSchema;
  readonly envelope: JsonSchema;
}

/** Reads `events/*.ts` with the compiler and describes every event type and the envelope. */
export function describeEvents(root: string = repositoryRoot()): Found {
  const dir = join(root, 'events');
  const files = readdirSync(dir).filter(isEventFile).sort();
  const envelopeFile = join(dir, 'envelope.ts');
  const program = ts.createProgram([envelopeFile, ...files.map((f) => join(dir, f))], {
    strict: true,
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const exportsOf = (file: string): ts.Symbol[] => {
    const source = program.getSourceFile(file);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`${file}: not a module`);
    return checker.getExportsOfModule(module);
  };
  const envelopeExports = new Map(exportsOf(envelopeFile).map((s) => [s.name, s]));
  const need = (name: string): ts.Symbol => {
    const s = envelopeExports.get(name);
    if (s === undefined) throw new Error(`events/envelope.ts does not export ${name}`);
    return s;
  };
  const refs = new Map<ts.Symbol, string>([
    [need('EventMetadata'), 'EventMetadata'],
    [need('Actor'), 'Actor'],
  ]);
  const builder = new SchemaBuilder(checker, refs);
  const declared = (s: ts.Symbol): ts.Type => checker.getDeclaredTypeOfSymbol(s);

  const events = new Map<string, DocumentedEvent>();
  for (const file of files) {
    const capability = basename(file, '.ts');
    for (const symbol of exportsOf(join(dir, file))) {
      if (!(symbol.flags & (ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Interface))) continue;
      const type = declared(symbol);
      const members = type.isUnion() ? type.types : [type];
      for (const member of members) {
        const typeProp = checker.getPropertyOfType(member, 'type');
        const dataProp = checker.getPropertyOfType(member, 'data');
        if (typeProp === undefined || dataProp === undefined) continue;
        const literal = checker.getTypeOfSymbol(typeProp);
        if (!literal.isStringLiteral()) continue;
        const name = literal.value;
        const doc = type.isUnion() ? '' : ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
        const known = events.get(name);
        if (known !== undefined && known.capability !== capability) throw new Error(`event type ${name} is declared in events/${known.capability}.ts and events/${file}`);
        if (known !== undefined && (known.description || !doc)) continue;
        events.set(name, { type: name, capability, description: doc, data: builder.schema(checker.getTypeOfSymbol(dataProp), `${name}.data`) });
      }
    }
  }
  const metadata = builder.schema(declared(need('EventMetadata')), 'EventMetadata');
  setProperty(metadata, 'recordedAt', { format: 'date-time' });
  const envelope = builder.schema(declared(need('WireEvent')), 'WireEvent');
  setProperty(envelope, 'revision', { pattern: '^\\d+$' });
  setProperty(envelope, 'position', { pattern: '^\\d+$' });
  setProperty(envelope, 'prevHash', { pattern: '^[0-9a-f]{64}$' });
  setProperty(envelope, 'hash', { pattern: '^[0-9a-f]{64}$' });
  return { events: [...events.values()], metadata, actor: builder.schema(declared(need('Actor')), 'Actor'), envelope };
}

function setProperty(schema: JsonSchema, name: string, extra: JsonSchema): void {
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (props?.[name] === undefined) throw new Error(`the envelope has no ${name}`);
  props[name] = { ...props[name], ...extra };
}

const SSE = 'Server-Sent Events on `GET /v1/events/stream`: each message has `id: <position>`, `event: <type>` and `data: <the envelope as JSON>`.';

/** The AsyncAPI 3.0 document: one channel (the SSE stream), one message per event type, payload = envelope. */
export function buildAsyncApiDocument(root: string = repositoryRoot()): Record<string, unknown> {
  const found = describeEvents(root);
  const schemas: Record<string, JsonSchema> = { Actor: found.actor, EventMetadata: found.metadata };
  const messages: Record<string, unknown> = {};
  const channelMessages: Record<string, unknown> = {};
  const envelopeProps = found.envelope.properties as Record<string, JsonSchema>;
  for (const e of found.events) {
    schemas[`${e.type}Data`] = e.data;
    messages[e.type] = {
      name: e.type,
      title: e.type,
      summary: e.description.split('\n')[0] || `${e.type} (${e.capability})`,
      ...(e.description ? { description: e.description } : {}),
      contentType: 'application/json',
      tags: [{ name: e.capability }],
      payload: {
        ...found.envelope,
        properties: {
          ...envelopeProps,
          type: { type: 'string', const: e.type },
          data: { $ref: `#/components/schemas/${e.type}Data` },
        },
      },
    };
    channelMessages[e.type] = { $ref: `#/components/messages/${e.type}` };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'channel-ledger events',
      version: '1',
      description:
        'The events of the channel ledger (DOMAIN.md, "Events"): past-tense names, JSON data, never renamed. ' +
        'Generated from the TypeScript event unions in events/*.ts by tools/asyncapi/generate.ts (`npm run asyncapi`); do not edit by hand.',
    },
    defaultContentType: 'application/json',
    servers: {
      ledger: {
        host: '{host}',
        protocol: 'http',
        description: 'The ledger service. Needs a `subscriber` (or `admin`) API key.',
        variables: {
          host: {
            description: 'Host and port of the service. `GET /docs/events` serves the document with this filled in: `LEDGER_PUBLIC_URL` when set, else the address the request reached.',
            examples: ['localhost:3000'],
          },
        },
        security: [{ $ref: '#/components/securitySchemes/bearer' }],
      },
    },
    channels: {
      events: {
        address: '/v1/events/stream',
        title: 'The event log',
        description:
          `${SSE} The stream catches up after \`fromPosition\` or the \`Last-Event-ID\` header (exclusive), then follows the log live, in log order; ` +
          'a comment line is sent as a heartbeat every 15 s. Filters: `types=A,B` (event types), `streams=partner,customer` (stream categories: ' +
          'the stream id before its first `-`).',
        messages: channelMessages,
      },
    },
    operations: {
      receiveEvents: {
        action: 'receive',
        channel: { $ref: '#/channels/events' },
        summary: 'Follow the log',
        bindings: {
          http: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                fromPosition: { type: 'string', pattern: '^\\d+$', description: 'Exclusive; 0 = from the start.' },
                types: { type: 'string', description: 'Comma-separated event types.' },
                streams: { type: 'string', description: 'Comma-separated stream categories.' },
              },
              additionalProperties: false,
            },
          },
        },
        messages: found.events.map((e) => ({ $ref: `#/channels/events/messages/${e.type}` })),
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer <key>`' } },
      schemas,
      messages,
    },
  };
}

export function renderAsyncApiDocument(root: string = repositoryRoot()): string {
  return `${JSON.stringify(buildAsyncApiDocument(root), null, 2)}\n`;
}

function main(argv: readonly string[]): number {
  const root = repositoryRoot();
  const file = join(root, ASYNCAPI_FILE);
  const text = renderAsyncApiDocument(root);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (argv.includes('--check')) {
    if (current === text) return 0;
    process.stderr.write(`${ASYNCAPI_FILE} is out of date with events/*.ts: run \`npm run asyncapi\`\n`);
    return 1;
  }
  if (current !== text) writeFileSync(file, text);
  process.stderr.write(`${ASYNCAPI_FILE}: ${current === text ? 'up to date' : 'written'}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
