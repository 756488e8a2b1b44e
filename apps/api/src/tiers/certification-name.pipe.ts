import { Injectable, type PipeTransform } from '@nestjs/common';
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
