/**
 * collectd intake benchmark, against collectd 5.12's own receiver in the same run.
 *
 *   scripts/deno run -A --unstable-net scripts/bench/collectd.ts [--seconds 5]
 *       [--rates 100000,300000,600000,1000000] [--security None|Sign|Encrypt]
 *
 * Prints: decode values/s on one core; for each offered rate, the agent's intake (receive +
 * security + structural walk + decodePacket with types.db and rates, all in ONE process, which is
 * more than the agent process does alone) and collectd's network plugin in server mode (no write
 * plugins, one write thread): values received, packets lost (the socket's kernel drop counter in
 * /proc/net/udp, plus the sender/receiver difference), CPU-seconds per million values from
 * /proc/<pid>/stat, and the agent's peak RSS (VmHWM).
 * The machine is shared: run it a few times and read the spread.
 */
import { parseArgs } from "node:util";
import {
  createDecodeStats,
  createIntake,
  decodePacket,
  encryptPacket,
  loadTypesDb,
  PacketBuilder,
  PACKETS_COUNTER,
  RateTracker,
  type SecurityLevel,
  signPacket,
} from "../../src/collectd/mod.ts";
import { decodeBatch, PacketBatcher } from "./_collectd_batch.ts";
import { createLogger } from "../../src/log/mod.ts";
import { createCounters, type Metric } from "../../src/model/mod.ts";

const { values: args } = parseArgs({
  options: {
    role: { type: "string", default: "main" },
    port: { type: "string" },
    rate: { type: "string" },
    seconds: { type: "string", default: "5" },
    rates: { type: "string", default: "100000,300000,600000,1000000" },
    security: { type: "string", default: "None" },
    split: { type: "boolean", default: false },
  },
});
const security = args.security as SecurityLevel;
const CLK_TCK = 100;
const self = new URL(import.meta.url).pathname;

/** One collectd-like round of value lists from `hosts` hosts (cpu, memory, load, interface). */
function workload(hosts: number, round: number): Metric[] {
  const out: Metric[] = [];
  const t = 1795440000 + round;
  const m = (
    host: string,
    plugin: string,
    pi: string,
    type: string,
    ti: string,
    values: Metric["values"],
    dstypes: Metric["dstypes"],
  ): Metric => ({
    host,
    plugin,
    plugin_instance: pi,
    type,
    type_instance: ti,
    time: t,
    interval: 1,
    values,
    dstypes,
    dsnames: [],
    rates: [],
  });
  for (let h = 0; h < hosts; h++) {
    const host = `host-${h}.example.com`;
    for (let c = 0; c < 4; c++) {
      for (const s of ["user", "system", "idle", "wait", "nice", "interrupt", "softirq", "steal"]) {
        out.push(m(host, "cpu", String(c), "cpu", s, [round * 100 + c], ["derive"]));
      }
    }
    for (const s of ["used", "buffered", "cached", "free", "slab_recl", "slab_unrecl"]) {
      out.push(m(host, "memory", "", "memory", s, [1e9 + round], ["gauge"]));
    }
    out.push(m(host, "load", "", "load", "", [0.5, 0.4, 0.3], ["gauge", "gauge", "gauge"]));
    for (const i of ["eth0", "lo"]) {
      for (const ty of ["if_octets", "if_packets", "if_errors", "if_dropped"]) {
        out.push(
          m(host, "interface", i, ty, "", [round * 1000, round * 900], ["derive", "derive"]),
        );
      }
    }
  }
  return out;
}

/** Packets (signed/encrypted as asked) and their value counts, for several rounds. */
function packets(level: SecurityLevel): { bytes: Uint8Array; values: number }[] {
  const out: { bytes: Uint8Array; values: number }[] = [];
  let count = 0;
  const overhead = level === "None" ? 0 : level === "Sign" ? 36 + 5 : 42 + 5;
  const b = new PacketBuilder((p) => {
    const bytes = level === "None"
      ? p
      : level === "Sign"
      ? signPacket(p, "alice", "secret")
      : encryptPacket(p, "alice", "secret");
    out.push({ bytes, values: count });
    count = 0;
  }, { maxSize: 1452 - overhead });
  for (let round = 0; round < 10; round++) {
    for (const v of workload(50, round)) {
      const before = b.size;
      b.add(v);
      if (b.size < before) count = 0; // flushed: the new packet holds only this one
      count += v.values.length;
    }
    b.flush();
  }
  return out;
}

