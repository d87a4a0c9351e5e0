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

/**
 * Most label sets one name may have. Labels name things the agent knows (configured services,
 * rule handlers, fixed reasons), and input that names anything else is mapped to one value
 * where it enters; this is the backstop: beyond it, new label sets share one series whose
 * every label value is {@linkcode OVERFLOW_LABEL}, so no input can grow /metrics without bound.
 */
export const MAX_SERIES_PER_NAME = 1000;
/** The label value of the shared series beyond {@linkcode MAX_SERIES_PER_NAME}. */
export const OVERFLOW_LABEL = "_overflow";

/** A plain in-memory implementation (the default; also what tests use). */
export function createCounters(): Counters {
  const series = new Map<string, CounterSample>();
  const perName = new Map<string, number>();
  const get = (
    kind: "counter" | "gauge",
    name: string,
    help: string,
    labels: Record<string, string> = {},
  ) => {
    let id = name + JSON.stringify(labels);
    let s = series.get(id);
    if (!s) {
      const n = perName.get(name) ?? 0;
      if (n >= MAX_SERIES_PER_NAME && Object.keys(labels).length > 0) {
        labels = Object.fromEntries(Object.keys(labels).map((k) => [k, OVERFLOW_LABEL]));
        id = name + JSON.stringify(labels);
        s = series.get(id);
        if (s) return s;
      }
      s = { name, help, kind, labels, value: 0 };
      series.set(id, s);
      perName.set(name, n + 1);
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
