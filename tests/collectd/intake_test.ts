import assert from "node:assert/strict";
import {
  createIntake,
  decodePacket,
  encodeValueList,
  encryptPacket,
  type Intake,
  signPacket,
} from "../../src/collectd/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { LogEvent } from "../../src/log/mod.ts";
import { createCounters, type Metric } from "../../src/model/mod.ts";
import { interfaceIndex } from "../../src/collectd/_socket.ts";

const AUTH = "alice: secret\n";
const vl = (host = "h1") =>
  encodeValueList({
    host,
    plugin: "load",
    plugin_instance: "",
    type: "load",
    type_instance: "",
    time: 1795440000,
    interval: 1,
    values: [1, 2, 3],
    dstypes: ["gauge", "gauge", "gauge"],
  });

type Entry = {
  Host: string;
  Port: number;
  SecurityLevel: "None" | "Sign" | "Encrypt";
  AuthFile?: string;
  ReceiveBuffer?: number;
  Interface?: string;
};

async function withIntake(
  entries: Entry[],
  fn: (ctx: {
    intake: Intake;
    hosts: string[];
    events: LogEvent[];
    counter: (name: string, reason?: string) => number;
    send: (bytes: Uint8Array, index?: number, hostname?: string) => Promise<void>;
    settle: (n: number) => Promise<void>;
  }) => Promise<void>,
) {
  const events: LogEvent[] = [];
  const counters = createCounters();
  const hosts: string[] = [];
  const intake = createIntake(entries.map((e) => ({ ...e })), {
    logger: createLogger({ level: "debug", sink: (e) => events.push(e) }),
    counters,
    onPacket(plain) {
      decodePacket(plain, {
        metric: (m: Metric) => hosts.push(m.host),
        notification: () => {},
      });
    },
    readTextFile: () => Promise.resolve(AUTH),
    logIntervalMs: 60_000,
  });
  const v4 = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  let v6: Deno.DatagramConn | null = null;
  try {
    await intake.start();
    const counter = (name: string, reason?: string) =>
      counters.snapshot().find((s) =>
        s.name === name && (reason === undefined || s.labels.reason === reason)
      )
        ?.value ?? 0;
    const send = async (bytes: Uint8Array, index = 0, hostname?: string) => {
      const to = intake.bound[index]!;
      const h = hostname ?? to.hostname;
      const conn = h.includes(":")
        ? (v6 ??= Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 }))
        : v4;
      await conn.send(bytes, { transport: "udp", hostname: h, port: to.port });
    };
    const settle = async (n: number) => {
      for (let i = 0; i < 200 && counter("edge_agent_collectd_packets_total") < n; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await fn({ intake, hosts, events, counter, send, settle });
  } finally {
    await intake.stop();
    v4.close();
    (v6 as Deno.DatagramConn | null)?.close();
  }
}

Deno.test("createIntake() forwards plaintext at SecurityLevel None and counts packets and values", async () => {
  await withIntake([{ Host: "127.0.0.1", Port: 0, SecurityLevel: "None" }], async (c) => {
    await c.send(vl("a"));
    await c.send(vl("b"));
    await c.settle(2);
    assert.deepEqual(c.hosts, ["a", "b"]);
    assert.equal(c.counter("edge_agent_collectd_packets_total"), 2);
    assert.equal(c.counter("edge_agent_collectd_values_total"), 6);
  });
});

Deno.test("createIntake() at Sign accepts signed and encrypted packets and drops the rest, counted and logged once per source and reason", async () => {
  await withIntake(
    [{ Host: "127.0.0.1", Port: 0, SecurityLevel: "Sign", AuthFile: "/auth" }],
    async (c) => {
      await c.send(signPacket(vl("signed"), "alice", "secret"));
      await c.send(encryptPacket(vl("encrypted"), "alice", "secret"));
      await c.send(vl("plain"));
      for (let i = 0; i < 5; i++) await c.send(signPacket(vl("forged"), "alice", "wrong"));
      await c.settle(8);
      assert.deepEqual(c.hosts, ["signed", "encrypted"]);
      assert.equal(c.counter("edge_agent_collectd_dropped_total", "bad_signature"), 5);
      assert.equal(c.counter("edge_agent_collectd_dropped_total", "unsigned"), 1);
      assert.equal(c.counter("edge_agent_collectd_dropped_values_total"), 18);
      const warns = c.events.filter((e) => e.msg === "dropped collectd packet");
      assert.equal(warns.length, 2, JSON.stringify(warns.map((w) => w.fields)));
      const bad = warns.find((w) => w.fields?.reason === "bad_signature")!;
      assert.equal(bad.fields?.from, "127.0.0.1");
    },
  );
});

Deno.test("createIntake() at Encrypt accepts only encrypted packets; a wrong password is counted", async () => {
  await withIntake(
    [{ Host: "127.0.0.1", Port: 0, SecurityLevel: "Encrypt", AuthFile: "/auth" }],
    async (c) => {
      await c.send(encryptPacket(vl("encrypted"), "alice", "secret"));
      await c.send(signPacket(vl("signed"), "alice", "secret"));
      await c.send(encryptPacket(vl("wrong"), "alice", "nope"));
      await c.settle(3);
      assert.deepEqual(c.hosts, ["encrypted"]);
      assert.equal(c.counter("edge_agent_collectd_dropped_total", "unencrypted"), 1);
      assert.equal(c.counter("edge_agent_collectd_dropped_total", "bad_encryption"), 1);
    },
  );
});

