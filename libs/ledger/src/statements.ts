import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import { isRecorded } from '#events/envelope.js';
import type { PartnerStatementIssued, StatementDigest } from '#events/statements.js';
import { statementStreamId } from '#events/statements.js';
import { verifierKey, type NoteSigner } from '#libs/event-store/checkpoint.js';
import { canonicalJson } from '#libs/event-store/hashing.js';
import { merkleOf } from '#libs/event-store/merkle-log.js';
import type { EventStore } from '#libs/event-store/port.js';
import { NotFound } from '#libs/kernel/errors.js';
import {
  changedLeaves,
  STATEMENT_CONTENT_FORMAT,
  STATEMENT_SOURCE_TYPES,
  StatementFold,
  statementSubjects,
  type ComputedStatement,
  type StatementChange,
  type StatementSourceEvent,
} from '#libs/statements/content.js';
import { periodBounds } from '#libs/statements/period.js';
import { statementDecider, type IssueStatement } from '#libs/statements/statement.js';
import type { CommandContext, CommandOutcome } from './context.js';
import type { CommandPipeline } from './pipeline.js';

/**
 * Statements on the log (DOMAIN.md, "Partner statements (v2)"; docs/statements.md): the content computed at a
 * position, its hash, the tree head there, the Ed25519 signature with the checkpoint key, and the checks an
 * auditor runs. Shared by the service and the CLI (`ledger statement verify`).
 */

/** Domain separation of the signed message: a statement signature can never pass as a checkpoint's, or back. */
export const STATEMENT_SIGNING_CONTEXT = 'channel-ledger/statement-signature/1\n';

/** The signed fields of a statement. */
export interface SignedStatementFields {
  readonly statementId: string;
  readonly partnerId: string;
  readonly period: string;
  readonly position: string;
  readonly digest: StatementDigest;
  readonly programVersion: number;
  readonly commissionPlanVersion: number;
  readonly contentHash: string;
}

export type IssuedStatement = PartnerStatementIssued['data'];

const HEX64 = /^[0-9a-f]{64}$/;
const POSITION = /^\d{1,20}$/;

export function contentHashOf(content: unknown): string {
  return createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
}

/** The bytes signed: the context line, then the canonical JSON of exactly the signed fields. */
export function signingMessage(s: SignedStatementFields): Buffer {
  const fields: SignedStatementFields = {
    statementId: s.statementId,
    partnerId: s.partnerId,
    period: s.period,
    position: s.position,
    digest: { size: s.digest.size, rootHash: s.digest.rootHash },
    programVersion: s.programVersion,
    commissionPlanVersion: s.commissionPlanVersion,
    contentHash: s.contentHash,
  };
  return Buffer.from(STATEMENT_SIGNING_CONTEXT + canonicalJson(fields), 'utf8');
}

/** What a `StatementSourceIndex` answers: the positions it knows of, and up to where it knows them. */
export interface StatementSources {
  /** The positions listed are every one in (after, through] (through ≤ upTo); beyond it, read the log. */
  readonly through: bigint;
  /** Ascending: the events naming the partner (`statementSubjects`) and the policy events, in (after, through]. */
  readonly positions: readonly bigint[];
}

/**
 * Where one partner's statement events are (projections/statement-sources, kept by the projection runner):
 * with it a statement reads its partner's events and the policy events by position, not every source event of
 * the log. Optional everywhere: without it (the CLI reading a store file) statements scan, with the same content.
 */
export interface StatementSourceIndex {
  sources(partnerId: string, after: bigint, upTo: bigint): StatementSources;
}

/**
 * The events a statement of `partnerId` reads in (after, upTo], in log order. With an index (and a store that
 * reads by position), the partner's and the policy's events it lists, then the source events past its
 * checkpoint from the log; else the source events of the whole range. The fold ignores every event not naming
 * its partner nor policy (`statementSubjects`), so both give the same content.
 *
 * The scan: the source types are most of a log (deals, attributions, commissions, MDF: ~60% of the bench's), so
 * the rows are read in position order and filtered as they come; through the type index every page sorted every
 * match left (bench item 7: 3× slower on 20,000 events, and quadratic in the log).
 */
