import { type CanActivate, createParamDecorator, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Actor, Role } from '#events/envelope.js';
import { ProblemException } from '../problem.js';
import { API_KEYS, type ApiKeyRecord, findKey } from './api-keys.js';

const PUBLIC = 'ledger:public';
const ALLOW = 'ledger:allow';
const PARTNER_SCOPED = 'ledger:partner-scoped';

/** Roles `@Allow` can name. `partner` is not one of them: a partner key only reaches routes marked `@PartnerScoped()`. */
export type StaffRole = Exclude<Role, 'partner'>;

/** No key needed (`/health*`; `/docs*` is served outside Nest's router and is never guarded). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC, true);

/**
 * The roles besides `admin` that may call the route (or every route of the controller; a method's own `@Allow`
 * replaces its controller's). A route without `@Allow`, `@PartnerScoped` or `@Public` is admin-only.
 */
export const Allow = (...roles: StaffRole[]): MethodDecorator & ClassDecorator => SetMetadata(ALLOW, roles);

/**
 * A partner key may call the route, for its own partner only: the controller must call `assertPartnerAccess`
 * (or `visiblePartnerFilter` for lists) with the partnerId the request names.
 */
export const PartnerScoped = (): MethodDecorator & ClassDecorator => SetMetadata(PARTNER_SCOPED, true);

/** The request as the guards leave it. */
export interface RequestWithActor {
  actor?: Actor;
  /** Set by `AuthenticationGuard` when the request carried no usable key: why (for the 401's wording). */
  credentialProblem?: 'missing' | 'invalid';
  headers: Record<string, string | string[] | undefined>;
}

/** The `Actor` of the key that authenticated the request (undefined only on a `@Public()` route without a key). */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor | undefined => {
  return ctx.switchToHttp().getRequest<RequestWithActor>().actor;
});

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;
const CHALLENGE = 'Bearer realm="channel-ledger"';

/**
 * First of the global guards: who is calling. It never refuses, so that the rate limit that runs next can
 * count a caller by its actor id, and count requests without a valid key by their address (a key-guessing
 * loop is slowed down like any other flood); `AccessGuard` answers 401/403 after both.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(@Inject(API_KEYS) private readonly keys: readonly ApiKeyRecord[]) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<RequestWithActor>();
    const header = request.headers.authorization;
    const value = Array.isArray(header) ? undefined : header;
    const token = value === undefined ? undefined : BEARER.exec(value)?.[1];
    const record = token === undefined ? undefined : findKey(this.keys, token);
    if (record) request.actor = actorOf(record);
    else request.credentialProblem = value === undefined || value.trim() === '' ? 'missing' : 'invalid';
    return true;
  }
}

/**
 * Last of the global guards, deny by default (API.md, "Who may do what"): a route nobody thought about is
 * admin-only rather than open.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC, targets) === true) return true;
    const request = context.switchToHttp().getRequest<RequestWithActor>();
    const actor = request.actor;
    if (actor === undefined) {
      if (request.credentialProblem === 'invalid') throw ProblemException.unauthorized('The API key is not valid.', `${CHALLENGE}, error="invalid_token"`);
      throw ProblemException.unauthorized('This request needs an API key: send it as "Authorization: Bearer <key>".', CHALLENGE);
    }
    if (actor.role === 'admin') return true;
    if (actor.role === 'partner') {
      if (this.reflector.getAllAndOverride<boolean | undefined>(PARTNER_SCOPED, targets) === true) return true;
      throw ProblemException.forbidden('A partner key may not call this operation.');
    }
    const allowed = this.reflector.getAllAndOverride<StaffRole[] | undefined>(ALLOW, targets) ?? [];
    if (allowed.includes(actor.role)) return true;
    throw ProblemException.forbidden(`The ${actor.role} role may not call this operation.`);
  }
}

export function actorOf(record: ApiKeyRecord): Actor {
  return record.partnerId === undefined ? { id: record.id, role: record.role } : { id: record.id, role: record.role, partnerId: record.partnerId };
}

/** Refuses a partner key naming another partner; any other role passes (its route rights were checked by the guard). */
export function assertPartnerAccess(actor: Actor | undefined, partnerId: string): void {
  if (actor?.role !== 'partner') return;
  if (actor.partnerId !== partnerId) throw ProblemException.forbidden('A partner key may only access its own partner.');
}

/**
 * The partnerId a list query must be restricted to: a partner key sees its own items only (naming another
 * partner is a 403); other roles get what they asked for, or undefined for "all partners".
 */
export function visiblePartnerFilter(actor: Actor | undefined, requestedPartnerId?: string): string | undefined {
  // `?partnerId=` (empty) is how a form or a URL template says "no filter".
  const requested = requestedPartnerId === '' ? undefined : requestedPartnerId;
  if (actor?.role !== 'partner') return requested;
  if (requested !== undefined && requested !== actor.partnerId) {
    throw ProblemException.forbidden('A partner key may only list its own partner.');
  }
  return actor.partnerId;
}
