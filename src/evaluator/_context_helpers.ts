// deno-lint-ignore-file no-explicit-any
/**
 * The arithmetic of the context's stateful helpers (`ctx.sustained`, `ctx.consecutive`,
 * `ctx.rate`, docs/rules.md "Context"): each step reads and updates one helper record, a plain
 * JSON-able object kept in the series record (`_context.ts`), and says whether the record
 * changed so the context can list the series for the next delta.
 *
 * Bundled into the rule worker with `_context.ts` (`scripts/build_sandbox.ts`): it must stay
 * free of imports. Called once per helper call (the hot path): no allocation beyond a new
 * helper's record.
 */

/** Helper kinds. */
export const SUSTAINED = 0, CONSECUTIVE = 1, RATE = 2;

/** A new helper record of `kind`. */
export function newHelper(kind: number): any {
  return kind === SUSTAINED
    ? { a: 0, n: 0, t: 0, cn: 0, ct: 0 }
    : kind === CONSECUTIVE
    ? { n: 0 }
    : { s: [] as number[] };
}

/**
 * One sample of a sustained latch at sample time `time`: updates `h`; returns whether it
 * changed (the latch's answer is then `h.a === 1`).
 */
export function stepSustained(h: any, condition: boolean, options: any, time: number): boolean {
  const samples = options.samples ?? (options.seconds === undefined ? 1 : 0);
  const seconds = options.seconds ?? 0;
  const clearSamples = options.clearSamples ?? (options.clearSeconds === undefined ? 1 : 0);
  const clearSeconds = options.clearSeconds ?? 0;
  let a = h.a, n = h.n, t = h.t, cn = h.cn, ct = h.ct;
  // The counts stop at what the decision needs (so a steady condition changes nothing).
  if (condition) {
    if (n === 0) t = time;
    if (n < samples || n === 0) n++;
    if (!a && n >= samples && time - t >= seconds) a = 1;
  } else {
    n = 0;
  }
  // Clearing: by default when the condition is false; with `clear`, only when that holds
  // (a hysteresis band: fire under 50 MB, clear only above 60 MB).
  const clearing = options.clear === undefined ? !condition : options.clear === true;
  if (clearing) {
    if (cn === 0) ct = time;
    if (cn < clearSamples || cn === 0) cn++;
    if (a && cn >= clearSamples && time - ct >= clearSeconds) a = 0;
  } else cn = 0;
  if (a === h.a && n === h.n && t === h.t && cn === h.cn && ct === h.ct) return false;
  h.a = a, h.n = n, h.t = t, h.cn = cn, h.ct = ct;
  return true;
}

/** One sample of a consecutive count: updates `h`; returns whether it changed (`h.n` is the count). */
export function stepConsecutive(h: any, condition: boolean): boolean {
  if (condition) {
    h.n++;
    return true;
  }
  if (h.n === 0) return false;
  h.n = 0;
  return true;
}

/**
 * Adds sample `value` (not null) at `time` to the rate window of `h` (the record always
 * changes); returns the per-second increase over the last `seconds`, or null (fewer than two
 * samples, no time between them, or a counter reset).
 */
export function stepRate(h: any, value: number | bigint, seconds: number, time: number) {
  const s: number[] = h.s;
  s.push(time, Number(value));
  let from = 0;
  while (from + 2 < s.length && time - s[from]! > seconds) from += 2;
  if (from > 0) s.splice(0, from);
  if (s.length < 4) return null;
  const dt = s[s.length - 2]! - s[0]!;
  if (dt <= 0) return null;
  const dv = s[s.length - 1]! - s[1]!;
  return dv < 0 ? null : dv / dt;
}

/** Whether a series record (or undefined) holds an active `sustained` latch. */
export function holdsLatch(series: any): boolean {
  if (series === undefined) return false;
  for (const id in series.h) if (series.h[id].a === 1) return true;
  return false;
}