async function* statementSources(store: EventStore, partnerId: string, after: bigint, upTo: bigint, index: StatementSourceIndex | undefined): AsyncGenerator<StatementSourceEvent> {
  let from = after;
  if (index !== undefined && store.readAt !== undefined) {
    const { through, positions } = index.sources(partnerId, after, upTo);
    if (positions.length > 0) yield* store.readAt(positions);
    from = through;
  }
  if (from < upTo) yield* store.readAll({ fromPosition: from, toPosition: upTo, filter: { eventTypes: STATEMENT_SOURCE_TYPES }, scan: true });
}

/**
 * The statement content at `position`: the fold over the events it reads, in log order, up to the position.
 * `index`: read only the partner's events (see `statementSources`); the content is the same with or without.
 */
export async function computeStatement(store: EventStore, partnerId: string, period: string, position: bigint, index?: StatementSourceIndex): Promise<ComputedStatement> {
  const fold = new StatementFold(partnerId, period);
  if (position > 0n) for await (const e of statementSources(store, partnerId, 0n, position, index)) fold.add(e);
  return fold.result();
}

/**
 * Whether an event in (after, upTo] can change the partner's statement: one naming the partner, or a policy
 * event. Through the index up to its checkpoint, then the log's source events past it.
 */
async function sourcesAppended(store: EventStore, partnerId: string, after: bigint, upTo: bigint, index: StatementSourceIndex): Promise<boolean> {
  const { through, positions } = index.sources(partnerId, after, upTo);
  if (positions.length > 0) return true;
  if (through >= upTo) return false;
  for await (const e of store.readAll({ fromPosition: through, toPosition: upTo, filter: { eventTypes: STATEMENT_SOURCE_TYPES }, scan: true })) {
    const subjects = statementSubjects(e.type, e.data);
    if (subjects === 'policy' || subjects.includes(partnerId)) return true;
  }
  return false;
}

/** The tree head covering the events up to `position`. */
export async function digestAt(store: EventStore, position: bigint): Promise<StatementDigest> {
  const tree = merkleOf(store);
  const head = await tree.treeHead(await tree.sizeAt(position));
  return { size: head.size, rootHash: head.rootHash };
}

/** Computes and signs a statement at the log's `position`; a partner not enrolled by then is a 404. */
export async function prepareStatement(
  store: EventStore,
  signer: NoteSigner,
  request: { statementId: string; partnerId: string; period: string },
  position: bigint,
  index?: StatementSourceIndex,
): Promise<IssueStatement['statement']> {
  const computed = await computeStatement(store, request.partnerId, request.period, position, index);
  if (!computed.partnerKnown) throw new NotFound(`partner ${request.partnerId} not found`);
  const fields: SignedStatementFields = {
    statementId: request.statementId,
    partnerId: request.partnerId,
    period: request.period,
    position: position.toString(),
    digest: await digestAt(store, position),
    programVersion: computed.programVersion,
    commissionPlanVersion: computed.commissionPlanVersion,
    contentHash: contentHashOf(computed.content),
  };
  const signature = sign(null, signingMessage(fields), signer.privateKey).toString('base64');
  return { ...fields, content: computed.content, signature, verifierKey: verifierKey(signer) };
}

/**
 * Issues a statement through the pipeline: an id already issued answers as the decider says (the same
 * partner and period: a no-op, nothing recomputed; another: 409) before any work.
 */
export async function issueStatement(
  pipeline: CommandPipeline,
  store: EventStore,
  signer: NoteSigner,
  ctx: CommandContext,
  request: { statementId: string; partnerId: string; period: string },
  index?: StatementSourceIndex,
): Promise<CommandOutcome> {
  const streamId = statementStreamId(request.statementId);
  const state = await pipeline.state(streamId, statementDecider);
  if (state.status === 'issued' && ctx.requestHash === undefined) {
    // The decider's own rule on the statement as issued with this request's partner and period: [] (a no-op) or a 409.
    const decided = statementDecider.decide({ statement: { ...state.statement, partnerId: request.partnerId, period: request.period } }, state, new Date(state.statement.issuedAt));
    if (decided.length === 0) return { position: await store.headPosition(), events: [], replayed: false };
  }
  const statement = await prepareStatement(store, signer, request, await store.headPosition(), index);
  return pipeline.handle(ctx, streamId, statementDecider, { statement });
}

