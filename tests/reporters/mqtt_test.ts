import assert from "node:assert/strict";
import { channelConfig, startTestAgent, type TestAgent } from "../_helpers/channel.ts";
import { freeTcpPort } from "../_helpers/ports.ts";
import { collect, testClient, until } from "../_helpers/mqtt.ts";
import { startMosquitto } from "../_helpers/mosquitto.ts";
import { reporterContract, sampleRecords } from "./contract.ts";

async function fixture(brokerUp: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-mqtt-reporter-" });
  const broker = brokerUp ? await startMosquitto() : undefined;
  const address = broker?.address ?? `127.0.0.1:${freeTcpPort()}`;
  const agent: TestAgent = await startTestAgent(channelConfig(address, dir));
  if (broker) await until(() => agent.channel.connected, "the channel to connect");
  return {
    agent,
    broker,
    reporter: agent.channel.reporter,
    cleanup: async () => {
      await agent.stop();
      await broker?.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

// Only records of remote commands are published (see src/reporters/mqtt.ts), so the suite's
// "delivered" count (every record) does not apply; the test below checks what reaches the broker.
reporterContract("createMqttChannel().reporter", {
  make: () => fixture(true),
  makeBroken: () => fixture(false),
});

Deno.test("the MQTT reporter publishes remote commands' results once, in the Lua format, and skips rule and CLI runs", async () => {
  const f = await fixture(true);
  const client = await testClient(f.broker!.port);
  try {
    const results = await collect(client, "result/edge1");
    const records = sampleRecords();
    for (const r of records) await f.reporter.report(r);
    await f.reporter.report(records[1]!);
    await results.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(results.messages, [
      { task_id: "a-7", timestamp: "2026-11-23T12:00:00Z", message: "Job failed", code: 1 },
    ]);
  } finally {
    await client.endAsync();
    await f.cleanup();
  }
});
