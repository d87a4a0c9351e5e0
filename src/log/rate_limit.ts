/** Options of {@linkcode rateLimited}. */
export interface RateLimitOptions {
  /** Minimum milliseconds between two emitted events per key. Default 10 000. */
  intervalMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * Wraps `emit` so that each key emits at most once per interval; the next emission reports how
 * many were suppressed meanwhile. For log lines driven by untrusted input (bad packets per source).
 */
export function rateLimited(
  emit: (key: string, suppressed: number) => void,
  options: RateLimitOptions = {},
): (key: string) => void {
  const interval = options.intervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  const state = new Map<string, { last: number; suppressed: number }>();
  return (key) => {
    const t = now();
    const s = state.get(key);
    if (s && t - s.last < interval) {
      s.suppressed++;
      return;
    }
    if (state.size > 10_000) state.clear(); // bounded under a flood of distinct keys
    state.set(key, { last: t, suppressed: 0 });
    emit(key, s?.suppressed ?? 0);
  };
}
