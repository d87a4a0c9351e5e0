/**
 * Footprint of the REAL agent against collectd 5.12's own network receiver, on the same replayed
 * traffic in the same run: CPU-s per million values per process, loss, memory of the process tree
 * (idle and peak), start-up to "listening".
 *
 * ```sh
 * scripts/deno run -A scripts/bench/footprint.ts [--seconds 10] [--rates 100000,300000]
 *     [--handlers 0,50,50d] [--hosts 1000] [--repeat 1] [--idle 5] [--agent LAUNCHER] [--no-mqtt]
 *     [--rmem-default package|keep|BYTES] [--traffic FILE] [--save-traffic FILE]
 *     [--v8-flags FLAGS] [--no-collectd]
 * ```
 *
 * - Traffic (`_traffic.ts`): the value lists a real collectd 5.12 sends on this machine, re-encoded
 *   for `--hosts` hosts with moving values, in collectd-sized packets; a sender process
 *   (`_replay.ts`) replays them at each offered rate in values/s.
 * - The agent, as the package runs it (default): `scripts/bundle`'s files and a copy of the Deno
 *   runtime in a folder of their own (so no other process shares its pages, as in
 *   /usr/lib/edge-agent), started with the daemon's derived flags, `DENO_DIR` a cache folder (the
 *   unit's /var/cache/edge-agent), `EDGE_AGENT_RMEM_DEFAULT` read and `MALLOC_ARENA_MAX=1` set as
 *   the package's launcher does.
 *   Each configuration is started once before it is measured (the code cache, as on every start
 *   but the first after an install). `--agent LAUNCHER` runs another launcher instead
 *   (`scripts/agent`: the development run). With a real mosquitto (unless `--no-mqtt`),
 *   `Telemetry.Listen` (its counters) and 0 or 50 rule handlers (`_rules.ts`); `50d`: the same
 *   50 handlers, each declaring the plugin (and type) it reads (docs/rules.md).
 * - The reference: collectd 5.12 with only the network plugin listening (one write thread, no
 *   write plugins, only errors logged: see the config below), the same traffic.
 * - `--v8-flags`: DENO_V8_FLAGS for the agent and its rule host (experiments with V8's heap sizes,
 *   e.g. `--max-semi-space-size=2`), on top of the flags they are started with.
 * - `--no-collectd`: the agent's lines only (quicker experiments; no ratio is printed).
 * - `--repeat N`: N rounds, each collectd's lines then every agent configuration's; an agent
 *   line's ratio is to the collectd line of its own round (the machine's speed drifts).
 * - Idle: after `--idle` seconds (the broker connected), memory, and CPU over the second half.
 * - `--rmem-default package` (default): net.core.rmem_default as the package's sysctl file sets it
 *   (packaging/sysctl/), for both receivers, restored afterwards; `keep`: as it is; or bytes.
 *
 * CPU from /proc/<pid>/stat of each process; memory three ways (`_proc.ts` TreeMemory): private
 * memory + the runtime's code once, the PSS sum, the plain RSS sum; peaks sampled every 200 ms.
 * Before the lines, each receiver gets one pass of the traffic (it then knows every series, as after
 * a fleet's first interval); each line ends when the receiver is done with what it was sent (its
 * counters and its CPU stop moving: collectd's write queue lags behind its socket under a flood).
 * Loss: values the sender sent that the receiver did not count (the agent's
 * `edge_agent_collectd_values_total`; collectd's kernel socket drops), plus the agent's rule
 * stage drops. Run it on a quiet machine; it prints the hypervisor's steal over each line.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { parseConfig } from "../../src/config/mod.ts";
import { derivePermissions, permissionFlags } from "../../src/permissions/mod.ts";
import {
  cpuTimes,
  memorySampler,
  MiB,
  rmemDefault,
  setRmemDefault,
  socketDrops,
  steal,
  tree,
  treeCpu,
  type TreeMemory,
  treeMemory,
  usage,
} from "./_proc.ts";
import { freePort, startMosquitto } from "./_broker.ts";
import { RULE } from "./_rules.ts";
import { captureCollectd, writeTraffic } from "./_traffic.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "10" },
    rates: { type: "string", default: "100000,300000" },
    handlers: { type: "string", default: "0,50,50d" },
    hosts: { type: "string", default: "1000" },
    repeat: { type: "string", default: "1" },
    agent: { type: "string" },
    "no-mqtt": { type: "boolean", default: false },
    idle: { type: "string", default: "5" },
    "rmem-default": { type: "string", default: "package" },
    traffic: { type: "string" },
    "save-traffic": { type: "string" },
    "v8-flags": { type: "string" },
    "no-collectd": { type: "boolean", default: false },
  },
});
const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const SECONDS = Number(args.seconds);
const RATES = args.rates!.split(",").filter(Boolean).map(Number);

async function send(port: number, rate: number, traffic: string, seconds = SECONDS) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      join(root, "scripts/bench/_replay.ts"),
      `--port=${port}`,
      `--rate=${rate}`,
      `--seconds=${seconds}`,
      `--traffic=${traffic}`,
    ],
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)) as {
    sentValues: number;
    sentPackets: number;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits `--idle` seconds; returns the CPU the processes of `pids()` used in the second half, in %
 * of one core (the first half lets start-up settle).
 */
