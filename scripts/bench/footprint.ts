/**
 * Footprint of the REAL agent against collectd 5.12's own network receiver, on the same replayed
 * traffic in the same run (issue 18's headline figures).
 *
 * ```sh
 * scripts/deno run -A scripts/bench/footprint.ts [--seconds 10] [--rates 100000,300000]
 *     [--handlers 0,50] [--hosts 1000] [--agent scripts/agent|/usr/bin/edge-agent] [--no-mqtt]
 * ```
 *
 * - Traffic: the value lists a real collectd 5.12 sends on this machine (captured first from a
 *   collectd with the usual read plugins at Interval 1), re-encoded for `--hosts` hosts with
 *   moving values, in collectd-sized packets (1452 bytes). A sender process replays them at each
 *   offered rate in values/s.
 * - The agent: started exactly as an operator does (`scripts/agent --config FILE`: the derived
 *   least-privilege flags), with a broker (a real mosquitto) unless `--no-mqtt`, `Telemetry.Listen`
 *   to read its own counters, and 0 or 50 rule handlers. Figures are for the whole process tree
 *   (the agent and its rule host): CPU-s from /proc/<pid>/stat per process, RSS sampled every
 *   100 ms (the tree's simultaneous peak) and after idling.
 * - The reference: collectd 5.12 with only the network plugin listening (one write thread, no
 *   write plugins), the same traffic.
 *
 * Loss: values the sender sent that the receiver did not count (the agent's
 * `edge_agent_collectd_values_total`; collectd's kernel socket drops), plus the agent's rule
 * stage drops. Run it on a quiet machine; it prints the hypervisor's steal over each line.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { decodePacket, loadTypesDb, PacketBuilder } from "../../src/collectd/mod.ts";
import type { Metric } from "../../src/model/mod.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    role: { type: "string", default: "main" },
    port: { type: "string" },
    rate: { type: "string" },
    traffic: { type: "string" },
    seconds: { type: "string", default: "10" },
    rates: { type: "string", default: "100000,300000" },
    handlers: { type: "string", default: "0,50" },
    hosts: { type: "string", default: "1000" },
    agent: { type: "string" },
    "no-mqtt": { type: "boolean", default: false },
    idle: { type: "string", default: "5" },
  },
});
const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const self = new URL(import.meta.url).pathname;
const SECONDS = Number(args.seconds);
const CLK_TCK = 100;
const MiB = 2 ** 20;

// ---------------------------------------------------------------- traffic

/** Value lists from a real collectd on this machine (one Interval-1 round per plugin/series). */
async function captureCollectd(dir: string): Promise<Metric[]> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (sock.addr as Deno.NetAddr).port;
  const conf = `BaseDir "${dir}"
PIDFile "${dir}/capture.pid"
Hostname "capture"
FQDNLookup false
TypesDB "/usr/share/collectd/types.db"
Interval 1
${
    ["cpu", "memory", "load", "interface", "df", "disk", "swap", "uptime", "users", "processes"]
      .map((p) => `LoadPlugin ${p}`).join("\n")
  }
LoadPlugin network
<Plugin network>
  Server "127.0.0.1" "${port}"
</Plugin>
`;
  await Deno.writeTextFile(join(dir, "capture.conf"), conf);
  const child = new Deno.Command("/usr/sbin/collectd", {
    args: ["-f", "-C", join(dir, "capture.conf")],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const typesDb = await loadTypesDb();
  const series = new Map<string, Metric>();
  const deadline = Date.now() + 3500;
  try {
    while (Date.now() < deadline) {
      const got = await Promise.race([
        sock.receive(),
        new Promise<null>((r) => setTimeout(() => r(null), Math.max(1, deadline - Date.now()))),
      ]);
      if (got === null) break;
      decodePacket(got[0], {
        metric(m) {
          const key = `${m.plugin}/${m.plugin_instance}/${m.type}/${m.type_instance}`;
          series.set(key, { ...m, values: [...m.values], dstypes: [...m.dstypes] });
        },
        notification() {},
      }, { typesDb });
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
    sock.close();
  }
  if (series.size === 0) {
    throw new Error("collectd sent nothing to capture (is collectd-core installed?)");
  }
  return [...series.values()];
}

/** `rounds` rounds of every captured series for `hosts` hosts, as collectd-sized packets. */
function buildTraffic(lists: Metric[], hosts: number, rounds: number) {
  const packets: Uint8Array[] = [];
  const counts: number[] = [];
  let count = 0;
  const b = new PacketBuilder((p) => {
    packets.push(p);
    counts.push(count);
    count = 0;
  }, { maxSize: 1452 });
  const t0 = Math.floor(Date.now() / 1000);
  for (let r = 0; r < rounds; r++) {
    for (let h = 0; h < hosts; h++) {
      const host = `edge-${String(h).padStart(4, "0")}.example.net`;
      for (const m of lists) {
        const values = m.values.map((v, i) =>
          m.dstypes[i] === "gauge" ? Number(v) : BigInt.asUintN(64, BigInt(v) + BigInt(r * 100))
        );
        const before = b.size;
        b.add({ ...m, host, time: t0 + r, interval: 1, values });
        if (b.size < before) count = 0;
        count += values.length;
      }
    }
  }
  b.flush();
  return { packets, counts };
}

/** The sender role: replays the traffic file at `--rate` values/s for `--seconds`. */
async function sender() {
  const raw = await Deno.readFile(args.traffic!);
  const packets: { bytes: Uint8Array; values: number }[] = [];
  for (let off = 0; off < raw.length;) {
    const dv = new DataView(raw.buffer, raw.byteOffset + off);
    const len = dv.getUint16(0);
    const values = dv.getUint16(2);
    packets.push({ bytes: raw.subarray(off + 4, off + 4 + len), values });
    off += 4 + len;
  }
  const port = Number(args.port);
  const rate = Number(args.rate);
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port };
  const t0 = performance.now();
  let sentValues = 0, sentPackets = 0, i = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    const due = ((performance.now() - t0) / 1000) * rate;
    while (sentValues < due) {
      const p = packets[i++ % packets.length]!;
      await conn.send(p.bytes, to);
      sentValues += p.values;
      sentPackets++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  conn.close();
  console.log(JSON.stringify({ sentValues, sentPackets }));
}

async function send(port: number, rate: number, traffic: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      self,
      "--role=sender",
      `--port=${port}`,
      `--rate=${rate}`,
      `--seconds=${SECONDS}`,
      `--traffic=${traffic}`,
    ],
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)) as {
    sentValues: number;
    sentPackets: number;
  };
}

