import { DomainError, InvalidInput } from '#libs/kernel/errors.js';
import { refuseUnsafeSpelling, registrableDomain } from '#libs/partners/domain-name.js';
import type { DealRegistrationPolicy } from '#libs/program/program.js';
import type { CustomerAccount, PartnerStatusFact, RegisterDeal } from './customer-account.js';

/**
 * Deal registration's pure steps (docs/development.md, "A command's way"): which account decides, the command it
 * decides, and what an alias race asks of a retry. The handler (libs/ledger/src/deals.commands.ts) only reads the
 * facts these need and hands the results to the pipeline.
 */

/** What a registration request names: the `RegisterDeal` command without what the ledger fills in. */
export type RegistrationRequest = Omit<RegisterDeal['data'], 'customerKey' | 'viaAlias' | 'programVersion' | 'productFamilies' | 'partnerStatus'>;

/** The registrable domain of a spelling, or a 400 naming the field. */
export function customerKeyOf(domain: string, path: string): string {
  refuseUnsafeSpelling(domain, path);
  const key = registrableDomain(domain);
  if (key === undefined) {
    throw new InvalidInput(`${JSON.stringify(domain)} has no registrable domain`, {}, [{ path, message: 'must be a domain name under a public suffix, e.g. acme.co.uk' }]);
  }
  return key;
}

/** The account a registration naming `named` is decided on: that domain's own, or its primary when it is an alias. */
export function decidingAccount(named: string, account: CustomerAccount): string {
  return account.status === 'alias' ? account.primaryKey : named;
}

/** The registration as the account `customerKey` decides it, with the program's policy in force and the partner's status now. */
export function registerDeal(request: RegistrationRequest, named: string, customerKey: string, policy: DealRegistrationPolicy, partnerStatus: PartnerStatusFact): RegisterDeal {
  return {
    type: 'RegisterDeal',
    data: {
      ...request,
      customerKey,
      ...(named !== customerKey ? { viaAlias: named } : {}),
      programVersion: policy.programVersion,
      productFamilies: policy.productFamilies,
      partnerStatus,
    },
  };
}

/**
 * The domain was aliased between the handler's look and the decision: the account `tried` refused with
 * `customer-aliased`, naming its primary. That primary is where the registration is decided again (once);
 * undefined for any other refusal.
 */
export function aliasedTo(error: unknown, tried: string): string | undefined {
  const aliasOf = error instanceof DomainError && error.rule === 'customer-aliased' ? error.extensions.aliasOf : undefined;
  return typeof aliasOf === 'string' && aliasOf !== tried ? aliasOf : undefined;
}