/** The issued statement `statementId`, or undefined. */
export async function readStatement(store: EventStore, statementId: string): Promise<IssuedStatement | undefined> {
  const events = await store.readStream<PartnerStatementIssued>(statementStreamId(statementId));
  return events.find((e) => e.type === 'PartnerStatementIssued')?.data;
}

/** Every statement issued, in log order, optionally for one partner and/or period. */
export async function listStatements(store: EventStore, filter: { partnerId?: string; period?: string }): Promise<IssuedStatement[]> {
  const out: IssuedStatement[] = [];
  for await (const e of store.readAll({ filter: { eventTypes: ['PartnerStatementIssued'] } })) {
    if (!isRecorded<PartnerStatementIssued>(e, 'PartnerStatementIssued')) continue;
    const d = e.data;
    if (filter.partnerId !== undefined && d.partnerId !== filter.partnerId) continue;
    if (filter.period !== undefined && d.period !== filter.period) continue;
    out.push(d);
  }
  return out;
}

export interface Restatement {
  readonly asOfPosition: string;
  readonly changes: StatementChange[];
}

/**
 * The period recomputed at `head`, and each content leaf that changed since issue. With an index and the issue
 * `position`: when no event naming the partner nor any policy event was recorded after the issue position, the
 * content at the head is the content as issued (the fold reads nothing else), so the answer is "no changes" with
 * no recomputation. Only for a statement of the current content format: one computed by other rules is
 * recomputed, and shows what the current rules say.
 */
export async function restatementOf(
  store: EventStore,
  issued: Pick<IssuedStatement, 'partnerId' | 'period' | 'content'> & { readonly position?: string },
  head: bigint,
  index?: StatementSourceIndex,
): Promise<Restatement> {
  if (index !== undefined && issued.position !== undefined && issued.content.format === STATEMENT_CONTENT_FORMAT && POSITION.test(issued.position)) {
    const at = BigInt(issued.position);
    if (at <= head && !(await sourcesAppended(store, issued.partnerId, at, head, index))) return { asOfPosition: head.toString(), changes: [] };
  }
  const now = await computeStatement(store, issued.partnerId, issued.period, head, index);
  return { asOfPosition: head.toString(), changes: changedLeaves(issued.content, now.content) };
}

export interface StatementDifference {
  readonly path: string;
  readonly statement: unknown;
  readonly recomputed: unknown;
}

export interface StatementVerification {
  readonly ok: boolean;
  readonly contentMatches: boolean;
  readonly digestMatches: boolean;
  readonly signatureValid: boolean;
  readonly differences?: StatementDifference[];
}


function publicKeyObject(raw: Buffer) {
  return createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
}

/** Whether `signature` signs the statement's fields, with `contentHash` recomputed from the content presented. */
export function signatureHolds(s: SignedStatementFields & { content: unknown; signature: string }, publicKey: Buffer): boolean {
  try {
    const sig = Buffer.from(s.signature, 'base64');
    if (sig.length !== 64) return false;
    const recomputedHash = contentHashOf(s.content);
    if (recomputedHash !== s.contentHash) return false;
    return verify(null, signingMessage({ ...s, contentHash: recomputedHash }), publicKeyObject(publicKey), sig);
  } catch {
    return false;
  }
}

