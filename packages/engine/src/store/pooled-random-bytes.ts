/** Random bytes come from `source` a few kilobytes at a time: one call per id costs more than the id. */
export function pooledRandomBytes(source: (n: number) => Uint8Array): (n: number) => Uint8Array {
  const POOL_BYTES = 4096;
  let pool: Uint8Array = new Uint8Array(0);
  let used = 0;
  return (n) => {
    if (used + n > pool.length) {
      pool = source(Math.max(POOL_BYTES, n));
      used = 0;
    }
    const bytes = pool.subarray(used, used + n);
    used += n;
    return bytes;
  };
}
