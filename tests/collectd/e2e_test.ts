/**
 * End-to-end against Debian's collectd 5.12: its network plugin sends memory, load, cpu and
 * interface values (Interval 1) and threshold notifications to the intake on loopback, at each
 * SecurityLevel; the forwarded plaintext is decoded with the pure decoder, as the rule host does.
 */
import assert from "node:assert/strict";
import {
  createIntake,
  decodePacket,
  loadTypesDb,
  RateTracker,
  type SecurityLevel,
} from "../../src/collectd/mod.ts";
import { createLogger, type LogEvent } from "../../src/log/mod.ts";
import { createCounters, type Metric, type Notification } from "../../src/model/mod.ts";
import { startCollectd } from "./_collectd_peer.ts";

const typesDb = await loadTypesDb();

interface Run {
  metrics: Metric[];
  notifications: Notification[];
  dropped: (reason: string) => number;
  events: LogEvent[];
}

async function run(
  level: SecurityLevel,
  sender: { level: SecurityLevel; password?: string },
  done: (r: Run) => boolean,
): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-e2e-" });
  const authFile = `${dir}/auth`;
  await Deno.writeTextFile(authFile, "alice: secret\n");
  const counters = createCounters();
  const rates = new RateTracker();
  const r: Run = {
    metrics: [],
    notifications: [],
    events: [],
    dropped: (reason) =>
      counters.snapshot().find((s) =>
        s.name === "edge_agent_collectd_dropped_total" && s.labels.reason === reason
      )?.value ?? 0,
  };
  const intake = createIntake([{
    Host: "127.0.0.1",
    Port: 0,
    SecurityLevel: level,
    ...(level === "None" ? {} : { AuthFile: authFile }),
  }], {
    logger: createLogger({ level: "debug", sink: (e) => r.events.push(e) }),
    counters,
    onPacket(plain) {
      decodePacket(plain, {
        metric: (m) => r.metrics.push(m),
        notification: (n) => r.notifications.push(n),
      }, { typesDb, rates });
    },
  });
  await intake.start();
  const peer = await startCollectd({
    port: intake.bound[0]!.port,
    securityLevel: sender.level,
    password: sender.password ?? "secret",
    threshold: true,
  }).catch(async (e) => {
    await intake.stop();
    throw e;
  });
  try {
    const deadline = Date.now() + 12_000;
    while (!done(r) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    assert.ok(done(r), `collectd's output:\n${peer.output()}`);
    return r;
  } finally {
    await peer.stop();
    await intake.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

const complete = (r: Run) =>
  r.notifications.length > 0 &&
  ["load", "memory", "interface"].every((p) => r.metrics.some((m) => m.plugin === p)) &&
  r.metrics.some((m) => m.plugin === "cpu" && m.rates[0] !== null);

function assertValues(r: Run) {
  const load = r.metrics.find((m) => m.plugin === "load")!;
  assert.equal(load.host, "e2e-host");
  assert.deepEqual(load.dsnames, ["shortterm", "midterm", "longterm"]);
  assert.deepEqual(load.dstypes, ["gauge", "gauge", "gauge"]);
  assert.equal(load.interval, 1);
  assert.ok(Math.abs(load.time - Date.now() / 1000) < 30, `time ${load.time}`);
  const mem = r.metrics.find((m) => m.plugin === "memory" && m.type_instance === "used")!;
  assert.deepEqual([mem.type, mem.dsnames, mem.dstypes], ["memory", ["value"], ["gauge"]]);
  assert.ok((mem.values[0] as number) > 0);
  const octets = r.metrics.find((m) => m.plugin === "interface" && m.type === "if_octets")!;
  assert.deepEqual([octets.dsnames, octets.dstypes], [["rx", "tx"], ["derive", "derive"]]);
  const cpu = r.metrics.find((m) => m.plugin === "cpu" && m.rates[0] !== null)!;
  assert.deepEqual([cpu.type, cpu.dsnames, cpu.dstypes], ["cpu", ["value"], ["derive"]]);
  assert.ok((cpu.rates[0] as number) >= 0);
  const n = r.notifications[0]!;
  assert.deepEqual(
    [n.host, n.plugin, n.type, n.type_instance, n.severity],
    ["e2e-host", "memory", "memory", "used", 2],
  );
  assert.match(n.message, /above the warning threshold/);
}

for (const level of ["None", "Sign", "Encrypt"] as const) {
  Deno.test(`collectd 5.12's values and threshold notifications arrive at SecurityLevel ${level}`, async () => {
    const r = await run(level, { level }, complete);
    assertValues(r);
    assert.equal(r.dropped("bad_signature") + r.dropped("bad_encryption"), 0);
  });
}

Deno.test("collectd signing with a wrong password is rejected, counted and logged at Sign", async () => {
  const r = await run(
    "Sign",
    { level: "Sign", password: "wrong" },
    (r) => r.dropped("bad_signature") >= 3,
  );
  assert.equal(r.metrics.length + r.notifications.length, 0);
  const warn = r.events.find((e) => e.fields?.reason === "bad_signature")!;
  assert.match(String(warn.fields?.from), /^127\.0\.0\.1:\d+$/);
});

Deno.test("collectd encrypting with a wrong password is rejected and counted at Encrypt", async () => {
  const r = await run(
    "Encrypt",
    { level: "Encrypt", password: "wrong" },
    (r) => r.dropped("bad_encryption") >= 3,
  );
  assert.equal(r.metrics.length + r.notifications.length, 0);
});
