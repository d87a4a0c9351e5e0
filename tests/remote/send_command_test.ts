import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../src/cli/mod.ts";
import { ExitCode } from "../../src/model/mod.ts";
import { freeTcpPort } from "../_helpers/ports.ts";
import { until } from "../_helpers/mqtt.ts";
import { PASSWORD, startMosquitto, USER } from "../_helpers/mosquitto.ts";
import { channelConfig, startTestAgent } from "../_helpers/channel.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

Deno.test("agent send-command prints the command and its result and exits 0, 4 or 5 by the remote outcome", async () => {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-send-" });
  const agent = await startTestAgent(channelConfig(broker.address, dir));
  const flags = [
    "--host",
    broker.address,
    "--user",
    USER,
    "--password",
    PASSWORD,
    "--topic",
    "cmd/edge1",
    "--result-topic",
    "result/edge1",
    "--qos",
    "1",
  ];
  try {
    await until(() => agent.channel.connected, "the agent to connect");
    let c = capture();
    assert.equal(await main(["send-command", "hello", "exec", ...flags], c.io), ExitCode.OK);
    assert.match(
      c.out(),
      /^Send command: \{"task_id":\d+,"timestamp":"[^"]+Z","service":"hello","command":"exec"\}\n/,
    );
    const result = JSON.parse(c.out().split("Received a result: ")[1]!);
    assert.equal(result.code, 0);
    assert.match(result.message, /Hello World!/);

    c = capture();
    assert.equal(
      await main(["send-command", "failing", "exit3", ...flags], c.io),
      ExitCode.REMOTE_FAILED,
    );
    assert.match(c.out(), /"code":3/);

    c = capture();
    const silent = [
      ...flags.slice(0, -6),
      "--topic",
      "nobody/listens",
      "--result-topic",
      "r",
      "--timeout",
      "0.5",
    ];
    assert.equal(
      await main(["send-command", "hello", "exec", ...silent], c.io),
      ExitCode.REMOTE_TIMEOUT,
    );
    assert.match(c.err(), /no result within 0.5 s/);
  } finally {
    await agent.stop();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("agent send-command --config takes broker and fleet topics from a config, --to fills {host}", async () => {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-send-" });
  const agent = await startTestAgent(channelConfig(broker.address, dir));
  const configFile = join(dir, "operator.json");
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({
      Host: broker.address,
      User: USER,
      Password: PASSWORD,
      QoS: 1,
      CommandTopic: "cmd/{host}",
      CommandResultTopic: "result/{host}",
    }),
  );
  await Deno.chmod(configFile, 0o600);
  try {
    await until(() => agent.channel.connected, "the agent to connect");
    const c = capture();
    const code = await main(
      ["send-command", "hello", "exec", "--config", configFile, "--to", "edge1", "--timeout", "10"],
      c.io,
    );
    assert.equal(code, ExitCode.OK, c.err());
    assert.match(c.out(), /"host":"edge1"/);
    const usage = capture();
    assert.equal(
      await main(["send-command", "hello", "exec", "--config", configFile], usage.io),
      ExitCode.USAGE,
    );
    assert.match(usage.err(), /give --to HOST/);
  } finally {
    await agent.stop();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("agent send-command exits 5 when no broker can be reached before --timeout, and 2 on usage errors", async () => {
  let c = capture();
  const closed = `127.0.0.1:${freeTcpPort()}`;
  const code = await main(
    ["send-command", "hello", "exec", "--host", closed, "--topic", "t", "--timeout", "0.5"],
    c.io,
  );
  assert.equal(code, ExitCode.REMOTE_TIMEOUT);
  assert.match(c.err(), /no broker reachable/);
  c = capture();
  assert.equal(await main(["send-command", "hello"], c.io), ExitCode.USAGE);
  c = capture();
  assert.equal(
    await main(["send-command", "a", "b", "--topic", "t", "--qos", "3"], c.io),
    ExitCode.USAGE,
  );
  assert.match(c.err(), /--qos must be 0, 1 or 2/);
});
