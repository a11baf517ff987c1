/** Maps a Nix DB row id (ValidPaths.id) to the dense index of that row in a DB index (pure). */

/**
 * Rows are read in id order, so `rowIds` is ascending and the index of an id is found by binary search, with a
 * fast path for the common case of ids without gaps. Returns -1 for an id not in `rowIds`.
 */
export function indexOfRowId(rowIds: Uint32Array, count: number, id: number): number {
  if (count === 0) return -1;
  const guess = id - (rowIds[0] as number);
  if (guess >= 0 && guess < count && rowIds[guess] === id) return guess;
  let low = 0;
  let high = count - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const value = rowIds[mid] as number;
    if (value === id) return mid;
    if (value < id) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}
