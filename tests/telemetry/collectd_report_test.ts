import assert from "node:assert/strict";
import { decodePacket, parseAuthFile, unwrapPacket } from "../../src/collectd/mod.ts";
import type { Metric } from "../../src/model/mod.ts";
import { createCounters } from "../../src/model/mod.ts";
import {
  type CollectdTarget,
  createCollectdReport,
  packFor,
  toValueList,
} from "../../src/telemetry/collectd_report.ts";
import { memoryLogger } from "./_logger.ts";

function decodeAll(packets: Uint8Array[]): Metric[] {
  const metrics: Metric[] = [];
  for (const p of packets) {
    decodePacket(p, { metric: (m) => metrics.push(m), notification: () => {} });
  }
  return metrics;
}

Deno.test("toValueList() maps a labelled counter to edge-agent-<stage>/derive-<what>-<labels>", () => {
  const v = toValueList(
    {
      name: "edge_agent_collectd_dropped_total",
      help: "",
      kind: "counter",
      labels: { reason: "bad_signature" },
      value: 12.7,
    },
    "web1",
    1000,
    10,
  );
  assert.deepEqual(v, {
    host: "web1",
    plugin: "edge-agent",
    plugin_instance: "collectd",
    type: "derive",
    type_instance: "dropped-bad_signature",
    time: 1000,
    interval: 10,
    values: [12],
    dstypes: ["derive"],
  });
  const g = toValueList(
    {
      name: "edge_agent_process_resident_memory_bytes",
      help: "",
      kind: "gauge",
      labels: {},
      value: 5.5,
    },
    "web1",
    1000,
    10,
  );
  assert.equal(g.plugin_instance, "process");
  assert.equal(g.type, "gauge");
  assert.equal(g.type_instance, "resident_memory_bytes");
  assert.deepEqual(g.values, [5.5]);
});

Deno.test("toValueList() cuts a type_instance to collectd's 127-byte limit", () => {
  const v = toValueList(
    {
      name: "edge_agent_rules_errors_total",
      help: "",
      kind: "counter",
      labels: { rule: "x".repeat(300) },
      value: 1,
    },
    "h",
    0,
    10,
  );
  assert.equal(v.type_instance.length, 127);
});

Deno.test("packFor() packs many figures into datagrams of at most 1452 bytes that decode back", () => {
  const c = createCounters();
  for (let i = 0; i < 200; i++) {
    c.counter("edge_agent_rules_evaluations_total", "", { rule: `r${i}` }).inc(i);
  }
  const lists = c.snapshot().map((s) => toValueList(s, "web1", 1_700_000_000, 10));
  const packets = packFor({ Host: "h", Port: 1, SecurityLevel: "None" }, lists);
  assert.ok(packets.length > 1);
  for (const p of packets) assert.ok(p.length <= 1452, String(p.length));
  const metrics = decodeAll(packets);
  assert.equal(metrics.length, 200);
  assert.equal(metrics[150]!.type_instance, "evaluations-r150");
  assert.equal(metrics[150]!.values[0], 150);
  assert.equal(metrics[150]!.dstypes[0], "derive");
});

Deno.test("packFor() signs for SecurityLevel Sign so a Sign listener accepts the datagrams", () => {
  const target: CollectdTarget = {
    Host: "h",
    Port: 1,
    SecurityLevel: "Sign",
    Username: "agent",
    Password: "s3cret",
  };
  const c = createCounters();
  for (let i = 0; i < 100; i++) c.gauge("edge_agent_x_g", "", { i: String(i) }).set(i);
  const lists = c.snapshot().map((s) => toValueList(s, "web1", 1_700_000_000, 10));
  const users = parseAuthFile("agent: s3cret\n");
  let accepted = 0;
  let dropped = 0;
  for (const p of packFor(target, lists)) {
    assert.ok(p.length <= 1452, String(p.length));
    unwrapPacket(p, "Sign", users, {
      segment: (_plain, values) => void (accepted += values),
      drop: () => void dropped++,
    }, []);
  }
  assert.equal(dropped, 0);
  assert.equal(accepted, 100);
});

Deno.test("createCollectdReport() sends the figures over real UDP and counts what it sent", async () => {
  const receiver = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (receiver.addr as Deno.NetAddr).port;
  const counters = createCounters();
  counters.counter("edge_agent_collectd_packets_total", "", { listener: "0" }).inc(99);
  let refreshed = 0;
  const report = createCollectdReport({
    servers: [{ Host: "127.0.0.1", Port: port, SecurityLevel: "None" }],
    counters,
    logger: memoryLogger().logger,
    hostName: "edge1",
    intervalS: 3600,
    beforeReport: () => void refreshed++,
    now: () => 1_700_000_000,
  });
  await report.start();
  try {
    await report.reportNow();
    const [bytes] = await receiver.receive();
    const metrics = decodeAll([bytes]);
    const packets = metrics.find((m) => m.type_instance === "packets-0");
    assert.ok(packets, JSON.stringify(metrics));
    assert.equal(packets.host, "edge1");
    assert.equal(packets.plugin, "edge-agent");
    assert.equal(packets.plugin_instance, "collectd");
    assert.equal(packets.values[0], 99);
    assert.equal(packets.time, 1_700_000_000);
    assert.equal(refreshed, 1);
    const sent = counters.snapshot().find((s) =>
      s.name === "edge_agent_telemetry_collectd_packets_total"
    );
    assert.equal(sent?.value, 1);
  } finally {
    await report.stop();
    receiver.close();
  }
});

Deno.test("createCollectdReport() counts and logs a failing server once, and keeps reporting", async () => {
  const counters = createCounters();
  counters.gauge("edge_agent_g", "").set(1);
  const { events, logger } = memoryLogger();
  let calls = 0;
  const report = createCollectdReport({
    servers: [{ Host: "collectd.invalid", Port: 25826, SecurityLevel: "None" }],
    counters,
    logger,
    hostName: "edge1",
    intervalS: 10,
    send: () => {
      calls++;
      return Promise.reject(new Error("network unreachable"));
    },
  });
  await report.reportNow();
  await report.reportNow();
  await report.stop();
  assert.equal(calls, 2);
  const errors = counters.snapshot().find((s) =>
    s.name === "edge_agent_telemetry_collectd_send_errors_total"
  );
  assert.equal(errors?.value, 2);
  const warnings = events.filter((e) => e.msg === "cannot send own figures to collectd server");
  assert.equal(warnings.length, 1);
  assert.match(
    String(warnings[0]!.fields?.server),
    /collectd\.invalid:25826 \(network unreachable\)/,
  );
});
