import { deciderSpec } from '#libs/kernel/testing/decider-spec.js';
import { InvalidInput, UnknownCertification } from '#libs/kernel/errors.js';
import { catalogValidity, certificationCatalogDecider } from './certification-catalog.js';

const now = new Date('2026-03-01T10:00:00Z');
const spec = deciderSpec(certificationCatalogDecider, now);
const defined = { type: 'CertificationDefined' as const, data: { name: 'Sales', title: 'Sales Accreditation', validityDays: 365, definedAt: now.toISOString() } };

describe('certification catalog', () => {
  it('defines an entry, redefines it when it changes, and is a no-op when it does not', () => {
    spec.given().when({ name: 'Sales', title: 'Sales Accreditation', validityDays: 365 }).then([defined]);
    spec.given(defined).when({ name: 'Sales', title: 'Sales Accreditation', validityDays: 365 }).then([]);
    spec.given(defined).when({ name: 'Sales', title: 'Sales Accreditation', validityDays: 180 }).thenMatches([{ type: 'CertificationDefined', data: { validityDays: 180 } }]);
    spec.given().when({ name: 'Sales', title: ' ', validityDays: 365 }).thenThrows(InvalidInput);
    spec.given().when({ name: 'Sales', title: 'S', validityDays: 0 }).thenThrows(InvalidInput);
  });

  it('lets any name certify while empty; once it has an entry, only its names', () => {
    const empty = certificationCatalogDecider.initialState();
    expect(catalogValidity(empty, 'Anything')).toBeUndefined();
    const catalog = certificationCatalogDecider.evolve(empty, defined);
    expect(catalogValidity(catalog, 'Sales')).toBe(365);
    expect(() => catalogValidity(catalog, 'Anything')).toThrow(UnknownCertification);
  });
});
