import assert from "node:assert/strict";
import { join } from "node:path";
import {
  decodePacket,
  type IntakeDropReason,
  parseAuthFile,
  unwrapPacket,
} from "../../src/collectd/mod.ts";
import { AGENT_PLUGIN, type Notification, Severity } from "../../src/model/mod.ts";
import { createCollectdReporter, type NotifyServer, summary } from "../../src/reporters/mod.ts";
import { reporterContract, sampleRecords, waitFor } from "./contract.ts";

/** A UDP receiver on a free loopback port that decodes notifications with the project's code. */
function receiver(level: "None" | "Sign" | "Encrypt" = "None") {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  const users = parseAuthFile("alice: s3cret\n");
  const got: Notification[] = [];
  const drops: IntakeDropReason[] = [];
  const sink = {
    segment(plain: Uint8Array) {
      decodePacket(plain, { metric: () => {}, notification: (n) => got.push(n) });
    },
    drop(reason: IntakeDropReason) {
      drops.push(reason);
    },
  };
  const loop = (async () => {
    const buf = new Uint8Array(65536);
    for (;;) {
      try {
        const [bytes] = await conn.receive(buf);
        unwrapPacket(bytes, level, users, sink, []);
      } catch {
        return;
      }
    }
  })();
  return {
    port,
    got,
    drops,
    async close() {
      conn.close();
      await loop;
    },
  };
}

/** A loopback UDP port nobody listens on. */
function closedPort(): number {
  const c = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (c.addr as Deno.NetAddr).port;
  c.close();
  return port;
}

const server = (port: number, extra: Partial<NotifyServer> = {}): NotifyServer => ({
  Host: "127.0.0.1",
  Port: port,
  SecurityLevel: "None",
  ...extra,
});

reporterContract("createCollectdReporter()", {
  make() {
    const r = receiver();
    return Promise.resolve({
      reporter: createCollectdReporter([server(r.port)], { hostname: "edge1" }),
      delivered: () => Promise.resolve(r.got.length),
      cleanup: () => r.close(),
    });
  },
  makeBroken() {
    return Promise.resolve({
      reporter: createCollectdReporter([server(closedPort()), server(closedPort())], {
        hostname: "edge1",
      }),
    });
  },
});

Deno.test("a result reaches the project's collectd decoder as an OKAY/FAILURE notification", async () => {
  const r = receiver();
  const reporter = createCollectdReporter([server(r.port)], { hostname: "edge1" });
  try {
    const [ok, failed, , timedOut] = sampleRecords();
    await reporter.report(ok!);
    await reporter.report(failed!);
    await reporter.report(timedOut!);
    await waitFor(() => r.got.length === 3, 3000);
    const [a, b, c] = r.got;
    assert.equal(a!.severity, Severity.OKAY);
    assert.equal(a!.host, "edge1");
    assert.equal(a!.plugin, AGENT_PLUGIN);
    assert.equal(a!.plugin_instance, "nginx");
    assert.equal(a!.type, "nginx.ts::metric::down");
    assert.equal(a!.type_instance, "restart");
    assert.equal(a!.time, Date.parse("2026-11-23T12:00:00Z") / 1000);
    assert.deepEqual(JSON.parse(a!.message), {
      task_id: 1,
      trigger: "nginx.ts::metric::down",
      service: "nginx",
      command: "restart",
      code: 0,
      message: "",
    });
    assert.equal(b!.severity, Severity.FAILURE);
    assert.equal(b!.type, "remote");
    assert.equal(JSON.parse(b!.message).message, "Job failed\n");
    assert.equal(c!.severity, Severity.FAILURE);
    assert.ok(new TextEncoder().encode(c!.message).length <= 255);
    assert.equal(JSON.parse(c!.message).code, 0x1010, "a cut message is still valid JSON");
    assert.equal(c!.type.length, 127, "names are cut to collectd's 127 bytes");
  } finally {
    await reporter.close?.();
    await r.close();
  }
});

Deno.test("signed and encrypted notifications pass the project's security checks", async () => {
  for (const level of ["Sign", "Encrypt"] as const) {
    const r = receiver(level);
    const reporter = createCollectdReporter(
      [server(r.port, { SecurityLevel: level, Username: "alice", Password: "s3cret" })],
      { hostname: "edge1" },
    );
    try {
      await reporter.report(sampleRecords()[0]!);
      await waitFor(() => r.got.length === 1, 3000);
      assert.deepEqual(r.drops, [], level);
      assert.equal(r.got[0]!.plugin, AGENT_PLUGIN);
    } finally {
      await reporter.close?.();
      await r.close();
    }
  }
});

Deno.test("summary() keeps the JSON valid and within 255 bytes whatever the output", () => {
  const [base] = sampleRecords();
  for (
    const message of ["x".repeat(10_000), "🙂".repeat(500), '"\\'.repeat(300), "\u0001".repeat(99)]
  ) {
    const s = summary({ ...base!, result: { ...base!.result, message } });
    assert.ok(new TextEncoder().encode(s).length <= 255, s);
    assert.equal(JSON.parse(s).service, "nginx");
  }
});

Deno.test("a real collectd (network plugin, server mode) logs the result notification", async () => {
  const dir = await Deno.makeTempDir();
  const port = closedPort();
  const log = join(dir, "collectd.log");
  await Deno.writeTextFile(
    join(dir, "collectd.conf"),
    [
      `Hostname "collectd-test"`,
      `FQDNLookup false`,
      `BaseDir "${dir}"`,
      `PIDFile "${dir}/collectd.pid"`,
      `TypesDB "/usr/share/collectd/types.db"`,
      `Interval 10`,
      `LoadPlugin logfile`,
      `<Plugin logfile>`,
      `  LogLevel info`,
      `  File "${log}"`,
      `  Timestamp true`,
      `  PrintSeverity true`,
      `</Plugin>`,
      `LoadPlugin network`,
      `<Plugin network>`,
      `  <Listen "127.0.0.1" "${port}">`,
      `    SecurityLevel "None"`,
      `  </Listen>`,
      `</Plugin>`,
    ].join("\n") + "\n",
  );
  const collectd = new Deno.Command("/usr/sbin/collectd", {
    args: ["-f", "-C", join(dir, "collectd.conf")],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reporter = createCollectdReporter([server(port)], { hostname: "edge1" });
  const read = () => Deno.readTextFile(log).catch(() => "");
  try {
    await waitFor(async () => /Initialization complete/.test(await read()), 10_000);
    const [, failed] = sampleRecords();
    // UDP: resend until collectd has it (its socket may open just after the log line)
    await waitFor(async () => {
      await reporter.report(failed!);
      return /Notification: .*edge-agent/.test(await read());
    }, 10_000);
    const line = (await read()).split("\n").find((l) => /Notification: /.test(l))!;
    assert.match(line, /severity = FAILURE/);
    assert.match(line, /host = edge1/);
    assert.match(line, /plugin = edge-agent/);
    assert.match(line, /type = remote/);
    assert.match(line, /message = \{"task_id":"a-7"/);
  } finally {
    await reporter.close?.();
    collectd.kill("SIGTERM");
    await collectd.status;
    await collectd.stdout.cancel();
    await collectd.stderr.cancel();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a notification server can be named by host name", async () => {
  const r = receiver();
  const reporter = createCollectdReporter([server(r.port, { Host: "localhost" })], {
    hostname: "edge1",
  });
  try {
    await reporter.report(sampleRecords()[0]!);
    await waitFor(() => r.got.length === 1, 3000);
    assert.equal(r.got[0]!.host, "edge1");
  } finally {
    await reporter.close?.();
    await r.close();
  }
});
