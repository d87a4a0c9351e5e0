/**
 * MQTT command round trip benchmark: publish a command → receive its result, for `/bin/true`,
 * over a loopback mosquitto (set_tcp_nodelay true), N commands one after another.
 *
 *   scripts/deno run -A scripts/bench/mqtt.ts [N=1000] [QOS=1]
 *
 * Prints p50/p99/max and commands/s for:
 *   1. edge-agent: createMqttChannel + the real executor running /bin/true;
 *   2. reference: mosquitto_sub | (run /bin/true, echo) | mosquitto_pub -l, the same client;
 *   3. raw mqtt.js echo with Nagle on vs off on the client socket (why setNoDelay matters).
 * The machine is shared: run it several times and read the spread.
 */
import mqtt from "mqtt";
import net from "node:net";
import { join } from "node:path";
import { createMqttChannel } from "../../src/remote/mod.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { createExecutor } from "../../src/executor/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { createCounters } from "../../src/model/mod.ts";
import { startMosquitto } from "./_broker.ts";

const N = Number(Deno.args[0] ?? 1000);
const QOS = Number(Deno.args[1] ?? 1) as 0 | 1 | 2;

async function client(port: number, noDelay: boolean): Promise<mqtt.MqttClient> {
  const c = new mqtt.MqttClient(() => {
    const s = net.createConnection({ host: "127.0.0.1", port });
    if (noDelay) s.setNoDelay(true);
    return s;
  }, {
    clientId: `bench-${crypto.randomUUID().slice(0, 8)}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    manualConnect: true,
  });
  c.connect();
  await new Promise((r) => c.once("connect", r));
  return c;
}

/** Sequential round trips: publish on `cmdTopic`, wait for the reply on `resTopic`. */
async function roundTrips(
  c: mqtt.MqttClient,
  cmdTopic: string,
  resTopic: string,
  n: number,
  payload: (i: number) => string,
): Promise<number[]> {
  await c.subscribeAsync(resTopic, { qos: QOS });
  let wake: (() => void) | null = null;
  const handler = (t: string) => {
    if (t === resTopic && wake) wake();
  };
  c.on("message", handler);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const got = new Promise<void>((r) => wake = r);
    const t0 = performance.now();
    c.publish(cmdTopic, payload(i), { qos: QOS });
    await got;
    times.push(performance.now() - t0);
  }
  c.off("message", handler);
  return times;
}

function summary(label: string, times: number[]) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const total = times.reduce((a, b) => a + b, 0);
  const row = {
    p50: q(0.5),
    p99: q(0.99),
    max: s[s.length - 1]!,
    perSecond: (times.length / total) * 1000,
  };
  console.log(
    `${label.padEnd(44)} p50 ${row.p50.toFixed(2).padStart(6)} ms  p99 ${
      row.p99.toFixed(2).padStart(6)
    } ms  max ${row.max.toFixed(1).padStart(6)} ms  ${row.perSecond.toFixed(0).padStart(5)} cmd/s`,
  );
  return row;
}

const dir = await Deno.makeTempDir({ prefix: "edge-agent-bench-" });
const broker = await startMosquitto(dir, [
  "set_tcp_nodelay true",
  "max_queued_messages 100000",
  ...(Deno.uid() === 0 ? ["user root"] : []),
]);
const logger = createLogger({ level: "error" });
const counters = createCounters();
const config = parseConfig(
  JSON.stringify({
    Host: `127.0.0.1:${broker.port}`,
    QoS: QOS,
    HostName: "bench",
    CommandTopic: "cmd/{host}",
    CommandResultTopic: "result/{host}",
    StateDir: join(dir, "state"),
    Services: { t: { commands: { run: "/bin/true" } } },
  }),
  join(dir, "config.json"),
).config;
const late: { report?: (r: import("../../src/model/mod.ts").RunRecord) => Promise<void> } = {};
const executor = createExecutor(config.Services, {
  logger,
  counters,
  stateDir: config.StateDir,
  reporters: [{ name: "mqtt", report: (r) => late.report!(r) }],
});
await executor.start();
/** executor.run durations inside the agent's round trips. */
const insideRuns: number[] = [];
const channel = createMqttChannel(config, {
  logger,
  counters,
  stateDir: config.StateDir,
  execute: async (req) => {
    const t0 = performance.now();
    const record = await executor.run(req);
    insideRuns.push(performance.now() - t0);
    return record;
  },
  status: () => ({}),
});
late.report = (r) => channel.reporter.report(r);
await channel.start();
while (!channel.connected) await new Promise((r) => setTimeout(r, 10));

// The same channel with an in-process "executor" (no process spawned): the MQTT side's own cost
// (validation, seen-task-id append, spool write, publish, spool removal).
const bareConfig = parseConfig(
  JSON.stringify({
    Host: `127.0.0.1:${broker.port}`,
    QoS: QOS,
    HostName: "bare",
    CommandTopic: "cmd/{host}",
    CommandResultTopic: "result/{host}",
    StateDir: join(dir, "state-bare"),
  }),
  join(dir, "config.json"),
).config;
const bare = createMqttChannel(bareConfig, {
  logger,
  counters,
  stateDir: bareConfig.StateDir,
  execute: (req) =>
    Promise.resolve({
      result: { task_id: req.task_id!, timestamp: new Date().toISOString(), message: "", code: 0 },
      trigger: req.trigger,
      service: req.service,
      command: req.command,
      argv: [],
      durationMs: 0,
      outputBytes: 0,
      truncated: false,
      timedOut: false,
    }),
  status: () => ({}),
});
await bare.start();
while (!bare.connected) await new Promise((r) => setTimeout(r, 10));

const responder = new Deno.Command("/bin/sh", {
  args: [
    "-c",
    `mosquitto_sub -p ${broker.port} -q ${QOS} -t ref/cmd | ` +
    `while IFS= read -r line; do /bin/true; printf '%s\\n' "$line"; done | ` +
    `mosquitto_pub -p ${broker.port} -q ${QOS} -t ref/res -l`,
  ],
  stdout: "null",
  stderr: "inherit",
}).spawn();
await new Promise((r) => setTimeout(r, 500));

console.log(
  `${N} sequential round trips, QoS ${QOS}, loopback mosquitto 2.0 (set_tcp_nodelay true)`,
);
const c = await client(broker.port, true);
const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
await roundTrips(
  c,
  "cmd/bench",
  "result/bench",
  20,
  (i) => JSON.stringify({ task_id: 1e9 + i, timestamp: stamp(), service: "t", command: "run" }),
);
const agent = summary(
  "edge-agent (/bin/true via executor)",
  await roundTrips(
    c,
    "cmd/bench",
    "result/bench",
    N,
    (i) => JSON.stringify({ task_id: i + 1, timestamp: stamp(), service: "t", command: "run" }),
  ),
);
summary("  of which executor.run (inside the round trip)", insideRuns.slice(-N));
const bareRow = summary(
  "edge-agent channel only (no process spawned)",
  await roundTrips(
    c,
    "cmd/bare",
    "result/bare",
    N,
    (i) => JSON.stringify({ task_id: i + 1, timestamp: stamp(), service: "t", command: "run" }),
  ),
);
void bareRow;
const ref = summary(
  "mosquitto_sub | sh (/bin/true) | mosquitto_pub",
  await roundTrips(c, "ref/cmd", "ref/res", N, (i) => `{"task_id":${i}}`),
);
{
  // Where the agent's time goes: the executor alone (spawn /bin/true, no MQTT, no reporting).
  const times: number[] = [];
  const direct = createExecutor(config.Services, {
    logger,
    counters,
    stateDir: join(dir, "state-direct"),
    reporters: [],
  });
  await direct.start();
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await direct.run({ service: "t", command: "run", trigger: { kind: "cli" } });
    times.push(performance.now() - t0);
  }
  await direct.stop();
  summary("executor.run(/bin/true) alone, no MQTT", times);
}
console.log(
  `ratio edge-agent / reference: p50 ${(agent.p50 / ref.p50).toFixed(2)}x, p99 ${
    (agent.p99 / ref.p99).toFixed(2)
  }x, throughput ${(agent.perSecond / ref.perSecond).toFixed(2)}x`,
);

for (const noDelay of [false, true]) {
  const echoSide = await client(broker.port, noDelay);
  await echoSide.subscribeAsync("echo/cmd", { qos: QOS });
  echoSide.on("message", (_t, p) => echoSide.publish("echo/res", p, { qos: QOS }));
  const probe = await client(broker.port, noDelay);
  summary(
    `mqtt.js echo pair, Nagle ${noDelay ? "off (setNoDelay)" : "on (mqtt.js default)"}`,
    await roundTrips(probe, "echo/cmd", "echo/res", Math.min(N, 300), (i) => String(i)),
  );
  await probe.endAsync();
  await echoSide.endAsync();
}

await c.endAsync();
await channel.stop();
await bare.stop();
await executor.stop();
try {
  responder.kill("SIGTERM");
} catch {
  // gone
}
await responder.status;
await broker.stop();
await Deno.remove(dir, { recursive: true });
