/**
 * The installed package, driven only from outside: build a .deb from a fleet config, `dpkg -i`
 * it, start /usr/bin/edge-agent exactly as the unit's ExecStart does (no systemd here: its
 * Environment=, StateDirectory= and CacheDirectory= are applied by hand, and the test binds
 * $NOTIFY_SOCKET), run the installed CLI as an operator would (from /, no --config), purge.
 * Everything that installs holds the machine-wide lock of tests/_helpers/debs.ts.
 */
import { join } from "node:path";
import {
  acquireInstallLock,
  dpkg,
  installedVersion,
  purgeTestInstall,
  requireNotInstalled,
} from "../_helpers/debs.ts";
import { notifySocket, type Process, run, start } from "../_helpers/run.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
export const UNIT = "/lib/systemd/system/edge-agent.service";
export const NOTIFY = "/run/systemd/notify";
export const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

/** The operator's shell: a root login's PATH, nothing else (the agent's flags must not care). */
const OPERATOR_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };

/** Builds the bundled-layout .deb of `config` (a fleet's config file) with the rules of `rules`. */
export async function buildFleetDeb(
  config: string,
  rules: string,
  outDir: string,
  version: string,
): Promise<{ deb: string; output: string }> {
  const output = await run(join(root, "scripts/package_deb"), [
    "--layout",
    "bundle",
    "--config",
    config,
    "--rules",
    rules,
    "--version",
    version,
    "--output-dir",
    outDir,
  ], { env: { EDGE_AGENT_DEB_COMPRESSION: "none" } });
  const deb = output.split("\n").find((l) => l.endsWith(".deb"));
  if (!deb) throw new Error(`scripts/package_deb printed no .deb path:\n${output}`);
  return { deb, output };
}

/** The agent as the unit started it, and its sd_notify socket. */
export interface UnitAgent {
  process: Process;
  notify: ReturnType<typeof notifySocket>;
  /** Log lines that say a permission was denied (none may appear). */
  denied(): string[];
  /** SIGTERM; resolves to the exit code; removes the notify socket. */
  stop(): Promise<number>;
}

/**
 * Starts the installed agent as systemd would start the unit: its ExecStart with its
 * Environment=, the state and cache folders it declares, $NOTIFY_SOCKET and $WATCHDOG_USEC, and
 * waits for READY=1.
 */
export async function startAsUnit(): Promise<UnitAgent> {
  const unit = await Deno.readTextFile(UNIT);
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(unit)?.[1];
  const execStart = value("ExecStart")!.split(" ");
  const env: Record<string, string> = { ...OPERATOR_ENV, NOTIFY_SOCKET: NOTIFY };
  for (const m of unit.matchAll(/^Environment=(.*)$/gm)) {
    for (const kv of m[1]!.split(" ")) {
      env[kv.slice(0, kv.indexOf("="))] = kv.slice(kv.indexOf("=") + 1);
    }
  }
  const watchdog = value("WatchdogSec");
  if (watchdog) env.WATCHDOG_USEC = String(Number.parseInt(watchdog) * 1_000_000);
  for (
    const [dirKey, modeKey, base] of [
      ["StateDirectory", "StateDirectoryMode", "/var/lib"],
      ["CacheDirectory", "CacheDirectoryMode", "/var/cache"],
    ] as const
  ) {
    const name = value(dirKey);
    if (name) {
      await Deno.mkdir(join(base, name), {
        mode: Number.parseInt(value(modeKey) ?? "755", 8),
        recursive: true,
      });
    }
  }
  if (await exists("/run/systemd/system")) {
    throw new Error("systemd runs here: the test would take over its notify socket");
  }
  if (await exists(NOTIFY)) throw new Error(`${NOTIFY} already exists`);
  await Deno.mkdir("/run/systemd", { recursive: true });
  const notify = notifySocket(NOTIFY);
  const process = start(execStart[0]!, execStart.slice(1), { clearEnv: true, env });
  const stop = async () => {
    const status = await process.stop();
    await notify.close();
    await Deno.remove(NOTIFY).catch(() => {});
    return status.code;
  };
  try {
    await notify.waitFor("READY=1", 60_000);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\nagent output:\n${process.lines.join("\n")}`);
  }
  return {
    process,
    notify,
    stop,
    denied: () =>
      process.lines.filter((l) => /NotCapable|Requires .* access|not permitted/.test(l)),
  };
}

/** What one run of the installed CLI printed. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `/usr/bin/edge-agent ARGS` as an operator runs it: from /, a clean environment. */
export async function edgeAgent(args: string[], stdin?: string): Promise<CliRun> {
  const child = new Deno.Command("/usr/bin/edge-agent", {
    args,
    cwd: "/",
    clearEnv: true,
    env: OPERATOR_ENV,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** One acceptance install: the lock, the package's files, and how to take it all back. */
export interface Install {
  files: string[];
  release(): void;
}

/** Takes the install lock and installs `deb` (no edge-agent may be installed but a test one). */
export async function install(deb: string): Promise<Install> {
  const release = await acquireInstallLock();
  try {
    await requireNotInstalled();
    await dpkg("-i", deb);
    const files = (await run("dpkg-query", ["-L", "edge-agent"])).split("\n")
      .filter((f) => f.startsWith("/") && f !== "/.");
    return { files, release };
  } catch (e) {
    await purgeTestInstall().catch(() => {});
    release();
    throw e;
  }
}

/** `dpkg --purge`, then every path the package or the agent made that is still there. */
export async function purgeLeftovers(files: readonly string[]): Promise<string[]> {
  await dpkg("--purge", "edge-agent");
  if (await installedVersion() !== null) throw new Error("edge-agent is still installed");
  const ours = [
    "/etc/edge-agent",
    "/var/lib/edge-agent",
    "/var/cache/edge-agent",
    "/usr/lib/edge-agent",
    "/usr/share/edge-agent",
    "/usr/share/doc/edge-agent",
    "/etc/systemd/system/multi-user.target.wants/edge-agent.service",
  ];
  // Folders shared with the system (/usr/bin, /etc, …) are in dpkg -L too; only ours count.
  const candidates = [...files.filter((f) => f.includes("edge-agent")), ...ours];
  const left: string[] = [];
  for (const f of new Set(candidates)) if (await exists(f)) left.push(f);
  return left;
}

/** The audit log's entries. */
export async function auditEntries(): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile("/var/lib/edge-agent/audit.jsonl").catch(() => "");
  return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** Polls `test` every 200 ms until it is truthy; throws `what` after `ms`. */
export async function eventually<T>(what: string, test: () => Promise<T> | T, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const got = await test();
    if (got) return got;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export { purgeTestInstall };
