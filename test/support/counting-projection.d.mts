import type { Projection } from '../../projections/runner/projection.js';
export declare const countingProjection: Projection;