// ---------------------------------------------------------------- /proc

interface ProcUsage {
  cpu: number;
  rss: number;
  hwm: number;
  /** Private memory (heap, stacks, buffers): RssAnon. */
  anon: number;
  /** Mapped program code and libraries (RssFile + RssShmem): shared by the agent's processes. */
  file: number;
}

function usage(pid: number): ProcUsage | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    return {
      cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK,
      rss: kb("VmRSS"),
      hwm: kb("VmHWM"),
      anon: kb("RssAnon"),
      file: kb("RssFile") + kb("RssShmem"),
    };
  } catch {
    return null;
  }
}

/** `pid` and its descendants. */
function tree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const s = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      parent.set(Number(e.name), Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]));
    } catch { /* gone */ }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const [p, pp] of parent) if (pp === out[i]) out.push(p);
  }
  return out;
}

/** CPU-s per process of the tree, by a short label (agent / rule-host / other). */
function treeCpu(pids: number[]): Map<number, number> {
  return new Map(pids.map((p) => [p, usage(p)?.cpu ?? 0]));
}

/**
 * The tree's memory: every process's private memory, plus the program's mapped code once (the
 * agent and its rule host run the same executable, so the kernel holds those pages once; a plain
 * sum of RSS would count them twice).
 */
function treeRss(pids: number[]): number {
  let anon = 0, file = 0;
  for (const p of pids) {
    const u = usage(p);
    if (!u) continue;
    anon += u.anon;
    file = Math.max(file, u.file);
  }
  return anon + file;
}

/** `anon+anon+…(+file)` in MiB, for the per-process detail. */
function treeDetail(pids: number[]): string {
  const us = pids.map(usage).filter((u) => u !== null);
  return us.map((u) => (u.anon / MiB).toFixed(0)).join("+") +
    ` (+${(Math.max(...us.map((u) => u.file)) / MiB).toFixed(0)} code)`;
}

