import type { MetricsSeen } from "./_restart.ts";

/**
 * A {@linkcode MetricsSeen} for the collectd intake: call `saw(host)` for each decoded value list
 * (no allocation: one Map update per known host).
 */
export function createMetricsProbe(now: () => number = Date.now): {
  saw(host: string): void;
  seen: MetricsSeen;
} {
  const last = new Map<string, number>();
  let any = -Infinity;
  return {
    saw(host) {
      any = now();
      last.set(host, any);
    },
    seen: (sinceMs, host) =>
      Promise.resolve((host === undefined ? any : last.get(host) ?? -Infinity) >= sinceMs),
  };
}
