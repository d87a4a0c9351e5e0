/**
 * Finds the one item that makes a probe fail, by bisection: `fails(subset)` runs the probe with
 * only `subset` (true: it failed, false: it worked, null: the probe could not run). Null when the
 * failure does not follow one item: the probe fails with none of them too, or not with the item
 * found alone (it takes several together), or a probe could not run.
 */
export async function bisect<T>(
  candidates: readonly T[],
  fails: (subset: T[]) => Promise<boolean | null>,
): Promise<T | null> {
  if ((await fails([])) !== false) return null;
  let left = [...candidates];
  while (left.length > 1) {
    const half = left.slice(0, Math.ceil(left.length / 2));
    const failed = await fails(half);
    if (failed === null) return null;
    left = failed ? half : left.slice(half.length);
  }
  const culprit = left[0];
  return culprit !== undefined && (await fails([culprit])) === true ? culprit : null;
}
