import { basename } from "node:path";
import type { Config } from "../../config/mod.ts";
import { checkServices, CLEAN_ENV, createProcessRunner, KILL_HELPERS } from "../../executor/mod.ts";
import { Code, deniedError } from "../../model/mod.ts";
import { readPid } from "./_collectd.ts";
import { fileExists, PS_CANDIDATES, SYSTEMCTL_CANDIDATES } from "./_paths.ts";

/** How a program the agent runs itself (ps, systemctl, the default start/stop) ended. */
export interface ExecOutcome {
  /** Exit status; 0x1014 when it could not be started (no such file), 0x1013 not permitted. */
  code: number;
  /** stdout and stderr together. */
  output: string;
}

/** Runs `argv` (absolute) with the clean command environment. Passed in for tests. */
export type Exec = (argv: string[]) => Promise<ExecOutcome>;

/** The real {@linkcode Exec}: the executor's process runner (own process group, 30 s limit). */
export function processExec(): Exec {
  const runner = createProcessRunner({ graceMs: 2000 });
  return async (argv) => {
    const out = await runner.run({ argv, env: { ...CLEAN_ENV }, timeoutMs: 30_000 });
    if (out.kind === "exited") {
      return { code: out.timedOut ? Code.TIMEOUT : out.code, output: out.output.trim() };
    }
    return {
      code: out.reason === "not_permitted" ? Code.NOT_PERMITTED : Code.SPAWN_FAILED,
      output: out.error,
    };
  };
}

/** A systemd unit and the systemctl that answers for it. */
export interface SystemdUnit {
  systemctl: string;
  unit: string;
}

/** `Services.collectd` as the replacer needs it. */
export type CollectdService = Config["Services"][string];

/**
 * Whether collectd runs as a systemd unit, as lua-collectd-monitor decides it: `systemctl status
 * <unit>` answers 0 (running) or 3 (stopped). The systemctl and unit are those of the configured
 * restart (or stop/start) command when it is a systemctl command, else the first systemctl of
 * {@linkcode SYSTEMCTL_CANDIDATES} there is, for the unit `collectd`. Null: not under systemd
 * (no systemctl, no such unit, or systemd is not running): collectd's pid file is used.
 */
export async function systemdUnit(
  service: CollectdService,
  exec: Exec,
  exists: (path: string) => boolean = fileExists,
): Promise<SystemdUnit | null> {
  const configured = configuredSystemctl(service);
  const candidate = configured ?? firstExisting(SYSTEMCTL_CANDIDATES, exists);
  if (candidate === null) return null;
  const unit = configured?.unit ?? "collectd";
  const status = await exec([candidate.systemctl, "status", unit]);
  if (status.code === Code.NOT_PERMITTED) {
    throw deniedError(`run ${candidate.systemctl}`, "--allow-run", "Services.collectd", status);
  }
  return status.code === 0 || status.code === 3 ? { systemctl: candidate.systemctl, unit } : null;
}

function firstExisting(
  paths: readonly string[],
  exists: (path: string) => boolean,
): { systemctl: string; unit?: undefined } | null {
  const found = paths.find((p) => exists(p));
  return found === undefined ? null : { systemctl: found };
}

/** The systemctl and unit of the configured restart/stop/start command, if it is systemctl's. */
function configuredSystemctl(service: CollectdService): SystemdUnit | null {
  const { services } = checkServices({ collectd: service });
  const commands = services.get("collectd");
  for (const name of ["restart", "stop", "start"]) {
    const argv = commands?.get(name)?.argv;
    if (!argv || basename(argv[0]!) !== "systemctl") continue;
    const words = argv.slice(1).filter((a) => !a.startsWith("-"));
    if (words[1] !== undefined) return { systemctl: argv[0]!, unit: words[1] };
  }
  return null;
}

/** systemd's main pid of `unit`, or null when it runs none. Throws when that cannot be told. */
export async function systemdMainPid(u: SystemdUnit, exec: Exec): Promise<number | null> {
  const out = await exec([u.systemctl, "show", "--property", "MainPID", "--value", u.unit]);
  const pid = Number(out.output);
  if (out.code !== 0 || !/^\d+$/.test(out.output)) {
    throw new Error(
      `cannot ask systemd for collectd's pid: ${u.systemctl} show --property MainPID ${u.unit} ` +
        `answered ${out.code}: ${out.output || "(no output)"}`,
    );
  }
  return pid > 0 ? pid : null;
}

/**
 * Whether `pid` is alive and not a zombie, asked of ps (`ps -o stat= -p PID`): Deno needs
 * `--allow-all` to read /proc, and `kill -0` also succeeds for a zombie that nobody reaped (a
 * daemon whose parent is an init that does not reap). Throws when it cannot be told.
 */
export function psLiveness(exec: Exec, candidates: readonly string[] = PS_CANDIDATES) {
  let usable: string | null = null;
  return async (pid: number): Promise<boolean> => {
    for (const ps of usable ? [usable] : candidates) {
      const out = await exec([ps, "-o", "stat=", "-p", String(pid)]);
      if (out.code === Code.SPAWN_FAILED) continue;
      if (out.code === Code.NOT_PERMITTED) {
        throw deniedError(
          `tell whether collectd (pid ${pid}) is alive with ${ps}`,
          "--allow-run",
          "Services.collectd",
          out,
        );
      }
      usable = ps;
      if (out.code === 0 && out.output !== "") return !/^[ZX]/.test(out.output);
      if (out.code === 1 && out.output === "") return false; // no such process
      throw new Error(
        `cannot tell whether collectd (pid ${pid}) is alive: ${ps} answered ${out.code}: ` +
          (out.output || "(no output)"),
      );
    }
    throw new Error(
      `cannot tell whether collectd (pid ${pid}) is alive: none of ${candidates.join(", ")} ` +
        "can be run (install procps)",
    );
  };
}

/** The pid of the collectd of `pidFile` when it is alive, else null. */
export async function pidFilePid(
  pidFile: string,
  alive: (pid: number) => Promise<boolean>,
): Promise<number | null> {
  const pid = await readPid(pidFile);
  return pid !== null && await alive(pid) ? pid : null;
}

/** lua-collectd-monitor's default stop without systemd: SIGTERM to the pid, through kill. */
export async function killPid(pid: number, exec: Exec): Promise<ExecOutcome> {
  let last: ExecOutcome = { code: Code.SPAWN_FAILED, output: "no kill helper" };
  for (const kill of KILL_HELPERS) {
    last = await exec([kill, "-s", "TERM", String(pid)]);
    if (last.code !== Code.SPAWN_FAILED) return last;
  }
  return { ...last, output: `none of ${KILL_HELPERS.join(", ")} can be run: ${last.output}` };
}
