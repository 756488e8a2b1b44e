import { Injectable, type PipeTransform } from '@nestjs/common';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { ProblemException } from '../platform/problem.js';

/** A certification name in a path (URL-encoded, e.g. `Sales%20Accreditation`): non-blank, at most 100 characters. */
@Injectable()
export class CertificationNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || value.trim() === '' || value.length > 100 || [...value].some((c) => c.charCodeAt(0) < 0x20)) {
      throw ProblemException.validationFailed('The certification name in the path is not valid.', [{ path: 'certification', message: 'must be a non-blank name of at most 100 characters' }]);
    }
    return value;
  }
}

/**
 * A catalog entry's name, chosen by the caller like an id (DOMAIN.md, "Money, time, identity"): it is what
 * certifications name from then on (`sales-accreditation`); the human text is the entry's `title`.
 */
@Injectable()
export class CatalogNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      throw ProblemException.validationFailed('The catalog name in the path is not valid.', [{ path: 'name', message: `must match ${ID_PATTERN.source}` }]);
    }
    return value;
  }
}
