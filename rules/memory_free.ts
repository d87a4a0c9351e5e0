/**
 * lua-collectd-monitor's example (conf/collectd/monitor/local/example.lua), ported: run
 * "hello/exec" from config.json when free memory is at or under 10 GB.
 *
 * Metric example: { host: "localhost", plugin: "memory", plugin_instance: "", type: "memory",
 * type_instance: "free", time: 1610019177.98, interval: 10, values: [954068992],
 * dstypes: ["gauge"], dsnames: ["value"], rates: [null] }
 */
import type { MetricHandlers } from "./edge-agent.d.ts";

const THRESHOLD = 10 * 1000 * 1000 * 1000; // bytes

export const metrics = {
  memory_free_is_under_10GB: {
    // Called only for the memory plugin's values (the agent skips it for every other one).
    plugin: "memory",
    handle(metric) {
      if (metric.type_instance === "free" && Number(metric.values[0]) <= THRESHOLD) {
        // Return the service and command names defined in config.json.
        return { service: "hello", command: "exec" };
      }
      // Nothing to do: return nothing.
    },
  },
} satisfies MetricHandlers;
