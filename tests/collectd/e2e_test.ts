/**
 * End-to-end against Debian's collectd 5.12: its network plugin sends memory, load, cpu and
 * interface values (Interval 1) and threshold notifications to the intake on loopback, at each
 * SecurityLevel; the forwarded plaintext is decoded with the pure decoder, as the rule host does.
 */
import assert from "node:assert/strict";
import {
  createIntake,
  decodePacket,
  encodeNotification,
  encryptPacket,
  loadTypesDb,
  PacketBuilder,
  RateTracker,
  type SecurityLevel,
  signPacket,
} from "../../src/collectd/mod.ts";
import { createLogger, type LogEvent } from "../../src/log/mod.ts";
import { createCounters, type Metric, type Notification } from "../../src/model/mod.ts";
import { startCollectd } from "../_helpers/collectd_peer.ts";

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
  assert.equal(warn.fields?.from, "127.0.0.1");
});

Deno.test("collectd encrypting with a wrong password is rejected and counted at Encrypt", async () => {
  const r = await run(
    "Encrypt",
    { level: "Encrypt", password: "wrong" },
    (r) => r.dropped("bad_encryption") >= 3,
  );
  assert.equal(r.metrics.length + r.notifications.length, 0);
});

/** collectd 5.12 as the receiver: does it accept what the encoder and signer/encrypter send? */
async function collectdReceives(level: SecurityLevel, password: string) {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-e2e-rx-" });
  const probe = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await Deno.writeTextFile(`${dir}/auth`, "alice: secret\n");
  await Deno.writeTextFile(
    `${dir}/collectd.conf`,
    `BaseDir "${dir}"
PIDFile "${dir}/pid"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "${dir}/log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "${dir}/csv"
</Plugin>
LoadPlugin network
<Plugin network>
  <Listen "127.0.0.1" "${port}">
    SecurityLevel ${level}
    AuthFile "${dir}/auth"
  </Listen>
</Plugin>
`,
  );
  const child = new Deno.Command("/usr/sbin/collectd", {
    args: ["-f", "-C", `${dir}/collectd.conf`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const tx = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const wrap = (p: Uint8Array) =>
    level === "Sign" ? signPacket(p, "alice", password) : encryptPacket(p, "alice", password);
  try {
    const csv = `${dir}/csv/agent-host/edge-agent-test/gauge-probe-`;
    const log = () => Deno.readTextFile(`${dir}/log`).catch(() => "");
    for (let i = 0; i < 60; i++) {
      const now = Date.now() / 1000;
      const packets: Uint8Array[] = [];
      const b = new PacketBuilder((p) => packets.push(p), { maxSize: 1400 });
      b.add({
        host: "agent-host",
        plugin: "edge-agent",
        plugin_instance: "test",
        type: "gauge",
        type_instance: "probe",
        time: now,
        interval: 1,
        values: [42.5],
        dstypes: ["gauge"],
      });
      b.flush();
      packets.push(encodeNotification({
        host: "agent-host",
        plugin: "edge-agent",
        plugin_instance: "",
        type: "result",
        type_instance: "",
        time: now,
        severity: 4,
        message: `probe notification ${level}`,
      }));
      for (const p of packets) {
        await tx.send(wrap(p), { transport: "udp", hostname: "127.0.0.1", port });
      }
      await new Promise((r) => setTimeout(r, 200));
      const text = await log();
      const got = await Array.fromAsync(
        Deno.readDir(`${dir}/csv/agent-host/edge-agent-test`),
      ).catch(() => []);
      if (got.length > 0 && text.includes(`probe notification ${level}`)) {
        const data = await Deno.readTextFile(
          `${dir}/csv/agent-host/edge-agent-test/${got[0]!.name}`,
        );
        return { data, log: text, file: got[0]!.name, csv };
      }
      if (password !== "secret" && i >= 8) return { data: "", log: text, file: "", csv };
    }
    return { data: "", log: await log(), file: "", csv };
  } finally {
    tx.close();
    child.kill();
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

for (const level of ["Sign", "Encrypt"] as const) {
  Deno.test(`collectd 5.12 accepts the encoder's value lists and notifications at SecurityLevel ${level}`, async () => {
    const r = await collectdReceives(level, "secret");
    assert.match(r.file, /^gauge-probe-/, r.log);
    assert.match(r.data, /,42\.5/);
    assert.match(r.log, new RegExp(`probe notification ${level}`));
  });
}

Deno.test("collectd 5.12 rejects the encrypter's packets under a wrong password", async () => {
  const r = await collectdReceives("Encrypt", "wrong");
  assert.equal(r.file, "");
  assert.doesNotMatch(r.log, /probe notification/);
  assert.match(r.log, /Checksum mismatch/, "collectd saw the packets and refused them");
});
