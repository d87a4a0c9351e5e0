import assert from "node:assert/strict";
import { join } from "node:path";
import { startAgent } from "../_helpers/agent_process.ts";
import { freeUdpPort } from "../_helpers/ports.ts";
import { collect, testClient } from "../_helpers/mqtt.ts";
import { PASSWORD, startMosquitto, USER } from "../_helpers/mosquitto.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("scripts/agent with a broker serves a remote command end to end, and agent send-command gets its result", async () => {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-e2e-mqtt-" });
  const config = join(dir, "config.json");
  await Deno.mkdir(join(dir, "rules"));
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      Host: broker.address,
      User: USER,
      Password: PASSWORD,
      QoS: 1,
      ReconnectInterval: 0.2,
      HostName: "edge1",
      CommandTopic: "cmd/{host}",
      CommandResultTopic: "result/{host}",
      StatusTopic: "status/{host}",
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: freeUdpPort() }],
      Services: { hello: { commands: { exec: '/bin/echo "Hello World!"' } } },
    }),
  );
  await Deno.chmod(config, 0o600);
  const agent = startAgent(["--config", config]);
  const client = await testClient(broker.port);
  try {
    const status = await collect(client, "status/edge1");
    await status.waitFor(1, 30_000);
    assert.equal(status.messages[0]!.status, "online");
    assert.equal(typeof status.messages[0]!.version, "string");

    const send = await new Deno.Command(join(ROOT, "scripts/agent"), {
      args: [
        "send-command",
        "hello",
        "exec",
        "--config",
        config,
        "--to",
        "edge1",
        "--timeout",
        "20",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(send.stdout);
    assert.equal(send.code, 0, out + new TextDecoder().decode(send.stderr));
    const result = JSON.parse(out.split("Received a result: ")[1]!);
    assert.deepEqual(Object.keys(result).sort(), ["code", "message", "task_id", "timestamp"]);
    assert.equal(result.code, 0);
    assert.match(result.message, /Hello World!/);

    agent.kill("SIGKILL");
    await agent.status;
    await status.waitFor(2, 10_000);
    assert.equal(status.messages[1]!.status, "offline", "the last will after SIGKILL");
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await client.endAsync();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
