import assert from "node:assert/strict";
import { encodeValueList } from "../../src/collectd/mod.ts";
import { startAgent } from "../_helpers/agent_process.ts";
import { freeUdpPort } from "../_helpers/ports.ts";

/** Packets sent at once after "listening"; the rule fires only when it has seen every one. */
const PACKETS = 30;

const RULE = `
import type { MetricHandlers } from "./edge-agent.d.ts";
export const metrics = {
  every_early_packet(m, ctx) {
    if (m.plugin !== "early") return;
    if (ctx.consecutive(true) === ${PACKETS}) return { service: "marker", command: "touch" };
  },
} satisfies MetricHandlers;
`;

Deno.test("scripts/agent: packets sent as soon as it logs 'listening', before its rules have loaded, all reach the rule", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-early-" });
  await Deno.mkdir(`${dir}/rules`);
  await Deno.copyFile(
    new URL("../../rules/edge-agent.d.ts", import.meta.url),
    `${dir}/rules/edge-agent.d.ts`,
  );
  await Deno.writeTextFile(`${dir}/rules/early.ts`, RULE);
  const port = freeUdpPort();
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: port }],
      Services: { marker: { commands: { touch: `/usr/bin/touch ${dir}/fired` } } },
    }),
  );
  const agent = startAgent(["--config", `${dir}/config.json`]);
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await agent.waitFor(/listening for collectd packets/);
    const t0 = Date.now() / 1000;
    for (let i = 0; i < PACKETS; i++) {
      const packet = encodeValueList({
        host: "edge-1",
        plugin: "early",
        plugin_instance: "",
        type: "gauge",
        type_instance: "",
        time: t0 + i,
        interval: 10,
        values: [i],
        dstypes: ["gauge"],
      });
      await sock.send(packet, { transport: "udp", hostname: "127.0.0.1", port });
    }
    // Sent before the rule host had loaded the rules: they waited in the rule stage's queue.
    assert.ok(
      !agent.lines.some((l) => /rules loaded|started/.test(l)),
      `the rules had loaded before the packets were sent:\n${agent.lines.join("\n")}`,
    );
    await agent.waitFor(/rules loaded .*handlers=1 /);
    for (let i = 0; i < 200; i++) {
      if (await Deno.stat(`${dir}/fired`).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await Deno.stat(`${dir}/fired`).catch(() => {
      throw new Error(`the rule never saw all ${PACKETS} packets:\n${agent.lines.join("\n")}`);
    });
    const audit = (await Deno.readTextFile(`${dir}/state/audit.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      audit.map((l) => [l.trigger_name, l.code]),
      [["early.ts::metric::every_early_packet", 0]],
    );
    agent.kill("SIGTERM");
    assert.equal((await agent.status).code, 0, agent.lines.join("\n"));
  } finally {
    sock.close();
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
});
