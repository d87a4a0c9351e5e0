import assert from "node:assert/strict";
import { createCounters } from "../../src/model/mod.ts";
import { summarize } from "../../src/telemetry/status.ts";

Deno.test("summarize() gives one number per name, summed over labels, without prefix and _total", () => {
  const c = createCounters();
  c.counter("edge_agent_collectd_packets_total", "", { listener: "0" }).inc(4);
  c.counter("edge_agent_collectd_packets_total", "", { listener: "1" }).inc(6);
  c.gauge("edge_agent_mqtt_spool_depth", "").set(2);
  assert.deepEqual(summarize(c.snapshot()), { collectd_packets: 10, mqtt_spool_depth: 2 });
});
