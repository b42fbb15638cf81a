/**
 * A cache bounded by two generations, a cheap stand-in for least-recently-used: lookups
 * fill the young map; when it is full it becomes the old one and the oldest entries go. A
 * value found only in the old map moves back to the young one. At most twice
 * `perGeneration` entries are held. Used by one thread each (no locking). Hand-written:
 * a two-map swap is a few lines, where an LRU library would keep a list per entry.
 */
export class TwoGenerations<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(private readonly perGeneration: number) {}

  /** The value kept for `key`, else `make(key)`, kept from now on. */
  get(key: K, make: (key: K) => V): V {
    let value = this.young.get(key);
    if (value !== undefined) return value;
    value = this.old.get(key) ?? make(key);
    this.young.set(key, value);
    if (this.young.size >= this.perGeneration) {
      this.old = this.young;
      this.young = new Map();
    }
    return value;
  }
}
