/**
 * Sustained condition with hysteresis: free memory under 50 MB for 3 consecutive samples fires
 * once; it clears (and may fire again) only after 2 samples above 60 MB.
 */
import type { MetricHandlers } from "./edge-agent.d.ts";

const MB = 1024 * 1024;

export const metrics = {
  free_memory_low_for_3_samples(metric, ctx) {
    if (metric.plugin !== "memory" || metric.type_instance !== "free") return;
    const free = Number(metric.values[0]);
    const low = ctx.sustained(free < 50 * MB, {
      samples: 3,
      clear: free > 60 * MB,
      clearSamples: 2,
    });
    if (low) return { service: "hello", command: "exec" };
  },
} satisfies MetricHandlers;
