import assert from "node:assert/strict";
import { channelConfig, startTestAgent } from "../_helpers/channel.ts";
import { Code } from "../../src/model/mod.ts";
import { collect, nowStamp, testClient, until } from "../_helpers/mqtt.ts";
import { startRabbitMq } from "./_rabbitmq.ts";

Deno.test("RabbitMQ's MQTT plugin: commands, results, duplicates and the retained status work, and a QoS 2 config falls back to the granted QoS 1", async () => {
  const broker = await startRabbitMq();
  try {
    for (const qos of [1, 2]) {
      const dir = await Deno.makeTempDir({ prefix: "edge-agent-rabbitmq-agent-" });
      const agent = await startTestAgent(
        channelConfig(broker.address, dir, { QoS: qos, ClientId: `edge-agent-{host}-q${qos}` }),
      );
      const client = await testClient(broker.port);
      try {
        await until(() => agent.channel.connected, "the agent to connect to RabbitMQ", 20_000);
        const results = await collect(client, "result/edge1");
        const status = await collect(client, "status/edge1");
        await until(
          () => status.messages.some((m) => m.status === "online"),
          "the retained online status",
        );
        const task_id = 500 + qos;
        const command = JSON.stringify({
          task_id,
          timestamp: nowStamp(),
          service: "hello",
          command: "exec",
        });
        await client.publishAsync("cmd/edge1", command, { qos: 1 });
        await results.waitFor(1);
        await client.publishAsync("cmd/edge1", command, { qos: 1 });
        await results.waitFor(2);
        assert.deepEqual(results.messages.map((m) => [m.task_id, m.code]), [
          [task_id, 0],
          [task_id, Code.DUPLICATE_TASK],
        ]);
        assert.equal(agent.channel.connected, true, `QoS ${qos}: still connected`);
      } finally {
        await client.endAsync();
        await agent.stop();
        await Deno.remove(dir, { recursive: true });
      }
    }
  } finally {
    await broker.stop();
  }
});