async function idleShare(pids: () => number[]): Promise<number> {
  const half = Number(args.idle) * 500;
  const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  await sleep(half);
  const before = sum(treeCpu(pids()));
  await sleep(half);
  return (sum(treeCpu(pids())) - before) / (half / 1000) * 100;
}

const cpuOf = (pids: number[]) => pids.reduce((sum, p) => sum + (usage(p)?.cpu ?? 0), 0);

/** Waits until `pids` use under a tenth of a core (their backlog is done), at most 30 s. */
async function quiet(pids: () => number[]): Promise<void> {
  let last = cpuOf(pids());
  for (let i = 0; i < 150; i++) {
    await sleep(200);
    const now = cpuOf(pids());
    if (now - last < 0.02) return;
    last = now;
  }
}

/**
 * One pass of the traffic before anything is measured: both receivers then know every series (as
 * after a fleet's first interval), so the lines measure the steady state, not the first sight of
 * 73 000 series.
 */
async function warmUp(port: number, traffic: string, pids: () => number[]) {
  await send(port, 100_000, traffic, 4);
  await quiet(pids);
}

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
  peak: TreeMemory;
  steal: number;
}

/** How the agent is started: a command line for a config file. */
interface Layout {
  name: string;
  command(configFile: string): { cmd: string; args: string[]; env: Record<string, string> };
}

/**
 * The package's bundled-file layout in `dir`: the bundle's files and a copy of the runtime, the
 * daemon's flags derived for it, the environment the package's launcher and unit give it.
 */
