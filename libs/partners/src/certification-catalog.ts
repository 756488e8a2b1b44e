import type { CertificationCatalogEvent, CertificationDefined } from '#events/partners.js';
import type { Decider } from '#libs/kernel/decider.js';
import { UnknownCertification } from '#libs/kernel/errors.js';
import { invalidField, requireText } from '#libs/kernel/input.js';

/** One catalog entry (DOMAIN.md, "Tier program v2"). */
export interface CatalogEntry {
  readonly name: string;
  readonly title: string;
  readonly validityDays: number;
  readonly definedAt: string;
}

/** The certification catalog: entries by name, in the order first defined. */
export type CertificationCatalog = ReadonlyMap<string, CatalogEntry>;

export type DefineCertification = { readonly name: string; readonly title: string; readonly validityDays: number };

export const MAX_VALIDITY_DAYS = 3660;

export function evolveCatalog(catalog: CertificationCatalog, event: CertificationCatalogEvent): CertificationCatalog {
  if (event.type !== 'CertificationDefined') return catalog;
  return new Map(catalog).set(event.data.name, { ...event.data });
}

/** Defines or redefines an entry; the same definition again is a no-op. */
export function decideCertification(command: DefineCertification, catalog: CertificationCatalog, now: Date): readonly CertificationDefined[] {
  const name = requireText(command.name, 'name');
  if (name.length > 100) throw invalidField('name', 'name must be at most 100 characters');
  const title = requireText(command.title, 'title');
  if (!Number.isSafeInteger(command.validityDays) || command.validityDays < 1 || command.validityDays > MAX_VALIDITY_DAYS) {
    throw invalidField('validityDays', `validityDays must be an integer from 1 to ${MAX_VALIDITY_DAYS}`);
  }
  const current = catalog.get(name);
  if (current !== undefined && current.title === title && current.validityDays === command.validityDays) return [];
  return [{ type: 'CertificationDefined', data: { name, title, validityDays: command.validityDays, definedAt: now.toISOString() } }];
}

export const certificationCatalogDecider: Decider<DefineCertification, CertificationCatalog, CertificationCatalogEvent> = {
  initialState: () => new Map(),
  evolve: evolveCatalog,
  decide: decideCertification,
};

/**
 * The validity of a certification to record: undefined while the catalog is empty (any name counts, as before the
 * catalog existed); once it has an entry, a name not in it is refused.
 */
export function catalogValidity(catalog: CertificationCatalog, certification: string): number | undefined {
  if (catalog.size === 0) return undefined;
  const entry = catalog.get(certification);
  if (entry === undefined) {
    throw new UnknownCertification(`certification ${JSON.stringify(certification)} is not in the catalog`, { known: [...catalog.keys()] });
  }
  return entry.validityDays;
}