/** Samples the tree's memory (see treeRss) every 100 ms until stopped; returns the peak. */
function rssSampler(pids: () => number[]) {
  let peak = 0;
  let detail = "";
  const timer = setInterval(() => {
    const now = treeRss(pids());
    if (now > peak) {
      peak = now;
      detail = treeDetail(pids());
    }
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return { peak, detail };
    },
  };
}

/** Hypervisor steal share between two /proc/stat readings. */
function cpuTimes(): number[] {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0]!;
  return line.trim().split(/\s+/).slice(1).map(Number);
}
function steal(a: number[], b: number[]): number {
  const d = b.map((x, i) => x - a[i]!);
  const total = d.reduce((s, x) => s + x, 0);
  return total > 0 ? (d[7] ?? 0) / total : 0;
}

function socketDrops(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of Deno.readTextFileSync("/proc/net/udp").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === `0100007F:${hex}`) return Number(f[12]);
  }
  return 0;
}

function freePort(transport: "udp" | "tcp"): number {
  if (transport === "udp") {
    const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const p = (s.addr as Deno.NetAddr).port;
    s.close();
    return p;
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the agent

/** 50 handlers (10 files × 5): thresholds, sustained/consecutive latches, rates. */
const RULE = (i: number) => `
export const metrics = {
  cpu_busy_${i}(m: any) {
    if (m.plugin === "cpu" && m.type_instance === "idle" && (m.rates[0] ?? 100) < 0) {
      return { service: "s", command: "c" };
    }
  },
  memory_low_${i}(m: any, ctx: any) {
    if (m.plugin !== "memory" || m.type_instance !== "free") return;
    if (ctx.sustained(Number(m.values[0]) < ${1000 + i}, { samples: 3 })) {
      return { service: "s", command: "c" };
    }
  },
  errors_${i}(m: any, ctx: any) {
    if (m.type !== "if_errors") return;
    if (ctx.sustained((m.rates[0] ?? 0) > 1e9, { seconds: 30 })) return { service: "s", command: "c" };
  },
  disk_${i}(m: any) {
    if (m.type === "df_complex" && m.type_instance === "free" && Number(m.values[0]) < 0) {
      return { service: "s", command: "c" };
    }
  },
  load_${i}(m: any, ctx: any) {
    if (m.plugin !== "load") return;
    if (ctx.consecutive(Number(m.values[0]) > 1e6) > 3) return { service: "s", command: "c" };
  },
};
`;

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name) && (line[name.length] === " " || line[name.length] === "{")) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

interface Line {
  who: string;
  rate: number;
  sent: number;
  received: number;
  lostPct: number;
  cpu: number;
  perProcess: string;
  cpuPerM: number;
  peakRss: number;
  peakDetail: string;
  steal: number;
}

