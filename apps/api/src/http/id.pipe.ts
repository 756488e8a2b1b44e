import { Injectable, type PipeTransform } from '@nestjs/common';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { ProblemException } from '../platform/problem.js';

/** Path ids follow the same pattern as ids in bodies (DOMAIN.md, "Money, time, identity"). */
@Injectable()
export class LedgerIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      throw ProblemException.validationFailed('The id in the path is not a valid id.', [{ path: 'id', message: `must match ${ID_PATTERN.source}` }]);
    }
    return value;
  }
}
