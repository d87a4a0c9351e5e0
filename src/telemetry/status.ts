import type { CounterSample } from "../model/mod.ts";

/**
 * A compact summary of the agent's figures for the MQTT status message: one number per metric
 * name, summed over its labels, keyed by the name without the `edge_agent_` prefix and the
 * `_total` suffix (`edge_agent_collectd_packets_total{listener="0"}` → `collectd_packets`).
 * Gauges are summed too (e.g. spool depth over all spools).
 */
export function summarize(samples: readonly CounterSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    const key = s.name.replace(/^edge_agent_/, "").replace(/_total$/, "");
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}
