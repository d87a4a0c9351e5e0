import assert from "node:assert/strict";
import { createIntake, encodeValueList } from "../../src/collectd/mod.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { createCounters } from "../../src/model/mod.ts";
import { createTelemetry } from "../../src/telemetry/mod.ts";
import { memoryLogger } from "./_logger.ts";

Deno.test("with the real intake, /metrics counts a UDP packet and /healthz turns 503 when packets stop", async () => {
  const counters = createCounters();
  const { logger } = memoryLogger();
  const { config } = parseConfig(
    JSON.stringify({
      Listen: [{ Host: "127.0.0.1", Port: 1 }],
      Telemetry: { Listen: "127.0.0.1:0", HealthWindow: 0.3 },
    }),
    "/tmp/config.json",
  );
  const intake = createIntake([{ ...config.Listen[0]!, Port: 0 }], {
    logger,
    counters,
    onPacket: () => {},
  });
  const telemetry = createTelemetry(config.Telemetry, { counters, logger, hostName: "h" });
  await intake.start();
  await telemetry.start();
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const base = `http://127.0.0.1:${telemetry.addr!.port}`;
    const packet = encodeValueList({
      host: "h",
      plugin: "load",
      plugin_instance: "",
      type: "load",
      type_instance: "",
      time: 1_700_000_000,
      interval: 1,
      values: [0.5, 0.4, 0.3],
      dstypes: ["gauge", "gauge", "gauge"],
    });
    await sock.send(packet, {
      transport: "udp",
      hostname: "127.0.0.1",
      port: intake.bound[0]!.port,
    });
    let metrics = "";
    for (let i = 0; i < 50 && !/edge_agent_collectd_packets_total 1$/m.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 20));
      metrics = await (await fetch(`${base}/metrics`)).text();
    }
    assert.match(metrics, /^edge_agent_collectd_packets_total 1$/m);
    assert.match(metrics, /^edge_agent_collectd_values_total 3$/m);
    const up = await fetch(`${base}/healthz`);
    assert.equal(up.status, 200);
    await up.body?.cancel();
    await new Promise((r) => setTimeout(r, 450));
    const down = await fetch(`${base}/healthz`);
    assert.equal(down.status, 503);
    assert.match(
      (await down.json()).checks["listener receiving"].detail,
      /^no collectd packets for/,
    );
  } finally {
    sock.close();
    await telemetry.stop();
    await intake.stop();
  }
});
