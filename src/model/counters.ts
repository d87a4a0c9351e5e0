/**
 * The agent's own figures (counters and gauges), registered by every stage and exposed later as
 * Prometheus text, in the MQTT status message and as collectd values. Names follow Prometheus
 * conventions: `edge_agent_<stage>_<what>_total` for counters.
 *
 * Hot paths keep the returned handle and call `inc()` on it: no allocation per call.
 */
export interface Counter {
  inc(n?: number): void;
  readonly value: number;
}

export interface Gauge {
  set(v: number): void;
  readonly value: number;
}

export interface Counters {
  /** A counter; `labels` (e.g. `{ reason: "bad_signature" }`) make a separate series. */
  counter(name: string, help: string, labels?: Record<string, string>): Counter;
  gauge(name: string, help: string, labels?: Record<string, string>): Gauge;
  /** Every series: name, labels, help, kind, current value. */
  snapshot(): CounterSample[];
}

export interface CounterSample {
  name: string;
  help: string;
  kind: "counter" | "gauge";
  labels: Record<string, string>;
  value: number;
}

/** A plain in-memory implementation (the default; also what tests use). */
export function createCounters(): Counters {
  const series = new Map<string, CounterSample>();
  const get = (
    kind: "counter" | "gauge",
    name: string,
    help: string,
    labels: Record<string, string> = {},
  ) => {
    const id = name + JSON.stringify(labels);
    let s = series.get(id);
    if (!s) {
      s = { name, help, kind, labels, value: 0 };
      series.set(id, s);
    }
    return s;
  };
  return {
    counter(name, help, labels) {
      const s = get("counter", name, help, labels);
      return {
        inc(n = 1) {
          s.value += n;
        },
        get value() {
          return s.value;
        },
      };
    },
    gauge(name, help, labels) {
      const s = get("gauge", name, help, labels);
      return {
        set(v) {
          s.value = v;
        },
        get value() {
          return s.value;
        },
      };
    },
    snapshot: () => [...series.values()].map((s) => ({ ...s, labels: { ...s.labels } })),
  };
}
