/** Injection tokens of the ledger's core services. */
export const EVENT_STORE = Symbol('EVENT_STORE');
export const CLOCK = Symbol('CLOCK');
/** The ledger's Ed25519 checkpoint key (`loadCheckpointSigner`), read or created once at start: tree heads and statements are signed with it. */
export const CHECKPOINT_SIGNER = Symbol('CHECKPOINT_SIGNER');

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
