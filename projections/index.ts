import type { Projection } from './runner/projection.js';
import { partnersProjection } from './partners/partners.projection.js';

/** Every read model the service keeps, in the order the runner applies them. */
export const ALL_PROJECTIONS: readonly Projection[] = [partnersProjection];
