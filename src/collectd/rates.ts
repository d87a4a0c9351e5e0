import type { DsType, MetricValue } from "../model/mod.ts";

const TWO_32 = 4294967296;
const TWO_64 = 18446744073709551616n;

interface Series {
  time: number;
  values: MetricValue[];
}

/** Options of {@linkcode RateTracker}. */
export interface RateTrackerOptions {
  /** Series not updated for this many seconds (of metric time) are forgotten. Default 3600. */
  expireAfter?: number;
  /** Upper bound on tracked series; beyond it the oldest half is dropped. Default 1 000 000. */
  maxSeries?: number;
}

/**
 * Per-second rates of COUNTER and DERIVE values, with state per series
 * (host/plugin-plugin_instance/type-type_instance, one slot per data source). Pure: time comes
 * from the metrics themselves. A COUNTER that went down wrapped: at 32 bits when the previous
 * value fit in 32 bits, else at 64 bits (collectd's `counter_diff`). DERIVE may go down (negative
 * rate). The first sample of a series, a sample not newer than the last one, GAUGE and ABSOLUTE
 * values give `null`.
 */
export class RateTracker {
  #series = new Map<string, Series>();
  #expireAfter: number;
  #maxSeries: number;
  #lastSweep = 0;

  constructor(options: RateTrackerOptions = {}) {
    this.#expireAfter = options.expireAfter ?? 3600;
    this.#maxSeries = options.maxSeries ?? 1_000_000;
  }

  /** Number of series tracked. */
  get size(): number {
    return this.#series.size;
  }

  /**
   * Fills `rates` (same length as `values`) for the sample of series `key` taken at `time`
   * (seconds), and remembers the sample.
   */
  update(
    key: string,
    time: number,
    values: readonly MetricValue[],
    dstypes: readonly DsType[],
    rates: (number | null)[],
  ): void {
    const n = values.length;
    let s = this.#series.get(key);
    let hasRate = false;
    for (let i = 0; i < n; i++) {
      const t = dstypes[i];
      rates[i] = null;
      if (t === "counter" || t === "derive") hasRate = true;
    }
    if (!hasRate) return;
    if (s === undefined || s.values.length !== n) {
      if (this.#series.size >= this.#maxSeries) this.#trim();
      s = { time, values: values.slice() };
      this.#series.set(key, s);
      this.#sweep(time);
      return;
    }
    const dt = time - s.time;
    if (dt > 0) {
      for (let i = 0; i < n; i++) {
        const t = dstypes[i];
        if (t === "counter") rates[i] = counterDiff(s.values[i]!, values[i]!) / dt;
        else if (t === "derive") rates[i] = deriveDiff(s.values[i]!, values[i]!) / dt;
        s.values[i] = values[i]!;
      }
      s.time = time;
    }
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#expireAfter) return;
    this.#lastSweep = now;
    for (const [k, s] of this.#series) {
      if (now - s.time > this.#expireAfter) this.#series.delete(k);
    }
  }

  #trim(): void {
    let drop = this.#series.size >> 1;
    for (const k of this.#series.keys()) {
      if (drop-- <= 0) break;
      this.#series.delete(k);
    }
  }
}

function counterDiff(prev: MetricValue, cur: MetricValue): number {
  if (typeof prev === "number" && typeof cur === "number") {
    if (cur >= prev) return cur - prev;
    return prev <= TWO_32 - 1 ? TWO_32 - prev + cur : Number(TWO_64 - BigInt(prev) + BigInt(cur));
  }
  const p = BigInt(prev);
  const c = BigInt(cur);
  if (c >= p) return Number(c - p);
  return p <= 4294967295n ? Number(4294967296n - p + c) : Number(TWO_64 - p + c);
}

function deriveDiff(prev: MetricValue, cur: MetricValue): number {
  if (typeof prev === "number" && typeof cur === "number") return cur - prev;
  return Number(BigInt(cur) - BigInt(prev));
}
