/**
 * Cross-capability lookups. A rule is decided against one stream; when it also needs a fact that lives in
 * another capability's stream (which deal a partner registered, say), it asks through these interfaces,
 * implemented by the capability that owns the fact.
 */
export const DEAL_DIRECTORY = Symbol('DEAL_DIRECTORY');

export type DealStatus = 'submitted' | 'conflicted' | 'approved' | 'rejected' | 'expired' | 'won' | 'lost';

export interface DealRecord {
  readonly dealId: string;
  readonly partnerId: string;
  readonly customerKey: string;
  /** The stream holding the deal's events: its customer account. */
  readonly streamId: string;
  readonly status: DealStatus;
  readonly protectedUntil?: string;
  /** Set once won. */
  readonly closedAt?: string;
  readonly wonAmount?: { readonly amountMinor: number; readonly currency: string };
}

export interface DealDirectory {
  /** The deal as it stands in the log now (not a lagging read model), or undefined. */
  find(dealId: string): Promise<DealRecord | undefined>;
}