async function sender() {
  const port = Number(args.port);
  const rate = Number(args.rate);
  const seconds = Number(args.seconds);
  const ps = packets(security);
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const t0 = performance.now();
  let sentValues = 0;
  let sentPackets = 0;
  let i = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = ((performance.now() - t0) / 1000) * rate;
    while (sentValues < due) {
      const p = ps[i++ % ps.length]!;
      await conn.send(p.bytes, { transport: "udp", hostname: "127.0.0.1", port });
      sentValues += p.values;
      sentPackets++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  conn.close();
  console.log(
    JSON.stringify({ sentValues, sentPackets, seconds: (performance.now() - t0) / 1000 }),
  );
}

async function receiver() {
  const typesDb = await loadTypesDb();
  const rates = new RateTracker();
  const stats = createDecodeStats();
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/auth`, "alice: secret\n");
  const counters = createCounters();
  const visitor = { metric() {}, notification() {} };
  const opts = { typesDb, rates, stats };
  let onPacket = (plain: Uint8Array) => {
    decodePacket(plain, visitor, opts);
  };
  let hostPid = 0;
  let hostValues = 0;
  if (args.split) {
    // the agent's intended shape: this process receives + verifies + forwards batches; the
    // rule host (another process) decodes them
    const host = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", self, "--role", "rulehost"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    hostPid = host.pid;
    const w = host.stdin.getWriter();
    const batcher = new PacketBatcher((b) => {
      const hdr = new Uint8Array(4);
      new DataView(hdr.buffer).setUint32(0, b.length);
      w.write(hdr);
      w.write(b);
    }, { maxDelayMs: 5, maxBytes: 131072 });
    onPacket = (plain) => batcher.add(plain);
    (async () => {
      const next = lines(host.stdout);
      for (;;) hostValues = Number(await next());
    })().catch(() => {});
  }
  const intake = createIntake([{
    Host: "127.0.0.1",
    Port: 0,
    SecurityLevel: security,
    ...(security === "None" ? {} : { AuthFile: `${dir}/auth` }),
  }], {
    logger: createLogger({ level: "error" }),
    counters,
    onPacket: (p) => onPacket(p),
  });
  await intake.start();
  console.log(JSON.stringify({ port: intake.bound[0]!.port, hostPid }));
  for await (const _ of Deno.stdin.readable) {
    const packetsIn = counters.snapshot().find((s) => s.name === PACKETS_COUNTER)!;
    console.log(
      JSON.stringify({ values: args.split ? hostValues : stats.values, packets: packetsIn.value }),
    );
  }
}

/** The rule-host side of --split: decodes length-prefixed batches from stdin. */
async function ruleHost() {
  const typesDb = await loadTypesDb();
  const opts = { typesDb, rates: new RateTracker(), stats: createDecodeStats() };
  const visitor = { metric() {}, notification() {} };
  let buf = new Uint8Array(1 << 22);
  let len = 0;
  const timer = setInterval(() => console.log(String(opts.stats.values)), 100);
  for await (const chunk of Deno.stdin.readable) {
    if (len + chunk.length > buf.length) {
      const next = new Uint8Array(Math.max(buf.length * 2, len + chunk.length));
      next.set(buf.subarray(0, len));
      buf = next;
    }
    buf.set(chunk, len);
    len += chunk.length;
    let off = 0;
    while (len - off >= 4) {
      const n = new DataView(buf.buffer, off, 4).getUint32(0);
      if (len - off - 4 < n) break;
      decodeBatch(buf.subarray(off + 4, off + 4 + n), visitor, opts);
      off += 4 + n;
    }
    buf.copyWithin(0, off, len);
    len -= off;
  }
  clearInterval(timer); // the receiver is gone
}

/** utime+stime (s) and VmHWM (bytes) of a process. */
function usage(pid: number): { cpu: number; hwm: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpu = (Number(f[11]) + Number(f[12])) / CLK_TCK;
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  return { cpu, hwm };
}

/** The kernel's drop counter of the UDP socket bound to 127.0.0.1:port. */
function socketDrops(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of Deno.readTextFileSync("/proc/net/udp").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === `0100007F:${hex}`) return Number(f[12]);
  }
  return NaN;
}

async function send(
  port: number,
  rate: number,
): Promise<{ sentValues: number; sentPackets: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      self,
      "--role",
      "sender",
      "--port",
      String(port),
      "--rate",
      String(rate),
      "--seconds",
      args.seconds!,
      "--security",
      security,
    ],
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function lines(stream: ReadableStream<Uint8Array>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  return async (): Promise<string> => {
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        const l = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return l;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("receiver exited");
      buf += value;
    }
  };
}

async function agentRun(rate: number, split: boolean) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      self,
      "--role",
      "receiver",
      "--security",
      security,
      ...(split ? ["--split"] : []),
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const next = lines(child.stdout);
  const writer = child.stdin.getWriter();
  try {
    const { port, hostPid } = JSON.parse(await next());
    await new Promise((r) => setTimeout(r, 500));
    const before = usage(child.pid);
    const hostBefore = hostPid ? usage(hostPid) : { cpu: 0, hwm: 0 };
    const sent = await send(port, rate);
    // wait until everything received has been decoded (the split's rule host may lag behind)
    let got = { values: -1, packets: 0 };
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 300));
      await writer.write(new TextEncoder().encode("stats\n"));
      const now = JSON.parse(await next());
      if (now.values === got.values) break;
      got = now;
    }
    const after = usage(child.pid);
    const hostAfter = hostPid ? usage(hostPid) : { cpu: 0, hwm: 0 };
    const drops = socketDrops(port);
    return {
      sent,
      got,
      cpu: after.cpu - before.cpu + hostAfter.cpu - hostBefore.cpu,
      agentCpu: after.cpu - before.cpu,
      hwm: after.hwm,
      hostHwm: hostAfter.hwm,
      drops,
    };
  } finally {
    child.kill();
    await child.status;
  }
}

async function collectdRun(rate: number) {
  const dir = await Deno.makeTempDir({ prefix: "bench-collectd-" });
  const probe = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await Deno.writeTextFile(`${dir}/auth`, "alice: secret\n");
  const conf = `BaseDir "${dir}"
PIDFile "${dir}/pid"
TypesDB "/usr/share/collectd/types.db"
Interval 10
WriteThreads 1
LoadPlugin network
<Plugin network>
  <Listen "127.0.0.1" "${port}">
    SecurityLevel ${security}
    ${security === "None" ? "" : `AuthFile "${dir}/auth"`}
  </Listen>
</Plugin>
`;
  await Deno.writeTextFile(`${dir}/collectd.conf`, conf);
  const child = new Deno.Command("/usr/sbin/collectd", {
    args: ["-f", "-C", `${dir}/collectd.conf`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const before = usage(child.pid);
    const sent = await send(port, rate);
    await new Promise((r) => setTimeout(r, 300));
    const after = usage(child.pid);
    const drops = socketDrops(port);
    return { sent, cpu: after.cpu - before.cpu, hwm: after.hwm, drops };
  } finally {
    child.kill();
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

async function main() {
  const typesDb = await loadTypesDb();
  const ps = packets("None");
  const rates = new RateTracker();
  const stats = createDecodeStats();
  const visitor = { metric() {}, notification() {} };
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 3000) {
    for (const p of ps) decodePacket(p.bytes, visitor, { typesDb, rates, stats });
    n++;
  }
  const secs = (performance.now() - t0) / 1000;
  const perPacket = stats.values / (n * ps.length);
  console.log(
    `decode (one core, types.db + rates): ${(stats.values / secs / 1e6).toFixed(2)} M values/s, ` +
      `${((n * ps.length) / secs / 1e3).toFixed(0)} k packets/s (${
        perPacket.toFixed(1)
      } values/packet, ${ps.length} distinct packets)`,
  );
  console.log(
    `security ${security}; ${args.seconds} s per rate; loadavg ${
      Deno.loadavg().map((x) => x.toFixed(2)).join(" ")
    }`,
  );
  console.log(
    "receiver  offered/s  received/s  lost%  kernel-drops  CPU-s  CPU-s/M-values  peak-RSS",
  );
  for (const rate of args.rates!.split(",").map(Number)) {
    const secsA = Number(args.seconds);
    let agentPerM = 0;
    for (const split of [false, true]) {
      const a = await agentRun(rate, split);
      const lostA = 1 - a.got.values / a.sent.sentValues;
      agentPerM = a.cpu / (a.got.values / 1e6);
      console.log(
        `${split ? "agent-split" : "agent-1proc"}  ${fmt(rate)}  ${fmt(a.got.values / secsA)}  ${
          (lostA * 100).toFixed(2).padStart(5)
        }  ${String(a.drops).padStart(12)}  ${a.cpu.toFixed(2).padStart(5)}  ${
          agentPerM.toFixed(2).padStart(14)
        }  ${(a.hwm / 2 ** 20).toFixed(0)} MiB` +
          (split
            ? `  (intake process ${
              (a.agentCpu / (a.got.values / 1e6)).toFixed(2)
            } CPU-s/M, rule host RSS ${(a.hostHwm / 2 ** 20).toFixed(0)} MiB)`
            : ""),
      );
    }
    const c = await collectdRun(rate);
    const recvC = c.sent.sentValues * (1 - c.drops / c.sent.sentPackets);
    const collectdPerM = c.cpu / (recvC / 1e6);
    console.log(
      `collectd     ${fmt(rate)}  ${fmt(recvC / secsA)}  ${
        ((1 - recvC / c.sent.sentValues) * 100).toFixed(2).padStart(5)
      }  ${String(c.drops).padStart(12)}  ${c.cpu.toFixed(2).padStart(5)}  ${
        collectdPerM.toFixed(2).padStart(14)
      }  ${(c.hwm / 2 ** 20).toFixed(0)} MiB`,
    );
    console.log(
      `  ratio agent-split/collectd CPU per million values: ${
        (agentPerM / collectdPerM).toFixed(2)
      }`,
    );
  }
}

function fmt(n: number): string {
  return `${(n / 1000).toFixed(0)} k`.padStart(9);
}

if (args.role === "sender") await sender();
else if (args.role === "receiver") await receiver();
else if (args.role === "rulehost") await ruleHost();
else await main();