async function bundleLayout(dir: string): Promise<Layout> {
  const lib = join(dir, "lib");
  await Deno.mkdir(lib, { recursive: true });
  const bundle = join(lib, "edge-agent.js");
  const built = await new Deno.Command(join(root, "scripts/bundle"), {
    args: ["--output", bundle],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!built.success) throw new Error(new TextDecoder().decode(built.stderr));
  const deno = join(lib, "deno");
  await Deno.copyFile(Deno.execPath(), deno);
  await Deno.chmod(deno, 0o755);
  const cache = join(dir, "cache");
  await Deno.mkdir(cache);
  return {
    name: "bundle",
    command(configFile) {
      const { config } = parseConfig(Deno.readTextFileSync(configFile), configFile);
      const flags = permissionFlags(derivePermissions(config, { self: deno }));
      return {
        cmd: deno,
        args: ["run", "--no-config", ...flags, bundle, "--config", configFile],
        env: {
          DENO_DIR: cache,
          DENO_NO_UPDATE_CHECK: "1",
          EDGE_AGENT_RMEM_DEFAULT: String(rmemDefault()),
          MALLOC_ARENA_MAX: "1", // as the package's launcher sets it
          ...(args["v8-flags"] ? { DENO_V8_FLAGS: args["v8-flags"] } : {}),
        },
      };
    },
  };
}

function launcherLayout(launcher: string): Layout {
  return {
    name: launcher,
    command: (configFile) => ({ cmd: launcher, args: ["--config", configFile], env: {} }),
  };
}

/** A started agent: its pid, its output so far, and when it logged what. */
interface Running {
  child: Deno.ChildProcess;
  out: string[];
  listeningMs: number;
  stop(): Promise<void>;
}

async function startAgent(layout: Layout, configFile: string): Promise<Running> {
  const { cmd, args: argv, env } = layout.command(configFile);
  const t0 = performance.now();
  const child = new Deno.Command(cmd, {
    args: argv,
    cwd: "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  const out: string[] = [];
  let listeningAt = 0;
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      for (const l of chunk.split("\n")) {
        if (!l) continue;
        out.push(l);
        if (!listeningAt && /listening for collectd packets/.test(l)) {
          listeningAt = performance.now();
        }
      }
    }
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    await pumped.catch(() => {});
  };
  for (let i = 0; !listeningAt; i++) {
    if (i > 600) {
      await stop();
      throw new Error(`the agent did not report listening:\n${out.join("\n")}`);
    }
    await sleep(10);
  }
  const running = { child, out, listeningMs: listeningAt - t0, stop };
  // Rules loaded (and the broker connected) before anything is measured.
  const ready = (l: string) => / started/.test(l);
  for (let i = 0; i < 300 && !out.some(ready); i++) await sleep(50);
  return running;
}

async function agentRuns(
  layout: Layout,
  spec: string,
  traffic: string,
  dir: string,
  broker: number | null,
): Promise<{ label: string; lines: Line[]; idle: TreeMemory; idleCpu: number; startMs: number }> {
  const handlers = parseInt(spec);
  const declared = spec.endsWith("d");
  const label = `${handlers} handlers${declared ? ", declared" : ""}`;
  const work = await Deno.makeTempDir({ dir, prefix: `agent-${handlers}-` });
  const rules = join(work, "rules");
  await Deno.mkdir(rules);
  for (let i = 0; i < handlers / 5; i++) {
    await Deno.writeTextFile(join(rules, `bench_${i}.ts`), RULE(i, declared));
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
  // Once before measuring: the code cache, as on every start but the first after an install.
  await (await startAgent(layout, configFile)).stop();
  const agent = await startAgent(layout, configFile);
  try {
    const connected = () => agent.out.some((l) => /connected to broker/.test(l));
    for (let i = 0; broker !== null && !connected(); i++) {
      if (i > 100) {
        throw new Error(`the agent did not connect to the broker:\n${agent.out.join("\n")}`);
      }
      await sleep(50);
    }
    const root = agent.child.pid;
    const idleCpu = await idleShare(() => tree(root));
    let pids = tree(root);
    const idle = treeMemory(pids);
    await warmUp(port, traffic, () => tree(root));
    const lines: Line[] = [];
    for (const rate of RATES) {
      pids = tree(root);
      const before = treeCpu(pids);
      const valuesBefore = await metric(telemetry, "edge_agent_collectd_values_total");
      const dropsBefore = await metric(telemetry, "edge_agent_rules_dropped_packets_total");
      const kernelBefore = socketDrops(port);
      const st0 = cpuTimes();
      const sampler = memorySampler(() => pids);
      const sent = await send(port, rate, traffic);
      // Drain: until the counters stop moving.
      let last = -1;
      for (let i = 0; i < 50; i++) {
        await sleep(200);
        const e = await metric(telemetry, "edge_agent_rules_evaluations_total") +
          await metric(telemetry, "edge_agent_collectd_values_total");
        if (e === last) break;
        last = e;
      }
      await quiet(() => pids);
      const peak = sampler.stop();
      const st1 = cpuTimes();
      // A rule host restarted during the line is a new pid: its CPU counts whole; one that is
      // gone took its CPU with it (reported).
      const gone = pids.filter((p) => usage(p) === null).length;
      pids = tree(root);
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
        who: `agent, ${label}`,
        rate,
        sent: sent.sentValues,
        received,
        lostPct: Math.max(0, lost) / sent.sentValues * 100,
        cpu,
        perProcess: per.map((x) => x.toFixed(2)).join("+") + (kernel ? ` kdrops=${kernel}` : "") +
          (ruleDrops ? ` rule-drops=${ruleDrops}` : "") +
          (gone ? ` ${gone} process(es) gone` : ""),
        cpuPerM: cpu / (received / 1e6),
        peak,
        steal: steal(st0, st1),
      });
    }
    return { label, lines, idle, idleCpu, startMs: agent.listeningMs };
  } finally {
    await agent.stop();
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
# With no write plugin, collectd logs "Available write targets:: [none]" for every value list
# (INFO); printed to stderr that is a full core at 100 k values/s. The receiver's own cost is what
# is compared, so only errors are logged.
LoadPlugin logfile
<Plugin logfile>
  LogLevel err
  File "${work}/collectd.log"
</Plugin>
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
    const idleCpu = await idleShare(() => [child.pid]);
    const idle = treeMemory([child.pid]);
    await warmUp(port, traffic, () => [child.pid]);
    const lines: Line[] = [];
    for (const rate of RATES) {
      const before = usage(child.pid)!.cpu;
      const kernelBefore = socketDrops(port);
      const st0 = cpuTimes();
      const sampler = memorySampler(() => [child.pid]);
      const sent = await send(port, rate, traffic);
      // Its write queue may still hold values: until it is done with them.
      await quiet(() => [child.pid]);
      const peak = sampler.stop();
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
        peak,
        steal: steal(st0, st1),
      });
    }
    return { lines, idle, idleCpu };
  } finally {
    child.kill();
    await child.status;
  }
}

