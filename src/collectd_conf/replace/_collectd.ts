import { join } from "node:path";
import { checkOutputText } from "./_check_output.ts";
import { deniedError, isDenied } from "../../model/mod.ts";

/** What a config check found: `ok`, and collectd's own error output (trimmed, redacted). */
export interface CheckOutcome {
  ok: boolean;
  output: string;
}

/** Checks a collectd config file without touching the running collectd. */
export type CheckConfig = (path: string) => Promise<CheckOutcome>;

/** Options of {@linkcode createCollectdChecker}. */
export interface CollectdCheckerOptions {
  /** Milliseconds before a check is killed and counted as failed. Default 30000. */
  timeoutMs?: number;
  /** A path that does not exist, to probe whether `-t` works. Default: under /nonexistent. */
  missingPath?: string;
}

/**
 * `collectd -t -C <path>`. collectd 5.12 as released ignores `-t` (it exits 0 without reading
 * the file; fixed upstream after 5.12, collectd/collectd#3793), so the checker first asks the
 * binary to check a file that does not exist: when that "passes", `-t` is broken and the check
 * uses `-T` instead (what lua-collectd-monitor does): collectd reads the config, initialises
 * the plugins, runs every read callback once and exits non-zero if the config cannot be read.
 */
export function createCollectdChecker(
  binary: string,
  options: CollectdCheckerOptions = {},
): CheckConfig {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const missing = options.missingPath ?? join("/nonexistent", `edge-agent-${crypto.randomUUID()}`);
  let flag: Promise<"-t" | "-T"> | null = null;
  const probe = async () =>
    (await runCollectd(binary, ["-t", "-C", missing], timeoutMs)).ok
      ? "-T" as const
      : "-t" as const;
  return async (path) => {
    flag ??= probe();
    return runCollectd(binary, [await flag, "-C", path], timeoutMs);
  };
}

async function runCollectd(
  binary: string,
  args: string[],
  timeoutMs: number,
): Promise<CheckOutcome> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(binary, {
      args,
      stdin: "null",
      stdout: "piped", // `<Plugin logfile> File STDOUT` logs the check's errors there
      stderr: "piped",
      cwd: "/",
    }).spawn();
  } catch (e) {
    return { ok: false, output: `cannot run ${binary}: ${(e as Error).message}` };
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  try {
    const out = await child.output();
    // stdout: log lines only (the config scanner echoes what it skips there, secrets included)
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    const text = checkOutputText(decode(out.stdout), decode(out.stderr));
    if (out.signal === "SIGKILL") {
      return { ok: false, output: `${binary} ${args[0]} did not finish within ${timeoutMs} ms` };
    }
    return { ok: out.success, output: clip(text.trim(), 2000) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The pid in `pidFile`, or null when the file is missing or holds no pid. A file the agent may not
 * read is an error naming the flag, never "no pid".
 */
export async function readPid(pidFile: string): Promise<number | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(pidFile);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    if (!isDenied(e)) throw e;
    throw deniedError(
      `read collectd's pid file ${pidFile}`,
      "--allow-read",
      "Services.collectd.PIDPath, else collectd's default /var/run/collectd.pid; a PIDFile in " +
        "collectd.conf elsewhere needs PIDPath set to it",
      e,
    );
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more chars)`;
}
