import { getMetadataStorage } from 'class-validator';

type Storage = ReturnType<typeof getMetadataStorage>;
type Lookup = Storage['getTargetValidationMetadatas'];
type Metadatas = ReturnType<Lookup>;

const CACHED = Symbol.for('channel-ledger.validation-metadata-cache');

/**
 * class-validator looks a DTO's validation metadata up again for every object it validates (each nested one
 * too): it filters the class's list and tests the class against every class that has metadata (`instanceof`,
 * hundreds of DTOs), allocating closures and arrays each time. In the deal registration profile that lookup was
 * an eighth of the validation pipe's time and its largest allocator. The answer depends only on its arguments
 * and on the metadata registered, which decorators add when classes are defined: it is remembered per class and
 * options, and forgotten whenever metadata is added. The executor only reads the array it gets.
 *
 * Installed once per process on class-validator's global storage (the one every copy of the library shares).
 */
export function cacheValidationMetadata(): void {
  const storage = getMetadataStorage() as Storage & { [CACHED]?: true };
  if (storage[CACHED]) return;
  storage[CACHED] = true;
  const lookup: Lookup = storage.getTargetValidationMetadatas.bind(storage);
  const addValidation = storage.addValidationMetadata.bind(storage);
  const addConstraint = storage.addConstraintMetadata.bind(storage);
  // Keyed by class (or schema name) and then by the options: groups are an array, compared by their contents.
  let cache = new Map<unknown, Map<string, Metadatas>>();
  storage.getTargetValidationMetadatas = (target, targetSchema, always, strictGroups, groups) => {
    const key = `${targetSchema}\u0000${always}\u0000${strictGroups}\u0000${groups === undefined ? '' : JSON.stringify(groups)}`;
    let byOptions = cache.get(target);
    if (byOptions === undefined) cache.set(target, (byOptions = new Map()));
    let found = byOptions.get(key);
    if (found === undefined) {
      found = lookup(target, targetSchema, always, strictGroups, groups);
      byOptions.set(key, found);
    }
    return found;
  };
  storage.addValidationMetadata = (metadata) => {
    cache = new Map();
    addValidation(metadata);
  };
  storage.addConstraintMetadata = (metadata) => {
    cache = new Map();
    addConstraint(metadata);
  };
}
