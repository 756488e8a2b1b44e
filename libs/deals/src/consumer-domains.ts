import { createRequire } from 'node:module';

/**
 * Consumer and free-mail domains (gmail.com, outlook.com, yahoo.com, gmx.de, …) are not customers: a registration
 * naming one would make every private mailbox one account (DOMAIN.md, "Customer domains"). The list is the
 * `email-providers` package (about 8,800 provider domains, refreshed upstream from goware/emailproviders), not one
 * typed here; it ships as JSON, read once.
 */
const require = createRequire(import.meta.url);
const PROVIDERS: ReadonlySet<string> = new Set(require('email-providers/all.json') as string[]);

/** `domain` is a registrable domain (already folded). */
export function isConsumerDomain(domain: string): boolean {
  return PROVIDERS.has(domain);
}
