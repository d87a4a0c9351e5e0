import type { Counters } from "../model/mod.ts";

/** The outcome of one health check; `detail` is for a human reading `/healthz`. */
export interface CheckResult {
  ok: boolean;
  detail: string;
}

/** What `/healthz` reports: healthy only when every check is. */
export interface HealthReport {
  ok: boolean;
  checks: Record<string, CheckResult>;
}

/** A named check run on every `/healthz` request (must be quick; may throw = failed). */
export type HealthCheck = () => CheckResult;

/** Runs every check; one that throws fails with its error message as detail. */
export function combineChecks(checks: Record<string, HealthCheck>): () => HealthReport {
  return () => {
    const results: Record<string, CheckResult> = {};
    let ok = true;
    for (const [name, check] of Object.entries(checks)) {
      let r: CheckResult;
      try {
        r = check();
      } catch (e) {
        r = { ok: false, detail: `check failed: ${(e as Error).message}` };
      }
      results[name] = r;
      ok &&= r.ok;
    }
    return { ok, checks: results };
  };
}

/** Options of {@linkcode activityCheck}. */
export interface ActivityCheckOptions {
  /** Milliseconds without movement after which the check fails. */
  windowMs: number;
  /** What is moving, for the detail text (e.g. "collectd packets"). */
  what: string;
  /** Milliseconds (monotonic). Default: `performance.now`. */
  now?: () => number;
}

/**
 * A check that passes while `read()` (e.g. a packet counter) has changed within the last
 * `windowMs`. It passes during the first window after creation (start-up grace), then fails
 * until the value moves again.
 */
export function activityCheck(read: () => number, options: ActivityCheckOptions): HealthCheck {
  const now = options.now ?? performance.now.bind(performance);
  let last = read();
  let movedAt = now();
  let moved = false;
  return () => {
    const v = read();
    const t = now();
    if (v !== last) {
      last = v;
      movedAt = t;
      moved = true;
    }
    const idle = t - movedAt;
    const seconds = (idle / 1000).toFixed(1);
    if (idle <= options.windowMs) {
      return {
        ok: true,
        detail: moved ? `${options.what}: last seen ${seconds} s ago` : `${options.what}: starting`,
      };
    }
    return {
      ok: false,
      detail: `no ${options.what} for ${seconds} s (limit ${options.windowMs / 1000} s)`,
    };
  };
}

/** Options of {@linkcode stallCheck}. */
export interface StallCheckOptions {
  /** Milliseconds work may wait before the check fails. */
  windowMs: number;
  /** What does the work, for the detail text (e.g. "rule evaluations"). */
  what: string;
  /** When false, no work can be done (e.g. no rule handler loaded): the check passes. */
  active?: () => boolean;
  now?: () => number;
}

/**
 * A check that fails when work keeps arriving (`input` moves, e.g. accepted values) but is not
 * being done (`output`, e.g. rule evaluations, has not moved for `windowMs` since). Passes when
 * nothing arrives, and while `active()` is false.
 */
export function stallCheck(
  input: () => number,
  output: () => number,
  options: StallCheckOptions,
): HealthCheck {
  const now = options.now ?? performance.now.bind(performance);
  let lastIn = input();
  let lastOut = output();
  let inAt = -Infinity;
  let outAt = now();
  return () => {
    const t = now();
    const i = input();
    const o = output();
    if (i !== lastIn) [lastIn, inAt] = [i, t];
    if (o !== lastOut) [lastOut, outAt] = [o, t];
    if (options.active && !options.active()) {
      outAt = t; // nothing to run is not a stall: the window starts again when work returns
      return { ok: true, detail: `${options.what}: nothing to run` };
    }
    const waiting = inAt - outAt;
    if (waiting > options.windowMs) {
      return {
        ok: false,
        detail: `input keeps arriving but no ${options.what} for ${
          ((t - outAt) / 1000).toFixed(1)
        } s`,
      };
    }
    return {
      ok: true,
      detail: `${options.what}: last seen ${((t - outAt) / 1000).toFixed(1)} s ago`,
    };
  };
}

/** Options of {@linkcode quietCheck}. */
export interface QuietCheckOptions {
  /** Milliseconds the value must have stayed unchanged. */
  windowMs: number;
  /** The detail when it moved (e.g. "packets dropped by the rule stage"). */
  what: string;
  now?: () => number;
}

/**
 * A check that fails while `read()` (e.g. a drop counter) has changed within the last `windowMs`,
 * and passes once it stayed still that long.
 */
export function quietCheck(read: () => number, options: QuietCheckOptions): HealthCheck {
  const now = options.now ?? performance.now.bind(performance);
  let last = read();
  let movedAt = -Infinity;
  return () => {
    const v = read();
    const t = now();
    if (v !== last) [last, movedAt] = [v, t];
    if (t - movedAt <= options.windowMs) {
      return { ok: false, detail: `${options.what} ${((t - movedAt) / 1000).toFixed(1)} s ago` };
    }
    return { ok: true, detail: `no ${options.what} within ${options.windowMs / 1000} s` };
  };
}

/**
 * The sum of every series of `name` in `counters` (all label combinations), e.g. all packets
 * whatever listener received them. Allocates a snapshot: for checks and summaries, not hot paths.
 */
export function totalOf(counters: Counters, name: string): number {
  let sum = 0;
  for (const s of counters.snapshot()) if (s.name === name) sum += s.value;
  return sum;
}
