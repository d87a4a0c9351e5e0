/**
 * Counter rates: collectd's interface plugin reports if_errors as DERIVE counters (rx, tx);
 * the agent computes per-second rates (`metric.rates`).
 */
import type { MetricHandlers } from "./edge-agent.d.ts";

export const metrics = {
  /** More than 100 receive errors/s for 30 s. */
  rx_errors_above_100_per_s_for_30s(metric, ctx) {
    if (metric.plugin !== "interface" || metric.type !== "if_errors") return;
    const rx = metric.rates[0] ?? 0;
    if (ctx.sustained(rx > 100, { seconds: 30 })) return { service: "hello", command: "exec" };
  },
  /** The average transmit error rate over the last 5 minutes is above 10/s. */
  tx_errors_average_above_10_per_s(metric, ctx) {
    if (metric.plugin !== "interface" || metric.type !== "if_errors") return;
    const perSecond = ctx.rate(metric.values[1], { seconds: 300 });
    if (perSecond !== null && perSecond > 10) return { service: "hello", command: "exec" };
  },
} satisfies MetricHandlers;
