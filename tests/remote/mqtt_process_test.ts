import assert from "node:assert/strict";
import { join } from "node:path";
import { type AgentProcess, startAgent } from "../_helpers/agent_process.ts";
import { freeTcpPort, freeUdpPort } from "../_helpers/ports.ts";
import { makeCerts } from "../_helpers/certs.ts";
import { collect, testClient } from "../_helpers/mqtt.ts";
import { PASSWORD, startMosquitto, USER } from "../_helpers/mosquitto.ts";

// The MQTT side of the agent as an operator meets it: scripts/agent under its production flags,
// a real mosquitto (TLS and mutual TLS included).

const ROOT = new URL("../../", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes a config (mode 0600) into a fresh folder with an empty rules directory. */
async function agentConfig(fields: Record<string, unknown>) {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-mqtt-process-" });
  await Deno.mkdir(join(dir, "rules"));
  const path = join(dir, "config.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      User: USER,
      Password: PASSWORD,
      QoS: 1,
      HostName: "edge1",
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: freeUdpPort() }],
      ...fields,
    }),
  );
  await Deno.chmod(path, 0o600);
  return { dir, path };
}

async function finish(agent: AgentProcess | null, dir: string) {
  agent?.kill("SIGKILL");
  await agent?.status;
  await Deno.remove(dir, { recursive: true });
}

Deno.test("SIGTERM sends DISCONNECT: the agent's own offline status is the last word, no last will follows it", async () => {
  const broker = await startMosquitto();
  const { dir, path } = await agentConfig({
    Host: broker.address,
    StatusTopic: "status/{host}",
    CommandTopic: "cmd/{host}",
  });
  const agent = startAgent(["--config", path]);
  const watcher = await testClient(broker.port);
  try {
    const status = await collect(watcher, "status/edge1");
    await status.waitFor(1, 30_000);
    assert.equal(status.messages[0]!.status, "online");
    await sleep(1100); // the will carries the connect time; the clean stop a later one
    const stoppedAt = Math.floor(Date.now() / 1000) * 1000;
    agent.kill("SIGTERM");
    assert.equal((await agent.status).code, 0);
    await sleep(1500); // a will would be published at once when the socket closes
    const offline = status.messages.filter((m) => m.status === "offline");
    assert.equal(offline.length, 1, `one offline message: ${JSON.stringify(status.messages)}`);
    const late = await testClient(broker.port);
    const retained = await collect(late, "status/edge1");
    await retained.waitFor(1);
    await late.endAsync();
    assert.equal(retained.messages[0]!.status, "offline");
    assert.ok(
      Date.parse(String(retained.messages[0]!.timestamp)) >= stoppedAt,
      `the retained status is the stop's, not the connect-time will: ${
        JSON.stringify(retained.messages[0])
      }`,
    );
  } finally {
    await watcher.endAsync();
    await finish(agent, dir);
    await broker.stop();
  }
});

Deno.test("with every broker down the agent tries each one per ReconnectInterval, so a returning broker waits one interval at most", async () => {
  const ports = [freeTcpPort(), freeTcpPort(), freeTcpPort()];
  const { dir, path } = await agentConfig({
    Host: ports.map((p) => `127.0.0.1:${p}`),
    ReconnectInterval: 3,
    LogLevel: "debug",
    CommandTopic: "cmd/{host}",
  });
  const agent = startAgent(["--config", path]);
  let broker: Awaited<ReturnType<typeof startMosquitto>> | null = null;
  try {
    const attempts = () => agent.lines.filter((l) => /connecting to broker/.test(l)).length;
    const until = Date.now() + 30_000;
    while (attempts() < 4 && Date.now() < until) await sleep(50); // a round, and one more
    assert.ok(attempts() >= 4, agent.lines.join("\n"));
    // The last broker of the list comes back just after the agent tried it.
    broker = await startMosquitto({ port: ports[2]! });
    const back = Date.now();
    await agent.waitFor(
      new RegExp(`connected to broker broker=127\\.0\\.0\\.1:${ports[2]}`),
      15_000,
    );
    const waited = (Date.now() - back) / 1000;
    assert.ok(waited < 3 + 2, `connected ${waited} s after the broker came back (interval 3 s)`);
  } finally {
    await finish(agent, dir);
    await broker?.stop();
  }
});

Deno.test("agent send-command says why each broker was unreachable: wrong CA, missing client certificate, refused port", async () => {
  const certDir = await Deno.makeTempDir({ prefix: "edge-agent-certs-" });
  const certs = await makeCerts(certDir);
  const tlsOpts = { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey };
  const plain = await startMosquitto({ tls: tlsOpts });
  const mutual = await startMosquitto({ tls: { ...tlsOpts, requireClientCert: true } });
  const closed = freeTcpPort();
  const send = async (config: Record<string, unknown>) => {
    const path = join(certDir, "operator.json");
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        User: USER,
        Password: PASSWORD,
        Secure: true,
        CommandTopic: "cmd/edge1",
        CommandResultTopic: "result/edge1",
        ...config,
      }),
    );
    await Deno.chmod(path, 0o600);
    const out = await new Deno.Command(join(ROOT, "scripts/agent"), {
      args: ["send-command", "hello", "exec", "--config", path, "--timeout", "3"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  };
  try {
    const wrongCa = await send({
      Host: [`localhost:${plain.tlsPort}`, `127.0.0.1:${closed}`],
      CAFile: certs.otherCa,
    });
    assert.equal(wrongCa.code, 5, wrongCa.stderr);
    assert.match(wrongCa.stderr, new RegExp(`localhost:${plain.tlsPort}: [^;]*certificate`));
    assert.match(wrongCa.stderr, new RegExp(`127\\.0\\.0\\.1:${closed}: [^;]*ECONNREFUSED`));
    const noClientCert = await send({ Host: `localhost:${mutual.tlsPort}`, CAFile: certs.ca });
    assert.equal(noClientCert.code, 5, noClientCert.stderr);
    assert.match(noClientCert.stderr, new RegExp(`localhost:${mutual.tlsPort}: .*Certificate`));
  } finally {
    await plain.stop();
    await mutual.stop();
    await Deno.remove(certDir, { recursive: true });
  }
});
