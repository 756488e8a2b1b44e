import { ATTRIBUTION_EVENT_TYPES } from './attribution.js';
import { DEAL_EVENT_TYPES, DEAL_ID_EVENT_TYPES } from './deals.js';
import { MDF_EVENT_TYPES, MDF_ID_RESERVATION_TYPES } from './mdf.js';
import { CERTIFICATION_CATALOG_EVENT_TYPES, PARTNER_DOMAIN_EVENT_TYPES, PARTNER_EVENT_TYPES, SELLER_CLAIM_EVENT_TYPES } from './partners.js';
import { PROGRAM_EVENT_TYPES } from './program.js';

/** Every event type the ledger writes (the catalog test keeps this in step with each file's `*_TYPES` lists). */
export const ALL_EVENT_TYPES: ReadonlySet<string> = new Set<string>([
  ...PROGRAM_EVENT_TYPES,
  ...PARTNER_EVENT_TYPES,
  ...PARTNER_DOMAIN_EVENT_TYPES,
  ...CERTIFICATION_CATALOG_EVENT_TYPES,
  ...SELLER_CLAIM_EVENT_TYPES,
  ...DEAL_EVENT_TYPES,
  ...DEAL_ID_EVENT_TYPES,
  ...MDF_EVENT_TYPES,
  ...MDF_ID_RESERVATION_TYPES,
  ...ATTRIBUTION_EVENT_TYPES,
]);
