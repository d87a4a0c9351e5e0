/**
 * The MQTT command path under the compile flags: the bundled agent (outside the tree, flags
 * derived from its config) connects to a real mosquitto, runs a command it is sent and publishes
 * the result. Proves npm:mqtt needs nothing beyond the derived --allow-net/--allow-env.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundledAgent } from "./_bundle.ts";
import { start } from "../_helpers/run.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function freeUdpPort(): number {
  const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (s.addr as Deno.NetAddr).port;
  s.close();
  return port;
}

Deno.test("the bundled agent under the compile flags runs a command sent over MQTT and publishes its result", async () => {
  const etc = await Deno.makeTempDir({ prefix: "edge-agent-etc-" });
  const agentFiles = await bundledAgent();
  const port = freePort();
  await Deno.writeTextFile(
    join(etc, "mosquitto.conf"),
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`,
  );
  const broker = start("/usr/sbin/mosquitto", ["-c", join(etc, "mosquitto.conf")]);
  let agent;
  let sub;
  try {
    await broker.waitFor(/running|listen socket on port/i, 10_000);
    await Deno.mkdir(join(etc, "rules"));
    const configFile = join(etc, "config.json");
    await Deno.writeTextFile(
      configFile,
      JSON.stringify({
        Host: `127.0.0.1:${port}`,
        CommandTopic: "edge/{host}/command",
        CommandResultTopic: "edge/{host}/result",
        HostName: "edge-1",
        StateDir: "state",
        RulesDir: "rules",
        Listen: [{ Host: "127.0.0.1", Port: freeUdpPort() }],
        Services: { hello: { commands: { exec: "/bin/echo Hello World!" } } },
      }),
    );
    agent = start(agentFiles.deno, await agentFiles.args(configFile));
    await agent.waitFor(/listening for collectd packets/);
    await agent.waitFor(/connected|subscribed/i);

    sub = start("/usr/bin/mosquitto_sub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-t",
      "edge/edge-1/result",
      "-C",
      "1",
      "-W",
      "20",
    ]);
    await new Promise((r) => setTimeout(r, 300)); // let the subscription settle
    const command = {
      task_id: 42,
      timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      service: "hello",
      command: "exec",
    };
    const pub = await new Deno.Command("/usr/bin/mosquitto_pub", {
      args: [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-q",
        "2",
        "-t",
        "edge/edge-1/command",
        "-m",
        JSON.stringify(command),
      ],
    }).output();
    assert.ok(pub.success);
    const line = await sub.waitFor(/task_id/, 20_000);
    const result = JSON.parse(line);
    assert.deepEqual([result.task_id, result.message, result.code], [42, "Hello World!", 0]);
    const denied = agent.lines.filter((l) => /NotCapable|Requires .* access/.test(l));
    assert.deepEqual(denied, []);
  } finally {
    await sub?.stop();
    await agent?.stop();
    await broker.stop();
    await agentFiles.remove();
    await Deno.remove(etc, { recursive: true });
  }
});
