/**
 * Per-second rates of COUNTER and DERIVE values (collectd's `counter_diff` semantics). Pure (no
 * I/O): the decoder fills `metric.rates` with it, in the agent's tools and in the rule worker.
 * @module
 */
import type { Metric, MetricValue } from "../model/mod.ts";

/** Options of `RateTracker`. */
export interface RateTrackerOptions {
  /** Series not updated for this many seconds (of metric time) are forgotten. Default 3600. */
  expireAfter?: number;
  /**
   * Upper bound on tracked series (a hostile sender can invent series); reaching it forgets
   * every series (rates restart after one sample). Default 250 000 (about 60 MB).
   */
  maxSeries?: number;
}

const TWO_32 = 4294967296;
const TWO_64 = 18446744073709551616n;

interface Series {
  time: number;
  values: MetricValue[];
}
type Level = Map<string, Map<string, unknown>>;

/**
 * Per-second rates of COUNTER and DERIVE values, with state per series
 * (host/plugin-plugin_instance/type-type_instance, one slot per data source). Pure: time comes
 * from the metrics themselves. A COUNTER that went down wrapped: at 32 bits when the previous
 * value fit in 32 bits, else at 64 bits (collectd's `counter_diff`). DERIVE may go down
 * (negative rate). The first sample of a series, a sample not newer than the last one, GAUGE
 * and ABSOLUTE values give `null`.
 */
export class RateTracker {
  // host → plugin → plugin_instance → type → type_instance → series: lookups with the
  // decoder's cached strings (hash computed once), no key string built per value list.
  #root = new Map<string, Level>();
  #size = 0;
  #expireAfter: number;
  #maxSeries: number;
  #lastSweep = 0;

  constructor(options: RateTrackerOptions = {}) {
    this.#expireAfter = options.expireAfter ?? 3600;
    this.#maxSeries = options.maxSeries ?? 250_000;
  }

  /** Number of series tracked. */
  get size(): number {
    return this.#size;
  }

  /**
   * Fills `m.rates` (one slot per value) from the previous sample of the same series, and
   * remembers this one.
   */
  update(m: Metric): void {
    const { values, dstypes, rates, time } = m;
    const n = values.length;
    let hasRate = false;
    for (let i = 0; i < n; i++) {
      const t = dstypes[i];
      rates[i] = null;
      if (t === "counter" || t === "derive") hasRate = true;
    }
    if (!hasRate) return;
    const leaf = this.#leaf(m);
    const s = leaf.get(m.type_instance);
    if (s === undefined || s.values.length !== n) {
      if (this.#size >= this.#maxSeries) this.#trim();
      if (s === undefined) this.#size++;
      leaf.set(m.type_instance, { time, values: values.slice() });
      if (time - this.#lastSweep >= this.#expireAfter) this.#sweep(time);
      return;
    }
    const dt = time - s.time;
    if (dt > 0) {
      for (let i = 0; i < n; i++) {
        const t = dstypes[i];
        let r = NaN;
        if (t === "counter") r = counterDiff(s.values[i]!, values[i]!) / dt;
        else if (t === "derive") r = deriveDiff(s.values[i]!, values[i]!) / dt;
        if (r === r) rates[i] = r; // NaN stays null
        s.values[i] = values[i]!;
      }
      s.time = time;
    }
  }

  // Consecutive value lists of a packet usually share host/plugin/instance/type: remember the
  // last leaf map and reuse it when those four strings are the same.
  #lastKey: [string, string, string, string] = ["", "", "", ""];
  #lastLeaf: Map<string, Series> | null = null;

  #leaf(m: Metric): Map<string, Series> {
    const k = this.#lastKey;
    if (
      this.#lastLeaf !== null && k[0] === m.host && k[1] === m.plugin &&
      k[2] === m.plugin_instance && k[3] === m.type
    ) return this.#lastLeaf;
    const leaf = this.#lookup(m);
    k[0] = m.host, k[1] = m.plugin, k[2] = m.plugin_instance, k[3] = m.type;
    this.#lastLeaf = leaf;
    return leaf;
  }

  #lookup(m: Metric): Map<string, Series> {
    let a = this.#root.get(m.host);
    if (a === undefined) this.#root.set(m.host, a = new Map());
    let b = a.get(m.plugin) as Level | undefined;
    if (b === undefined) a.set(m.plugin, b = new Map());
    let c = b.get(m.plugin_instance) as Level | undefined;
    if (c === undefined) b.set(m.plugin_instance, c = new Map());
    let d = c.get(m.type) as Map<string, Series> | undefined;
    if (d === undefined) c.set(m.type, d = new Map());
    return d;
  }

  /** Forgets series older than expireAfter (walks everything; runs at most once per period). */
  #sweep(now: number): void {
    this.#lastSweep = now;
    this.#lastLeaf = null;
    const walk = (level: Map<string, unknown>, depth: number) => {
      for (const [k, v] of level) {
        if (depth === 4) {
          if (now - (v as Series).time > this.#expireAfter) level.delete(k), this.#size--;
        } else {
          walk(v as Map<string, unknown>, depth + 1);
          if ((v as Map<string, unknown>).size === 0) level.delete(k);
        }
      }
    };
    walk(this.#root, 0);
  }

  /** Over maxSeries: forget everything (simple and bounded; rates restart after one sample). */
  #trim(): void {
    this.#lastLeaf = null;
    this.#root.clear();
    this.#size = 0;
  }
}

// A slot that held a GAUGE before (the sender changed a type's data sources) may hold a
// fraction or NaN: such a pair has no rate (NaN, reported as null).
function counterDiff(prev: MetricValue, cur: MetricValue): number {
  if (typeof prev === "number" && typeof cur === "number") {
    if (cur >= prev) return cur - prev;
    if (!Number.isInteger(prev) || !Number.isInteger(cur)) return NaN;
    return prev <= TWO_32 - 1 ? TWO_32 - prev + cur : Number(TWO_64 - BigInt(prev) + BigInt(cur));
  }
  const p = big(prev);
  const c = big(cur);
  if (p === null || c === null) return NaN;
  if (c >= p) return Number(c - p);
  return p <= 4294967295n ? Number(4294967296n - p + c) : Number(TWO_64 - p + c);
}

function deriveDiff(prev: MetricValue, cur: MetricValue): number {
  if (typeof prev === "number" && typeof cur === "number") return cur - prev;
  const p = big(prev);
  const c = big(cur);
  return p === null || c === null ? NaN : Number(c - p);
}

function big(v: MetricValue): bigint | null {
  return typeof v === "bigint" ? v : Number.isInteger(v) ? BigInt(v) : null;
}
