/** Data source types of a collectd value list, as named in types.db. */
export type DsType = "counter" | "gauge" | "derive" | "absolute";

/**
 * A 64-bit counter value: a `number` when it fits in 2^53 without loss, a `bigint` otherwise
 * (COUNTER, ABSOLUTE and DERIVE values beyond Number.MAX_SAFE_INTEGER). GAUGE values are always
 * numbers.
 */
export type MetricValue = number | bigint;

/**
 * One collectd value list, shaped like lua-collectd-monitor's metric table so rules port over.
 * `time` and `interval` are seconds (float).
 */
export interface Metric {
  host: string;
  plugin: string;
  plugin_instance: string;
  type: string;
  type_instance: string;
  time: number;
  interval: number;
  values: MetricValue[];
  dstypes: DsType[];
  dsnames: string[];
  /**
   * Per-second rates for COUNTER and DERIVE values (null for GAUGE/ABSOLUTE, and for the first
   * sample of a series); counter wrap-around is handled.
   */
  rates: (number | null)[];
}

/** collectd notification severities. */
export const Severity = { FAILURE: 1, WARNING: 2, OKAY: 4 } as const;
export type Severity = typeof Severity[keyof typeof Severity];

/** One collectd notification. */
export interface Notification {
  host: string;
  plugin: string;
  plugin_instance: string;
  type: string;
  type_instance: string;
  time: number;
  severity: Severity;
  message: string;
}