Deno.test("createIntake() listens on several entries at once: IPv4, IPv6 and a joined multicast group", async () => {
  await withIntake([
    { Host: "127.0.0.1", Port: 0, SecurityLevel: "None" },
    { Host: "::1", Port: 0, SecurityLevel: "None" },
    // joined on lo: this machine's eth0 does not loop multicast back
    { Host: "239.192.74.66", Port: 0, SecurityLevel: "None", Interface: "lo" },
  ], async (c) => {
    assert.equal(c.intake.bound.length, 3);
    await c.send(vl("v4"), 0);
    await c.send(vl("v6"), 1);
    await c.send(vl("multicast"), 2, "239.192.74.66");
    await c.settle(3);
    assert.deepEqual(c.hosts.sort(), ["multicast", "v4", "v6"]);
  });
});

Deno.test("createIntake() creates its socket with the requested receive buffer and logs the size it got", async () => {
  await withIntake(
    [{ Host: "127.0.0.1", Port: 0, SecurityLevel: "None", ReceiveBuffer: 3 * 1024 * 1024 }],
    async (c) => {
      const port = c.intake.bound[0]!.port;
      const out = await new Deno.Command("ss", { args: ["-uamnH", `sport = :${port}`] }).output();
      const text = new TextDecoder().decode(out.stdout);
      const rb = Number(/rb(\d+)/.exec(text)?.[1]);
      assert.ok(rb >= 3 * 1024 * 1024, `ss says: ${text}`);
      // what the log says is what the kernel gave the socket
      const info = c.events.find((e) => e.msg === "listening for collectd packets")!;
      assert.equal(info.fields?.receiveBuffer, rb);
      const lines = c.events.filter((e) => e.msg.startsWith("collectd socket receive buffer:"));
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.level, "info");
      assert.match(lines[0]!.msg, new RegExp(`^collectd socket receive buffer: ${rb} bytes \\(`));
    },
  );
});

Deno.test("createIntake().start() rejects naming the address it cannot bind, leaving nothing bound", async () => {
  const taken = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const intake = createIntake([
    { Host: "127.0.0.1", Port: 0, SecurityLevel: "None" },
    { Host: "127.0.0.1", Port: port, SecurityLevel: "None" },
  ], {
    logger: createLogger({ sink: () => {} }),
    counters: createCounters(),
    onPacket() {},
  });
  try {
    await assert.rejects(() => intake.start(), new RegExp(`127\\.0\\.0\\.1:${port}`));
  } finally {
    await intake.stop();
    taken.close();
  }
});

Deno.test("createIntake() re-reads an AuthFile that changed", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/auth`;
  await Deno.writeTextFile(path, "alice: old\n");
  const hosts: string[] = [];
  const intake = createIntake([{
    Host: "127.0.0.1",
    Port: 0,
    SecurityLevel: "Sign",
    AuthFile: path,
  }], {
    logger: createLogger({ sink: () => {} }),
    counters: createCounters(),
    onPacket: (plain) =>
      decodePacket(plain, { metric: (m) => hosts.push(m.host), notification() {} }),
    authCheckMs: 20,
  });
  const tx = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await intake.start();
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port: intake.bound[0]!.port };
    await Deno.writeTextFile(path, "alice: new\n");
    await Deno.utime(path, new Date(), new Date(Date.now() + 5000));
    for (let i = 0; i < 100 && hosts.length === 0; i++) {
      await tx.send(signPacket(vl("after-change"), "alice", "new"), to);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(hosts[0], "after-change");
  } finally {
    await intake.stop();
    tx.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("interfaceIndex() finds each interface's index without /sys (the derived flags cannot read it)", () => {
  const names = new Set(Deno.networkInterfaces().map((i) => i.name));
  let checked = 0;
  for (const name of names) {
    const sys = Number(Deno.readTextFileSync(`/sys/class/net/${name}/ifindex`).trim());
    let ours: number;
    try {
      ours = interfaceIndex(name);
    } catch {
      continue; // no IPv6 on it: an IPv6 group cannot be joined there either
    }
    assert.equal(ours, sys, name);
    checked++;
  }
  assert.ok(checked >= 1, "at least lo");
  assert.throws(() => interfaceIndex("no-such-if0"), /no interface no-such-if0/);
});

Deno.test("createIntake() joins collectd's IPv6 multicast group on the configured interface", async () => {
  const intake = createIntake([
    { Host: "ff18::efc0:4a42", Port: 0, SecurityLevel: "None", Interface: "lo" },
  ], {
    logger: createLogger({ sink: () => {} }),
    counters: createCounters(),
    onPacket() {},
  });
  try {
    await intake.start();
    const groups = await Deno.readTextFile("/proc/net/igmp6");
    assert.match(groups, /\blo\s+ff1800000000000000000000efc04a42\b/);
  } finally {
    await intake.stop();
  }
  let after = "";
  for (let i = 0; i < 50; i++) { // the kernel drops the membership when the socket is closed
    after = await Deno.readTextFile("/proc/net/igmp6");
    if (!/\blo\s+ff1800000000000000000000efc04a42\b/.test(after)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.doesNotMatch(after, /\blo\s+ff1800000000000000000000efc04a42\b/, "left on stop");
});
