import assert from "node:assert/strict";
import { createAgent } from "../../src/agent.ts";
import { encodeValueList } from "../../src/collectd/mod.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { defaultHostCommand } from "../../src/evaluator/mod.ts";
import { Code } from "../../src/model/mod.ts";
import { freeUdpPort } from "../_helpers/ports.ts";
import { captureLogger, collect, nowStamp, testClient } from "../_helpers/mqtt.ts";
import { PASSWORD, startMosquitto, USER } from "../_helpers/mosquitto.ts";

const RULE = `
export const metrics = {
  load_high(m) {
    if (m.plugin === "load" && Number(m.values[0]) > 5) return { service: "fix", command: "run" };
  },
};
`;

/** The whole agent (createAgent) on a real mosquitto, with one rule and one failing repair. */
async function setup() {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-agent-mqtt-" });
  await Deno.mkdir(`${dir}/rules`);
  await Deno.writeTextFile(`${dir}/rules/load.ts`, RULE);
  const port = freeUdpPort();
  const { config } = parseConfig(
    JSON.stringify({
      Host: `127.0.0.1:${broker.port}`,
      User: USER,
      Password: PASSWORD,
      QoS: 1,
      HostName: "edge1",
      CommandTopic: "cmd/{host}",
      CommandResultTopic: "result/{host}",
      EventTopic: "event/{host}",
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: port }],
      Services: {
        // a repair that "works" (exit 0) but never clears the condition
        fix: {
          commands: {
            run: { Argv: ["/usr/bin/touch", `${dir}/ran`], Verify: 0.5, Retries: 0, Cooldown: 0 },
          },
        },
      },
    }),
    `${dir}/config.json`,
  );
  const { logger, events } = captureLogger();
  const agent = createAgent(config, {
    logger,
    ruleHost: defaultHostCommand(new URL("../../main.ts", import.meta.url).href),
  });
  await agent.start();
  const operator = await testClient(broker.port);
  const results = await collect(operator, "result/edge1");
  const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  return {
    dir,
    events,
    operator,
    results,
    publish: (msg: unknown) => operator.publishAsync("cmd/edge1", JSON.stringify(msg), { qos: 1 }),
    sendLoad: (v: number) =>
      udp.send(
        encodeValueList({
          host: "edge1",
          plugin: "load",
          plugin_instance: "",
          type: "load",
          type_instance: "",
          time: Date.now() / 1000,
          interval: 1,
          values: [v, v, v],
          dstypes: ["gauge", "gauge", "gauge"],
        }),
        { transport: "udp", hostname: "127.0.0.1", port },
      ),
    async cleanup() {
      udp.close();
      await operator.endAsync();
      await agent.stop();
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("an MQTT maintenance message suspends rule-triggered repairs until switched off", async () => {
  const t = await setup();
  try {
    await t.publish({
      task_id: 1,
      timestamp: nowStamp(),
      maintenance: "on",
      for: "1h",
      reason: "upgrade",
    });
    await t.results.waitFor(1);
    assert.equal(t.results.messages[0]!.code, 0);
    assert.match(String(t.results.messages[0]!.message), /^maintenance on until \d{4}-/);
    await t.sendLoad(9);
    await new Promise((r) => setTimeout(r, 1500));
    await assert.rejects(
      Deno.stat(`${t.dir}/ran`),
      Deno.errors.NotFound,
      "no repair in maintenance",
    );
    await t.publish({ task_id: 2, timestamp: nowStamp(), maintenance: "status" });
    await t.results.waitFor(2);
    assert.match(String(t.results.messages[1]!.message), /"reason":"upgrade"/);
    await t.publish({ task_id: 3, timestamp: nowStamp(), maintenance: "off" });
    await t.results.waitFor(3);
    assert.equal(t.results.messages[2]!.message, "maintenance ended");
    await t.publish({ task_id: 4, timestamp: nowStamp(), maintenance: "on" });
    await t.results.waitFor(4);
    assert.equal(t.results.messages[3]!.code, Code.INVALID_MESSAGE, "on without for is refused");
  } finally {
    await t.cleanup();
  }
});

Deno.test("a repair that does not clear its condition is escalated as an event on EventTopic", async () => {
  const t = await setup();
  try {
    const events = await collect(t.operator, "event/edge1");
    await t.sendLoad(9);
    await events.waitFor(1, 15_000);
    const e = events.messages[0]!;
    assert.equal(e.event, "escalation");
    assert.equal(e.host, "edge1");
    assert.equal(e.handler, "load.ts::metric::load_high");
    assert.equal(e.service, "fix");
    assert.equal(e.code, Code.ESCALATED);
    await Deno.stat(`${t.dir}/ran`); // the repair did run before it was escalated
  } finally {
    await t.cleanup();
  }
});