/** The statement's own members, checked for shape; what is missing or malformed is a difference, never a throw. */
function shapeOf(statement: Readonly<Record<string, unknown>>): { fields?: SignedStatementFields & { content: unknown; signature: string }; problems: StatementDifference[] } {
  const problems: StatementDifference[] = [];
  const s = statement;
  const digest = (s.digest ?? {}) as Record<string, unknown>;
  const check = (path: string, okay: boolean, value: unknown) => {
    if (!okay) problems.push({ path, statement: value ?? null, recomputed: null });
  };
  check('partnerId', typeof s.partnerId === 'string', s.partnerId);
  check('period', typeof s.period === 'string' && periodBounds(s.period) !== undefined, s.period);
  check('statementId', typeof s.statementId === 'string', s.statementId);
  check('position', typeof s.position === 'string' && POSITION.test(s.position), s.position);
  check('digest.size', Number.isSafeInteger(digest.size) && (digest.size as number) >= 0, digest.size);
  check('digest.rootHash', typeof digest.rootHash === 'string' && HEX64.test(digest.rootHash), digest.rootHash);
  check('programVersion', Number.isSafeInteger(s.programVersion), s.programVersion);
  check('commissionPlanVersion', Number.isSafeInteger(s.commissionPlanVersion), s.commissionPlanVersion);
  check('contentHash', typeof s.contentHash === 'string', s.contentHash);
  check('signature', typeof s.signature === 'string', s.signature);
  check('content', s.content !== null && typeof s.content === 'object', s.content);
  if (problems.length) return { problems };
  return { fields: s as unknown as SignedStatementFields & { content: unknown; signature: string }, problems };
}

/**
 * The auditor's check of a statement as it was handed out (DOMAIN.md: "the content recomputed from the log up
 * to the position is byte-identical and the digest matches"): content recomputed at its position, the tree
 * head at its digest's size, the signature with the ledger's public key over the fields presented.
 */
export async function verifyStatement(store: EventStore, publicKey: Buffer, statement: Readonly<Record<string, unknown>>, index?: StatementSourceIndex): Promise<StatementVerification> {
  const { fields, problems } = shapeOf(statement);
  if (fields === undefined) return { ok: false, contentMatches: false, digestMatches: false, signatureValid: false, differences: problems };
  const differences: StatementDifference[] = [];
  const head = await store.headPosition();
  const position = BigInt(fields.position);
  let contentMatches = false;
  let digestMatches = false;
  if (position > head) {
    differences.push({ path: 'position', statement: fields.position, recomputed: `beyond the head of the log (${head})` });
  } else {
    const computed = await computeStatement(store, fields.partnerId, fields.period, position, index);
    const recomputedHash = contentHashOf(computed.content);
    for (const c of changedLeaves(fields.content, computed.content)) differences.push({ path: `content.${c.path}`, statement: c.issued, recomputed: c.now });
    if (fields.contentHash !== recomputedHash) differences.push({ path: 'contentHash', statement: fields.contentHash, recomputed: recomputedHash });
    if (fields.programVersion !== computed.programVersion) differences.push({ path: 'programVersion', statement: fields.programVersion, recomputed: computed.programVersion });
    if (fields.commissionPlanVersion !== computed.commissionPlanVersion) {
      differences.push({ path: 'commissionPlanVersion', statement: fields.commissionPlanVersion, recomputed: computed.commissionPlanVersion });
    }
    contentMatches = canonicalJson(fields.content) === canonicalJson(computed.content) && fields.contentHash === recomputedHash;
    const tree = merkleOf(store);
    const size = await tree.sizeAt(position);
    if (fields.digest.size !== size) differences.push({ path: 'digest.size', statement: fields.digest.size, recomputed: size });
    const root = (await tree.treeHead(Math.min(fields.digest.size, (await tree.treeHead()).size))).rootHash;
    digestMatches = fields.digest.size === size && root === fields.digest.rootHash;
    if (root !== fields.digest.rootHash) differences.push({ path: 'digest.rootHash', statement: fields.digest.rootHash, recomputed: root });
  }
  const signatureValid = signatureHolds(fields, publicKey);
  if (!signatureValid) differences.push({ path: 'signature', statement: fields.signature, recomputed: 'does not verify with the ledger key over the fields presented' });
  const ok = contentMatches && digestMatches && signatureValid;
  return { ok, contentMatches, digestMatches, signatureValid, ...(ok ? {} : { differences }) };
}
