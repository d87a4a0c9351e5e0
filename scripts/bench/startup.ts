/**
 * Start-up and footprint of the agent as shipped, beside a minimal Deno hello-world in the same
 * run: size (bundle + runtime; the compiled binary too when DENORT_BIN lets scripts/compile build
 * one), time from spawn to "listening", and idle RSS (agent + its rule-host child).
 *
 *   scripts/deno run -A scripts/bench/startup.ts [--runs 5] [--idle-seconds 3]
 *
 * Figures are medians over the runs; the machine is shared, so expect noise.
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseConfig } from "../../src/config/mod.ts";
import { derivePermissions, permissionFlags } from "../../src/permissions/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    "idle-seconds": { type: "string", default: "3" },
  },
});
const RUNS = Number(values.runs);
const IDLE_MS = Number(values["idle-seconds"]) * 1000;
const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

interface Sample {
  startupMs: number;
  rssKiB: number;
  childRssKiB: number;
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)
      .filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Spawns `cmd args`, times until a stdout/stderr line matches `ready`, then measures idle RSS. */
async function sample(cmd: string, args: string[], ready: RegExp, cwd: string): Promise<Sample> {
  const t0 = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let startupMs = -1;
  const { promise: seen, resolve } = Promise.withResolvers<void>();
  const output: string[] = [];
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      output.push(chunk);
      if (startupMs < 0 && ready.test(chunk)) {
        startupMs = performance.now() - t0;
        resolve();
      }
    }
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const timer = setTimeout(() => resolve(), 30_000);
  await seen;
  clearTimeout(timer);
  if (startupMs < 0) {
    child.kill("SIGKILL");
    await pumped;
    throw new Error(`${cmd} never printed ${ready}:\n${output.join("")}`);
  }
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const rss = rssKiB(child.pid);
  const childRss = children(child.pid).reduce((sum, p) => sum + rssKiB(p), 0);
  child.kill("SIGTERM");
  await pumped;
  await child.status;
  return { startupMs, rssKiB: rss, childRssKiB: childRss };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(name: string, cmd: string, args: string[], ready: RegExp, cwd: string) {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await sample(cmd, args, ready, cwd));
  const s = {
    startupMs: median(samples.map((x) => x.startupMs)),
    minMs: Math.min(...samples.map((x) => x.startupMs)),
    maxMs: Math.max(...samples.map((x) => x.startupMs)),
    rssKiB: median(samples.map((x) => x.rssKiB)),
    childRssKiB: median(samples.map((x) => x.childRssKiB)),
  };
  console.log(
    `${name.padEnd(34)} start-up ${s.startupMs.toFixed(0).padStart(5)} ms ` +
      `(min ${s.minMs.toFixed(0)}, max ${s.maxMs.toFixed(0)})  idle RSS ${
        (s.rssKiB / 1024).toFixed(1)
      } MiB` + (s.childRssKiB ? ` + rule host ${(s.childRssKiB / 1024).toFixed(1)} MiB` : ""),
  );
  return s;
}

async function sh(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

const tmp = await Deno.makeTempDir({ prefix: "edge-agent-bench-" });
try {
  const bin = join(tmp, "bin");
  const etc = join(tmp, "etc");
  await Deno.mkdir(bin);
  await Deno.mkdir(join(etc, "rules"), { recursive: true });
  const bundle = join(bin, "edge-agent.js");
  await sh(join(root, "scripts/bundle"), ["--output", bundle]);
  const deno = join(bin, "deno");
  await Deno.copyFile(Deno.execPath(), deno);
  await Deno.chmod(deno, 0o755);
  for (const e of Deno.readDirSync(join(root, "rules"))) {
    await Deno.copyFile(join(root, "rules", e.name), join(etc, "rules", e.name));
  }
  const probe = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const configFile = join(etc, "config.json");
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: port }],
      Services: { hello: { commands: { exec: "/bin/echo hello" } } },
    }),
  );
  const { config } = parseConfig(await Deno.readTextFile(configFile), configFile);
  const flags = permissionFlags(derivePermissions(config, { self: deno }));
  const hello = join(bin, "hello.js");
  await Deno.writeTextFile(hello, 'console.log("hello, listening"); setInterval(() => {}, 1e9);\n');

  const size = (p: string) => (Deno.statSync(p).size / 1024 / 1024).toFixed(1) + " MiB";
  console.log(
    `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ${RUNS} runs each, idle ${IDLE_MS} ms`,
  );
  console.log(`bundle ${size(bundle)} + deno runtime ${size(deno)} (bundled-file layout)`);

  let binary: string | null = null;
  if (Deno.env.get("DENORT_BIN")) {
    binary = join(bin, "edge-agent");
    try {
      await sh(join(root, "scripts/compile"), [
        "--config",
        configFile,
        "--output",
        binary,
      ]);
      console.log(`compiled binary ${size(binary)}`);
    } catch (e) {
      console.log(`compiled binary: not built (${(e as Error).message.split("\n")[0]})`);
      binary = null;
    }
  } else {
    console.log("compiled binary: not built (no DENORT_BIN; denort cannot be downloaded here)");
  }

  const helloRes = await bench(
    "deno hello-world",
    deno,
    ["run", "--no-config", hello],
    /listening/,
    etc,
  );
  const agentRes = await bench(
    "agent (bundle, compile flags)",
    deno,
    ["run", "--no-config", ...flags, bundle, "--config", configFile],
    /listening for collectd packets/,
    etc,
  );
  if (binary) {
    await bench(
      "agent (compiled binary)",
      binary,
      ["--config", configFile],
      /listening for collectd packets/,
      etc,
    );
  }
  console.log(
    `ratio agent/hello-world: start-up ${(agentRes.startupMs / helloRes.startupMs).toFixed(1)}x, ` +
      `idle RSS ${(agentRes.rssKiB / helloRes.rssKiB).toFixed(1)}x ` +
      `(${
        ((agentRes.rssKiB + agentRes.childRssKiB) / helloRes.rssKiB).toFixed(1)
      }x with the rule host)`,
  );
} finally {
  await Deno.remove(tmp, { recursive: true });
}
