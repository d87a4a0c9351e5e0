import assert from "node:assert/strict";
import { join } from "node:path";
import type mqtt from "mqtt";
import { collect, nowStamp, testClient, until } from "../_helpers/mqtt.ts";
import { type Mosquitto, startMosquitto } from "../_helpers/mosquitto.ts";
import { channelConfig, startTestAgent } from "../_helpers/channel.ts";

const SLOTS = 4;

for (const qos of [1, 2] as const) {
  Deno.test(`QoS ${qos}: killing the agent's broker while commands run fails over to the next one and back; every command gets exactly one result and runs once`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "edge-agent-failover-" });
    const brokers: Mosquitto[] = [await startMosquitto(), await startMosquitto()];
    const [a, b] = brokers as [Mosquitto, Mosquitto];
    const services: Record<string, unknown> = {};
    for (let i = 0; i < SLOTS; i++) {
      services[`s${i}`] = {
        commands: {
          run: {
            Argv: ["/bin/sh", "-c", `echo run >> ${join(dir, `runs-${i}`)}; sleep 0.4; echo ok`],
          },
        },
      };
    }
    const config = channelConfig([a.address, b.address], dir, {
      QoS: qos,
      Services: services,
    });
    const agent = await startTestAgent(config);
    const clients: mqtt.MqttClient[] = [];
    const seen = new Map<number, Record<string, unknown>[]>();
    let nextTask = 1;
    const runs = async () => {
      let n = 0;
      for (let i = 0; i < SLOTS; i++) {
        n += (await Deno.readTextFile(join(dir, `runs-${i}`)).catch(() => "")).split("\n").length -
          1;
      }
      return n;
    };
    async function watch(broker: Mosquitto) {
      const c = await testClient(broker.port);
      clients.push(c);
      const results = await collect(c, "result/edge1");
      c.on("message", () => {
        for (const m of results.messages.splice(0)) {
          const list = seen.get(m.task_id as number) ?? [];
          list.push(m);
          seen.set(m.task_id as number, list);
        }
      });
      return c;
    }
    /** Publishes one command per slot to `client`; resolves once all started running. */
    async function burst(client: mqtt.MqttClient): Promise<number[]> {
      const before = await runs();
      const ids: number[] = [];
      for (let i = 0; i < SLOTS; i++) {
        const task_id = nextTask++;
        ids.push(task_id);
        await client.publishAsync(
          "cmd/edge1",
          JSON.stringify({ task_id, timestamp: nowStamp(), service: `s${i}`, command: "run" }),
          { qos },
        );
      }
      const end = Date.now() + 10_000;
      while ((await runs()) < before + SLOTS) {
        if (Date.now() > end) throw new Error("commands did not start");
        await new Promise((r) => setTimeout(r, 10));
      }
      return ids;
    }
    const allDone = (ids: number[]) => () => ids.every((id) => seen.has(id));
    try {
      await until(
        () => agent.channel.broker === a.address,
        "the agent to connect to the first broker",
      );
      const onA = await watch(a);
      await watch(b);
      const first = await burst(onA);
      await a.kill();
      await until(allDone(first), "results of the commands in flight", 15_000);
      assert.equal(agent.channel.broker, b.address);

      const onB = clients[1]!;
      const second = await burst(onB);
      await until(allDone(second), "results on the second broker", 15_000);

      // The first broker comes back; the second one dies: the agent goes back to the first.
      brokers.push(await startMosquitto({ port: a.port }));
      const back = await watch(brokers[2]!);
      await b.kill();
      await until(
        () => agent.channel.broker === a.address,
        "the agent to return to the first broker",
        15_000,
      );
      const fourth = await burst(back);
      await until(allDone(fourth), "results after returning to the first broker", 15_000);

      const ids = [...first, ...second, ...fourth];
      for (const id of ids) {
        assert.equal(seen.get(id)?.length, 1, `task ${id}: ${JSON.stringify(seen.get(id))}`);
        assert.equal(seen.get(id)![0]!.code, 0, `task ${id}: ${JSON.stringify(seen.get(id))}`);
      }
      assert.equal(await runs(), ids.length);
      const figure = (name: string) =>
        agent.counters.snapshot().find((c) => c.name === name)?.value;
      assert.equal(figure("edge_agent_mqtt_failovers_total"), 2, "A → B, then B → A");
      assert.equal(figure("edge_agent_mqtt_connected"), 1);
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await agent.stop();
      for (const broker of brokers) await broker.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
