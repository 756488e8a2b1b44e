/**
 * A Map bounded to `capacity` entries, least recently set out first: `set` (also of a key already there)
 * makes the entry the most recent, and setting one beyond capacity drops the oldest. The caches of the service
 * (folded stream states, stream heads, statements, parsed domains) are all this.
 */
export class RecentMap<K, V> extends Map<K, V> {
  constructor(readonly capacity: number) {
    super();
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.capacity) super.delete(this.keys().next().value as K);
    return this;
  }
}
