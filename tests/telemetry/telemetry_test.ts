import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { createCounters } from "../../src/model/mod.ts";
import { createTelemetry } from "../../src/telemetry/mod.ts";
import { memoryLogger } from "./_logger.ts";

function settings(json: Record<string, unknown>) {
  return parseConfig(JSON.stringify({ Telemetry: json }), "/tmp/config.json").config.Telemetry;
}

Deno.test("createTelemetry() serves /metrics and a /healthz fed by the lead's extra checks", async () => {
  const counters = createCounters();
  const packets = counters.counter("edge_agent_collectd_packets_total", "packets", {
    listener: "0",
  });
  let workersUp = true;
  const t = createTelemetry(settings({ Listen: "127.0.0.1:0" }), {
    counters,
    logger: memoryLogger().logger,
    hostName: "edge1",
    checks: {
      "rule workers up": () => ({ ok: workersUp, detail: workersUp ? "2 workers" : "none" }),
    },
  });
  await t.start();
  try {
    const base = `http://127.0.0.1:${t.addr!.port}`;
    packets.inc();
    const ok = await fetch(`${base}/healthz`);
    assert.equal(ok.status, 200);
    const body = await ok.json();
    assert.deepEqual(Object.keys(body.checks), ["listener receiving", "rule workers up"]);
    assert.equal(
      body.checks["rule workers up"].detail,
      "2 workers",
      "the lead's check replaces the built-in",
    );
    workersUp = false;
    const down = await fetch(`${base}/healthz`);
    assert.equal(down.status, 503);
    assert.equal((await down.json()).checks["rule workers up"].detail, "none");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^edge_agent_collectd_packets_total\{listener="0"\} 1$/m);
    assert.match(metrics, /^edge_agent_process_resident_memory_bytes \d{7,}$/m);
  } finally {
    await t.stop();
  }
});

Deno.test("createTelemetry() without Listen opens no endpoint and still gives status()", async () => {
  const counters = createCounters();
  counters.counter("edge_agent_commands_received_total", "", { code: "0" }).inc(3);
  const t = createTelemetry(settings({}), {
    counters,
    logger: memoryLogger().logger,
    hostName: "h",
  });
  await t.start();
  assert.equal(t.addr, undefined);
  const s = t.status();
  assert.equal(s.commands_received, 3);
  assert.ok(s.process_resident_memory_bytes! > 1e6);
  assert.equal(t.health().ok, true, "within the start-up window");
  await t.stop();
});

Deno.test("config: Telemetry keys have defaults, are strict, and refuse a bad Listen", () => {
  assert.deepEqual(settings({}), { HealthWindow: 60, CollectdServers: [], CollectdInterval: 10 });
  assert.deepEqual(settings({ CollectdServers: [{ Host: "10.0.0.1" }] }).CollectdServers, [
    { Host: "10.0.0.1", Port: 25826, SecurityLevel: "None" },
  ]);
  assert.throws(() => settings({ Listen: "9102" }), /Telemetry\.Listen: expected host:port/);
  assert.throws(() => settings({ Listen: "localhost:70000" }), /port must be at most 65535/);
  assert.throws(
    () => settings({ Lisen: "a:1" }),
    /Telemetry\.Lisen: unknown key \(did you mean "Listen"\?\)/,
  );
  assert.throws(
    () => settings({ CollectdServers: [{ Host: "a", SecurityLevel: "Sign" }] }),
    /needs a Username and a Password/,
  );
});

Deno.test("createTelemetry()'s rule check fails while the rule stage drops packets (rule host down)", () => {
  const counters = createCounters();
  const drops = counters.counter("edge_agent_rules_dropped_packets_total", "");
  const t = createTelemetry(settings({ HealthWindow: 60 }), {
    counters,
    logger: memoryLogger().logger,
    hostName: "h",
  });
  assert.equal(t.health().checks["rule workers up"]!.ok, true);
  drops.inc(5);
  const r = t.health();
  assert.equal(r.ok, false);
  assert.match(r.checks["rule workers up"]!.detail, /^packets dropped by the rule stage/);
});
