import assert from "node:assert/strict";
import { join } from "node:path";
import { startAgent } from "../_helpers/agent_process.ts";
import { freeUdpPort } from "../_helpers/ports.ts";
import { PASSWORD, startMosquitto, USER } from "../_helpers/mosquitto.ts";

// Reloads as an operator does them, on scripts/agent (the production flags): saving a rule
// file, and SIGHUP after editing config.json.

const ROOT = new URL("../../", import.meta.url).pathname;

const handlers = (names: string[]) =>
  `export const metrics = {\n${
    names.map((n) => `  ${n}(m) { if (m.plugin === "${n}") return; },`).join("\n")
  }\n};\n`;

Deno.test("saving a rule file logs 'rule file reloaded' at info with its handler count", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-reload-" });
  await Deno.mkdir(join(dir, "rules"));
  await Deno.writeTextFile(join(dir, "rules", "web.ts"), handlers(["a"]));
  await Deno.writeTextFile(join(dir, "rules", "db.ts"), handlers(["x"]));
  const path = join(dir, "config.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: freeUdpPort() }],
    }),
  );
  const agent = startAgent(["--config", path]);
  try {
    await agent.waitFor(/started in local-only mode/, 30_000);
    await Deno.writeTextFile(join(dir, "rules", "web.ts"), handlers(["a", "b", "c"]));
    const line = await agent.waitFor(/rule file reloaded/);
    assert.match(line, /^\S+ INFO /);
    assert.match(line, /file=\S*\/rules\/web\.ts handlers=3 total_handlers=4/);
    await Deno.writeTextFile(join(dir, "rules", "web.ts"), "export const metrics = {");
    await agent.waitFor(/rule file \S+web\.ts:\d+:\d+: /);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(
      agent.lines.filter((l) => /rule file reloaded/.test(l)).length,
      1,
      "a file that does not load is reported as an error, not as reloaded",
    );
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP that changes only Services keeps the MQTT connection and applies the new commands", async () => {
  const broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-reload-mqtt-" });
  await Deno.mkdir(join(dir, "rules"));
  const path = join(dir, "config.json");
  const config = {
    Host: broker.address,
    User: USER,
    Password: PASSWORD,
    QoS: 1,
    HostName: "edge1",
    CommandTopic: "cmd/{host}",
    CommandResultTopic: "result/{host}",
    StateDir: "state",
    RulesDir: "rules",
    Listen: [{ Host: "127.0.0.1", Port: freeUdpPort() }],
    Services: { hello: { commands: { exec: "/bin/echo hello" } } },
  };
  const write = async (c: Record<string, unknown>) => {
    await Deno.writeTextFile(path, JSON.stringify(c));
    await Deno.chmod(path, 0o600);
  };
  const send = async (command: string) => {
    const out = await new Deno.Command(join(ROOT, "scripts/agent"), {
      args: [
        "send-command",
        "hello",
        command,
        "--config",
        path,
        "--to",
        "edge1",
        "--timeout",
        "20",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  };
  const connections = () => agent.lines.filter((l) => /connected to broker/.test(l)).length;
  await write(config);
  const agent = startAgent(["--config", path]);
  try {
    await agent.waitFor(/connected to broker/, 30_000);
    await write({
      ...config,
      Services: { hello: { commands: { exec: "/bin/echo hello", bye: "/bin/echo bye" } } },
    });
    agent.kill("SIGHUP");
    await agent.waitFor(/config reloaded/);
    assert.match(await send("bye"), /Received a result: .*"message":"bye","code":0/);
    assert.equal(connections(), 1, agent.lines.join("\n"));
    assert.ok(!agent.lines.some((l) => /MQTT channel stopped/.test(l)), "the channel kept running");

    // An MQTT setting that changes does restart the channel.
    await write({
      ...config,
      StatusTopic: "status/{host}",
      Services: { hello: { commands: { exec: "/bin/echo hello", bye: "/bin/echo bye" } } },
    });
    agent.kill("SIGHUP");
    await agent.waitFor(/MQTT channel stopped/);
    const until = Date.now() + 15_000;
    while (connections() < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal(connections(), 2, "reconnected with the new settings");
    assert.match(await send("exec"), /"message":"hello","code":0/);
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
