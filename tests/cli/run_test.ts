import assert from "node:assert/strict";
import { startAgent } from "../_helpers/agent_process.ts";
import { freeUdpPort } from "../_helpers/ports.ts";

async function tempConfig(extra: Record<string, unknown> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-run-" });
  const port = freeUdpPort();
  await Deno.mkdir(`${dir}/rules`);
  const config = {
    StateDir: "state",
    RulesDir: "rules",
    Listen: [{ Host: "127.0.0.1", Port: port }],
    ...extra,
  };
  const path = `${dir}/config.json`;
  await Deno.writeTextFile(path, JSON.stringify(config));
  return { dir, path, port, config };
}

Deno.test("scripts/agent starts on a config, logs that it is listening, and exits 0 on SIGTERM", async () => {
  const { dir, path, port } = await tempConfig();
  const agent = startAgent(["--config", path]);
  try {
    await agent.waitFor(new RegExp(`listening for collectd packets addr=127\\.0\\.0\\.1:${port}`));
    await agent.waitFor(/started in local-only mode/);
    agent.kill("SIGTERM");
    const status = await agent.status;
    assert.equal(status.code, 0, agent.lines.join("\n"));
    assert.ok(agent.lines.some((l) => /SIGTERM: stopping/.test(l)));
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP with a broken config is rejected and the old config keeps running", async () => {
  const { dir, path, port } = await tempConfig();
  const agent = startAgent(["--config", path]);
  try {
    await agent.waitFor(/started in local-only mode/);
    await Deno.writeTextFile(path, '{ "Listen": [{ "Host": "127.0.0.1", "Prot": 1 }] }');
    agent.kill("SIGHUP");
    const line = await agent.waitFor(/reload rejected/);
    assert.match(line, /Prot: unknown key \(did you mean \\"Port\\"\?\)/);
    // still receiving on the old address: a datagram is accepted without the process dying
    const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    await s.send(new Uint8Array([0, 0, 0, 4]), { transport: "udp", hostname: "127.0.0.1", port });
    s.close();
    agent.kill("SIGINT");
    assert.equal((await agent.status).code, 0);
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP with a valid new config applies it", async () => {
  const { dir, path, config } = await tempConfig();
  const agent = startAgent(["--config", path]);
  try {
    await agent.waitFor(/started in local-only mode/);
    await Deno.writeTextFile(path, JSON.stringify({ ...config, LogLevel: "debug" }));
    agent.kill("SIGHUP");
    await agent.waitFor(/config reloaded/);
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP with a config that needs more permissions keeps the old one and says restart", async () => {
  const { dir, path, config, port } = await tempConfig();
  const agent = startAgent(["--config", path]);
  try {
    await agent.waitFor(/started in local-only mode/);
    const port2 = freeUdpPort();
    await Deno.writeTextFile(
      path,
      JSON.stringify({ ...config, Listen: [{ Host: "127.0.0.1", Port: port2 }] }),
    );
    agent.kill("SIGHUP");
    const line = await agent.waitFor(/reload rejected/);
    // the refusal names the key and the flag, and how it takes effect (scripts/agent: restart)
    assert.match(
      line,
      /Listen\[0\]: needs --allow-net=127\.0\.0\.1:\d+ \(Listen\[0\]: collectd listener\)/,
    );
    assert.match(line, /which this agent does not hold; .*a restart of the agent applies it/);
    // refused before anything was stopped: the old listener never went away
    const relistened = agent.lines.filter((l) =>
      new RegExp(`listening for collectd packets addr=127\\.0\\.0\\.1:${port}`).test(l)
    );
    assert.equal(relistened.length, 1, agent.lines.join("\n"));
    assert.ok(!agent.lines.some((l) => /stopped/.test(l)), agent.lines.join("\n"));
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an invalid config stops the agent before anything starts, with exit code 3", async () => {
  const { dir, path } = await tempConfig({ QoS: 7 });
  const agent = startAgent(["--config", path]);
  try {
    const status = await agent.status;
    assert.equal(status.code, 3);
    assert.ok(agent.lines.some((l) => /QoS: expected 0, 1 or 2/.test(l)), agent.lines.join("\n"));
    assert.ok(!agent.lines.some((l) => /listening/.test(l)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an address that cannot be bound is a fatal error with exit code 1", async () => {
  const busy = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (busy.addr as Deno.NetAddr).port;
  const { dir, path } = await tempConfig({ Listen: [{ Host: "127.0.0.1", Port: port }] });
  const agent = startAgent(["--config", path]);
  try {
    const status = await agent.status;
    assert.equal(status.code, 1);
    assert.ok(
      agent.lines.some((l) =>
        new RegExp(`FATAL.*Cannot listen on 127\\.0\\.0\\.1:${port}`).test(l)
      ),
      agent.lines.join("\n"),
    );
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run --record writes every decoded metric to a JSON-lines file in StateDir", async () => {
  const { dir, path, port } = await tempConfig();
  const agent = startAgent(["--config", path, "--record", "night.jsonl"]);
  try {
    await agent.waitFor(/started in local-only mode/);
    const { encodeValueList } = await import("../../src/collectd/mod.ts");
    const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    await s.send(
      encodeValueList({
        host: "edge-9",
        plugin: "load",
        plugin_instance: "",
        type: "load",
        type_instance: "",
        time: 1_700_000_000,
        interval: 10,
        values: [0.5, 0.25, 0.125],
        dstypes: ["gauge", "gauge", "gauge"],
      }),
      { transport: "udp", hostname: "127.0.0.1", port },
    );
    s.close();
    const file = `${dir}/state/night.jsonl`;
    const deadline = Date.now() + 10_000;
    let text = "";
    while (Date.now() < deadline && !text.includes("edge-9")) {
      await new Promise((r) => setTimeout(r, 100));
      text = await Deno.readTextFile(file).catch(() => "");
    }
    const item = JSON.parse(text.trim().split("\n")[0]!);
    assert.equal(item.host, "edge-9");
    assert.deepEqual(item.values, [0.5, 0.25, 0.125]);
    agent.kill("SIGTERM");
    assert.equal((await agent.status).code, 0);
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("under systemd the agent reports READY=1 once listening and STOPPING=1 on SIGTERM", async () => {
  const { dir, path } = await tempConfig();
  const sock = `${dir}/notify.sock`;
  const systemd = Deno.listenDatagram({ transport: "unixpacket", path: sock });
  const agent = startAgent(["--config", path], { env: { NOTIFY_SOCKET: sock } });
  const decoder = new TextDecoder();
  try {
    const [ready] = await systemd.receive();
    const text = decoder.decode(ready);
    assert.match(text, /^READY=1$/m);
    assert.match(text, /^STATUS=listening on 127\.0\.0\.1:\d+; 0 rule handler\(s\)$/m);
    // READY names the bound address (so it came after the bind); the log line says so too,
    // though it may reach this test's reader after the datagram.
    await agent.waitFor(/listening for collectd packets/);
    agent.kill("SIGTERM");
    const [stopping] = await systemd.receive();
    assert.match(decoder.decode(stopping), /^STOPPING=1$/m);
    assert.equal((await agent.status).code, 0);
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    systemd.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with Telemetry.Listen the agent serves /metrics and /healthz", async () => {
  const { freeTcpPort } = await import("../_helpers/ports.ts");
  const httpPort = freeTcpPort();
  const { dir, path } = await tempConfig({ Telemetry: { Listen: `127.0.0.1:${httpPort}` } });
  const agent = startAgent(["--config", path]);
  try {
    await agent.waitFor(/started in local-only mode/);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    assert.match(metrics, /^# TYPE edge_agent_collectd_packets_total counter$/m);
    assert.match(metrics, /^edge_agent_rules_handlers 0$/m);
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    const body = await health.json();
    assert.ok("checks" in body, JSON.stringify(body));
    agent.kill("SIGTERM");
    assert.equal((await agent.status).code, 0);
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scripts/agent started outside the checkout still starts the sandboxed rule host", async () => {
  const { dir, path } = await tempConfig();
  await Deno.writeTextFile(
    `${dir}/rules/any.ts`,
    "export const metrics = { seen(m) { return null; } };\n",
  );
  const agent = startAgent(["--config", path], { cwd: dir });
  try {
    await agent.waitFor(/rules loaded .*handlers=1 problems=0/);
    assert.ok(
      !agent.lines.some((l) => /cannot start the rule host/.test(l)),
      agent.lines.join("\n"),
    );
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
});
