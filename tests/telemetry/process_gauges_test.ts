import assert from "node:assert/strict";
import { createCounters } from "../../src/model/mod.ts";
import { registerProcessGauges } from "../../src/telemetry/process_gauges.ts";

Deno.test("registerProcessGauges() sets RSS, heap, start time and uptime, refreshed on demand", () => {
  const c = createCounters();
  let t = 1_700_000_000_000;
  let rss = 50e6;
  const refresh = registerProcessGauges(c, {
    now: () => t,
    memoryUsage: () => ({ rss, heapUsed: 10e6, heapTotal: 20e6, external: 1e6 }),
  });
  const value = (n: string) => c.snapshot().find((s) => s.name === n)?.value;
  assert.equal(value("edge_agent_process_resident_memory_bytes"), 50e6);
  assert.equal(value("edge_agent_process_heap_used_bytes"), 10e6);
  assert.equal(value("edge_agent_process_start_time_seconds"), 1_700_000_000);
  assert.equal(value("edge_agent_process_uptime_seconds"), 0);
  t += 90_000;
  rss = 60e6;
  refresh();
  assert.equal(value("edge_agent_process_resident_memory_bytes"), 60e6);
  assert.equal(value("edge_agent_process_uptime_seconds"), 90);
});

Deno.test("registerProcessGauges() reads the real RSS of this process by default", () => {
  const c = createCounters();
  registerProcessGauges(c);
  const rss = c.snapshot().find((s) => s.name === "edge_agent_process_resident_memory_bytes");
  assert.ok(rss && rss.value > 10e6 && rss.value < 4e9, String(rss?.value));
});
