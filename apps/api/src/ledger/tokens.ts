/** Injection tokens of the ledger's core services. */
export const EVENT_STORE = Symbol('EVENT_STORE');
export const READ_MODELS_DB = Symbol('READ_MODELS_DB');
export const CLOCK = Symbol('CLOCK');
export const PROJECTIONS = Symbol('PROJECTIONS');

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