async function startMosquitto(dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const port = freePort("tcp");
  await Deno.writeTextFile(
    join(dir, "mosquitto.conf"),
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`,
  );
  const child = new Deno.Command("/usr/sbin/mosquitto", {
    args: ["-c", join(dir, "mosquitto.conf")],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await sleep(50);
    }
  }
  return {
    port,
    async stop() {
      child.kill();
      await child.status;
    },
  };
}

async function agentRuns(
  handlers: number,
  traffic: string,
  dir: string,
  broker: number | null,
): Promise<{ lines: Line[]; idleRss: number; startMs: number; perProcessIdle: string }> {
  const work = await Deno.makeTempDir({ dir, prefix: `agent-${handlers}-` });
  const rules = join(work, "rules");
  await Deno.mkdir(rules);
  for (let i = 0; i < handlers / 5; i++) {
    await Deno.writeTextFile(join(rules, `bench_${i}.ts`), RULE(i));
  }
  const port = freePort("udp");
  const telemetry = freePort("tcp");
  const config = {
    StateDir: join(work, "state"),
    RulesDir: rules,
    LogLevel: "info",
    Listen: [{ Host: "127.0.0.1", Port: port }],
    Telemetry: { Listen: `127.0.0.1:${telemetry}` },
    ...(broker === null ? {} : {
      Host: `127.0.0.1:${broker}`,
      CommandTopic: "bench/{host}/cmd",
      CommandResultTopic: "bench/{host}/result",
      StatusTopic: "bench/{host}/status",
    }),
    Services: {},
  };
  const configFile = join(work, "config.json");
  await Deno.writeTextFile(configFile, JSON.stringify(config, null, 2));
  const launcher = args.agent ?? join(root, "scripts/agent");
  const t0 = performance.now();
  const child = new Deno.Command(launcher, {
    args: ["--config", configFile],
    cwd: "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const out: string[] = [];
  let listeningAt = 0;
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      for (const l of chunk.split("\n")) {
        if (!l) continue;
        out.push(l);
        if (!listeningAt && /listening/.test(l)) listeningAt = performance.now();
      }
    }
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  try {
    for (let i = 0; !listeningAt; i++) {
      if (i > 300) throw new Error(`the agent did not report listening:\n${out.join("\n")}`);
      await sleep(50);
    }
    const startMs = listeningAt - t0;
    // Rules loaded and MQTT connected before "idle".
    for (let i = 0; i < 200; i++) {
      if (out.some((l) => /started/.test(l))) break;
      await sleep(50);
    }
    await sleep(Number(args.idle) * 1000);
    let pids = tree(child.pid);
    const idleRss = treeRss(pids);
    const perProcessIdle = treeDetail(pids);
    const lines: Line[] = [];
    for (const rate of args.rates!.split(",").map(Number)) {
      pids = tree(child.pid);
      const before = treeCpu(pids);
      const valuesBefore = await metric(telemetry, "edge_agent_collectd_values_total");
      const dropsBefore = await metric(telemetry, "edge_agent_rules_dropped_packets_total");
      const kernelBefore = socketDrops(port);
      const st0 = cpuTimes();
      const sampler = rssSampler(() => pids);
      const sent = await send(port, rate, traffic);
      // Drain: until the rule stage's evaluations stop moving.
      let last = -1;
      for (let i = 0; i < 50; i++) {
        await sleep(200);
        const e = await metric(telemetry, "edge_agent_rules_evaluations_total") +
          await metric(telemetry, "edge_agent_collectd_values_total");
        if (e === last) break;
        last = e;
      }
      const { peak, detail: peakDetail } = sampler.stop();
      const st1 = cpuTimes();
      // A rule host restarted during the line is a new pid: its CPU counts whole; one that is
      // gone took its CPU with it (reported).
      const gone = pids.filter((p) => usage(p) === null).length;
      pids = tree(child.pid);
      const after = treeCpu(pids);
      const received = await metric(telemetry, "edge_agent_collectd_values_total") - valuesBefore;
      const ruleDrops = await metric(telemetry, "edge_agent_rules_dropped_packets_total") -
        dropsBefore;
      const kernel = socketDrops(port) - kernelBefore;
      const per = pids.map((p) => after.get(p)! - (before.get(p) ?? 0));
      const cpu = per.reduce((s, x) => s + x, 0);
      // Values lost: not received, plus the rule stage's dropped packets (≈ values per packet).
      const perPacket = sent.sentValues / sent.sentPackets;
      const lost = sent.sentValues - received + ruleDrops * perPacket;
      lines.push({
        who: `agent, ${handlers} handlers`,
        rate,
        sent: sent.sentValues,
        received,
        lostPct: Math.max(0, lost) / sent.sentValues * 100,
        cpu,
        perProcess: per.map((x) => x.toFixed(2)).join("+") + (kernel ? ` kdrops=${kernel}` : "") +
          (gone ? ` ${gone} process(es) gone` : ""),
        cpuPerM: cpu / (received / 1e6),
        peakRss: peak,
        peakDetail,
        steal: steal(st0, st1),
      });
    }
    return { lines, idleRss, startMs, perProcessIdle };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await pumped.catch(() => {});
  }
}

async function collectdRuns(traffic: string, dir: string) {
  const work = await Deno.makeTempDir({ dir, prefix: "collectd-" });
  const port = freePort("udp");
  await Deno.writeTextFile(
    join(work, "collectd.conf"),
    `BaseDir "${work}"
PIDFile "${work}/pid"
TypesDB "/usr/share/collectd/types.db"
Interval 10
WriteThreads 1
LoadPlugin network
<Plugin network>
  <Listen "127.0.0.1" "${port}">
  </Listen>
</Plugin>
`,
  );
  const child = new Deno.Command("/usr/sbin/collectd", {
    args: ["-f", "-C", join(work, "collectd.conf")],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await sleep(Number(args.idle) * 1000);
    const idleRss = treeRss([child.pid]);
    const lines: Line[] = [];
    for (const rate of args.rates!.split(",").map(Number)) {
      const before = usage(child.pid)!.cpu;
      const kernelBefore = socketDrops(port);
      const st0 = cpuTimes();
      const sampler = rssSampler(() => [child.pid]);
      const sent = await send(port, rate, traffic);
      await sleep(500);
      const { peak, detail: peakDetail } = sampler.stop();
      const st1 = cpuTimes();
      const cpu = usage(child.pid)!.cpu - before;
      const dropped = socketDrops(port) - kernelBefore;
      const perPacket = sent.sentValues / sent.sentPackets;
      const received = sent.sentValues - dropped * perPacket;
      lines.push({
        who: "collectd receiver",
        rate,
        sent: sent.sentValues,
        received,
        lostPct: (sent.sentValues - received) / sent.sentValues * 100,
        cpu,
        perProcess: cpu.toFixed(2),
        cpuPerM: cpu / (received / 1e6),
        peakRss: peak,
        peakDetail,
        steal: steal(st0, st1),
      });
    }
    return { lines, idleRss };
  } finally {
    child.kill();
    await child.status;
  }
}

async function main() {
  const dir = await Deno.makeTempDir({ prefix: "bench-footprint-" });
  let mosquitto: Awaited<ReturnType<typeof startMosquitto>> | null = null;
  try {
    const lists = await captureCollectd(dir);
    const hosts = Number(args.hosts);
    const { packets, counts } = buildTraffic(lists, hosts, 3);
    const traffic = join(dir, "traffic.bin");
    const total = packets.reduce((s, p) => s + 4 + p.length, 0);
    const buf = new Uint8Array(total);
    let off = 0;
    packets.forEach((p, i) => {
      const dv = new DataView(buf.buffer, off);
      dv.setUint16(0, p.length);
      dv.setUint16(2, counts[i]!);
      buf.set(p, off + 4);
      off += 4 + p.length;
    });
    await Deno.writeFile(traffic, buf);
    const values = counts.reduce((s, x) => s + x, 0);
    console.log(
      `traffic: ${lists.length} series captured from a real collectd, × ${hosts} hosts × 3 ` +
        `rounds = ${packets.length} packets, ${(values / packets.length).toFixed(1)} values ` +
        `each; ${SECONDS} s per line; loadavg ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
    );
    if (!args["no-mqtt"]) mosquitto = await startMosquitto(dir);
    const c = await collectdRuns(traffic, dir);
    const agents = [];
    for (const h of args.handlers!.split(",").map(Number)) {
      agents.push({ h, ...await agentRuns(h, traffic, dir, mosquitto?.port ?? null) });
    }
    const ref = new Map(c.lines.map((l) => [l.rate, l.cpuPerM]));
    console.log(
      "\nwho                      offered/s  lost%  CPU-s (per process)        CPU-s/M values  " +
        "×collectd  peak RSS  steal",
    );
    for (const l of [...c.lines, ...agents.flatMap((a) => a.lines)]) {
      console.log(
        `${l.who.padEnd(24)} ${String(l.rate / 1000).padStart(6)} k  ${
          l.lostPct.toFixed(2).padStart(5)
        }  ${`${l.cpu.toFixed(2)} (${l.perProcess})`.padEnd(26)} ${
          l.cpuPerM.toFixed(2).padStart(14)
        }  ${(l.cpuPerM / ref.get(l.rate)!).toFixed(2).padStart(9)}  ${
          (l.peakRss / MiB).toFixed(0).padStart(5)
        } MiB  ${(l.steal * 100).toFixed(1)}%  ${l.peakDetail}`,
      );
    }
    console.log(
      "\nmemory: private memory of each process + the program's code once (both agent processes" +
        " map the same executable; summing RSS would count it twice)",
    );
    console.log("idle memory (whole tree):");
    console.log(`  collectd receiver           ${(c.idleRss / MiB).toFixed(1)} MiB`);
    for (const a of agents) {
      console.log(
        `  agent, ${String(a.h).padStart(2)} handlers${mosquitto ? ", MQTT" : ""}  ${
          (a.idleRss / MiB).toFixed(1)
        } MiB (${a.perProcessIdle}); start-up to "listening" ${a.startMs.toFixed(0)} ms`,
      );
    }
  } finally {
    await mosquitto?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (args.role === "sender") await sender();
else await main();