/** net.core.rmem_default of the package's sysctl file. */
function packageRmemDefault(): number {
  const text = Deno.readTextFileSync(join(root, "packaging/sysctl/60-edge-agent.conf"));
  const m = /^\s*net\.core\.rmem_default\s*=\s*(\d+)/m.exec(text);
  if (!m) throw new Error("packaging/sysctl/60-edge-agent.conf sets no net.core.rmem_default");
  return Number(m[1]);
}

const mib = (x: number) => (x / MiB).toFixed(0).padStart(4);
const three = (m: TreeMemory) => `${mib(m.privateCode)} /${mib(m.pss)} /${mib(m.rss)} MiB`;

async function main() {
  const dir = await Deno.makeTempDir({ prefix: "bench-footprint-" });
  let mosquitto: Awaited<ReturnType<typeof startMosquitto>> | null = null;
  let restoreRmem: number | null = null;
  try {
    let traffic = args.traffic;
    if (traffic === undefined) {
      const lists = await captureCollectd(dir);
      traffic = join(dir, "traffic.bin");
      const t = await writeTraffic(traffic, lists, Number(args.hosts));
      console.log(
        `traffic: ${lists.length} series captured from a real collectd, × ${args.hosts} hosts × 3 ` +
          `rounds = ${t.packets} packets, ${(t.values / t.packets).toFixed(1)} values each`,
      );
      if (args["save-traffic"]) {
        await Deno.copyFile(traffic, args["save-traffic"]);
        return;
      }
    }
    const rmem = args["rmem-default"];
    if (rmem !== "keep") {
      restoreRmem = setRmemDefault(rmem === "package" ? packageRmemDefault() : Number(rmem));
    }
    const layout = args.agent ? launcherLayout(args.agent) : await bundleLayout(dir);
    console.log(
      `agent: ${layout.name}; ${SECONDS} s per line; net.core.rmem_default ${rmemDefault()}` +
        `${rmem === "package" ? " (the package's)" : ""}; loadavg ${
          Deno.loadavg().map((x) => x.toFixed(2)).join(" ")
        }`,
    );
    if (!args["no-mqtt"]) mosquitto = await startMosquitto(dir, ["persistence false"]);
    // Rounds: collectd, then each agent configuration; a ratio is to its own round's collectd
    // (this machine's speed drifts by tens of percent over minutes).
    const rounds = [];
    for (let r = 0; r < Number(args.repeat); r++) {
      const c = args["no-collectd"] ? null : await collectdRuns(traffic, dir);
      const agents = [];
      for (const h of args.handlers!.split(",")) {
        agents.push(await agentRuns(layout, h, traffic, dir, mosquitto?.port ?? null));
      }
      rounds.push({ c, agents });
    }
    console.log(
      "\nmemory: private+code once / PSS sum / RSS sum of the process tree (see _proc.ts)\n" +
        "who                           offered/s  lost%  CPU-s (per process)          CPU-s/M values  " +
        "×collectd  peak memory              steal  peak private (MiB)",
    );
    for (const { c, agents } of rounds) {
      const ref = new Map(c?.lines.map((l) => [l.rate, l.cpuPerM]));
      for (const l of [...c?.lines ?? [], ...agents.flatMap((a) => a.lines)]) {
        const ratio = ref.has(l.rate) ? (l.cpuPerM / ref.get(l.rate)!).toFixed(2) : "-";
        console.log(
          `${l.who.padEnd(29)} ${String(l.rate / 1000).padStart(6)} k  ${
            l.lostPct.toFixed(2).padStart(5)
          }  ${`${l.cpu.toFixed(2)} (${l.perProcess})`.padEnd(28)} ${
            l.cpuPerM.toFixed(2).padStart(14)
          }  ${ratio.padStart(9)}  ${three(l.peak)}  ${
            (l.steal * 100).toFixed(1).padStart(4)
          }%  ${l.peak.detail}`,
        );
      }
    }
    console.log(
      "\nidle memory of the tree (private+code once / PSS sum / RSS sum), idle CPU (% of a core):",
    );
    for (const { c, agents } of rounds) {
      if (c) {
        const who = "collectd receiver".padEnd(32);
        console.log(`  ${who}${three(c.idle)}  CPU ${c.idleCpu.toFixed(2)} %`);
      }
      for (const a of agents) {
        console.log(
          `  agent, ${(a.label + (mosquitto ? ", MQTT" : "")).padEnd(25)}${
            three(a.idle)
          }  (${a.idle.detail}); CPU ${a.idleCpu.toFixed(2)} %; start-up to "listening" ${
            a.startMs.toFixed(0)
          } ms`,
        );
      }
    }
  } finally {
    if (restoreRmem !== null) setRmemDefault(restoreRmem);
    await mosquitto?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

await main();
