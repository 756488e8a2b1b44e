import type { Projection } from './runner/projection.js';
import { partnersProjection } from './partners/partners.projection.js';
import { dealsProjection } from './deals/deals.projection.js';
import { registrationConflictsProjection } from './registration-conflicts/registration-conflicts.projection.js';
import { attributionProjection } from './attribution/attribution.projection.js';
import { mdfFundsProjection } from './mdf-funds/mdf-funds.projection.js';
import { tierStandingsProjection } from './tier-standings/tier-standings.projection.js';
import { commissionBalancesProjection } from './commissions/commission-balances.projection.js';
import { statementSourcesProjection } from './statement-sources/statement-sources.projection.js';

/** Every read model the service keeps, in the order the runner applies them. */
export const ALL_PROJECTIONS: readonly Projection[] = [partnersProjection, dealsProjection, registrationConflictsProjection, attributionProjection, mdfFundsProjection, tierStandingsProjection, commissionBalancesProjection, statementSourcesProjection];
