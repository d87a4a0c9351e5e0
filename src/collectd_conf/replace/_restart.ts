import { Code } from "../../model/mod.ts";
import {
  type CollectdService,
  type Exec,
  killPid,
  pidFilePid,
  processExec,
  psLiveness,
  systemdMainPid,
  type SystemdUnit,
  systemdUnit,
} from "./_control.ts";
import { locateBinary } from "./_paths.ts";

/** What running one configured collectd command returned (a RunRecord has this shape). */
export interface RunLike {
  result: { code: number; message: string };
}

/** Time, passed in so the waits are testable. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The replacement a collectd command runs for (to label the run, e.g. in the audit log). */
export interface ReplaceTask {
  task_id: number | string;
  sender?: string;
}

/**
 * Whether collectd metrics arrived at the agent at or after `sinceMs` (epoch ms), from `host`
 * when given (the config's `Hostname`), else from any host.
 */
export type MetricsSeen = (sinceMs: number, host?: string) => Promise<boolean>;

/** A failed step: the documented code and what happened. */
export interface StepFailure {
  ok: false;
  code: number;
  message: string;
}

/** What restarting and confirming need. */
export interface RestarterOptions {
  /** Runs a configured `Services.collectd.commands` entry (through the executor). */
  run(command: string, task: ReplaceTask): Promise<RunLike>;
  /** Runs ps, systemctl and the default start/stop. Default: {@linkcode processExec}. */
  exec?: Exec | undefined;
  /** Whether collectd metrics arrived at or after `sinceMs` (epoch ms); absent: not checked. */
  metricsSeen?: MetricsSeen | undefined;
  clock: Clock;
  pollMs: number;
}

/** The pid files a restart stops by and starts with (they differ when the configs do). */
export interface PidFiles {
  stop: string;
  start: string;
}

/**
 * How collectd runs on this host and is restarted, decided once per replacement: a systemd unit
 * (its pid is systemd's MainPID) or a daemon with a pid file; the configured commands, or
 * lua-collectd-monitor's defaults for the missing ones (systemd: `systemctl restart|stop|start
 * collectd`; otherwise start `collectd -P <pid file> -C <ConfigPath>` and stop by the pid).
 */
export interface CollectdControl {
  /** `systemd unit collectd (/usr/bin/systemctl)` or `pid file`. */
  readonly describe: string;
  /** The running collectd's pid, or null. Throws when it cannot be told (never guesses). */
  running(pidFile: string): Promise<number | null>;
  /** Stops what runs by `pids.stop` (must be gone before start) and starts. Fails with 0x2003. */
  restart(task: ReplaceTask, pids: PidFiles, deadline: number): Promise<{ ok: true } | StepFailure>;
  /**
   * Waits until a live collectd other than `notPid` runs (by `pidFile`) and its metrics (from
   * `host`, when known) arrive after that, while it stays alive. Fails with 0x2009.
   */
  confirm(
    pidFile: string,
    notPid: number | null,
    deadline: number,
    host?: string,
  ): Promise<{ ok: true; pid: number; metricsChecked: boolean } | StepFailure>;
}

/** Builds the {@linkcode CollectdControl} for one replacement. */
export type Restarter = (service: CollectdService, configPath: string) => Promise<CollectdControl>;

export function createRestarter(options: RestarterOptions): Restarter {
  const exec = options.exec ?? processExec();
  const alive = psLiveness(exec);
  return async (service, configPath) => {
    const systemd = await systemdUnit(service, exec);
    const ctx: Ctx = { options, exec, alive, systemd, commands: service.commands ?? {} };
    return {
      describe: systemd ? `systemd unit ${systemd.unit} (${systemd.systemctl})` : "pid file",
      running: (pidFile) => running(ctx, pidFile),
      restart: (task, pids, deadline) =>
        restart(ctx, task, pids, deadline, () => locateBinary(service.CommandPath), configPath),
      confirm: (pidFile, notPid, deadline, host) => confirm(ctx, pidFile, notPid, deadline, host),
    };
  };
}

/** What one replacement's control works with. */
interface Ctx {
  options: RestarterOptions;
  exec: Exec;
  alive: (pid: number) => Promise<boolean>;
  systemd: SystemdUnit | null;
  commands: Record<string, unknown>;
}

/** A default command's outcome, labelled for the result message. */
type Outcome = { label: string; code: number; output: string };

async function running(ctx: Ctx, pidFile: string): Promise<number | null> {
  if (!ctx.systemd) return await pidFilePid(pidFile, ctx.alive);
  const pid = await systemdMainPid(ctx.systemd, ctx.exec);
  return pid !== null && await ctx.alive(pid) ? pid : null;
}

/** Runs the configured `name` command, else `fallback` (the default); null when it worked. */
async function step(
  ctx: Ctx,
  task: ReplaceTask,
  name: "restart" | "stop" | "start",
  fallback: () => Promise<Outcome>,
): Promise<StepFailure | null> {
  let label = `collectd/${name}`;
  let code: number;
  let output: string;
  try {
    if (name in ctx.commands) {
      ({ result: { code, message: output } } = await ctx.options.run(name, task));
    } else ({ label, code, output } = await fallback());
  } catch (e) {
    return fail(Code.CONFIG_RESTART_FAILED, `cannot run ${label}: ${errText(e)}`);
  }
  if (code === 0) return null;
  return fail(
    Code.CONFIG_RESTART_FAILED,
    `${label} failed with code ${hex(code)}: ${output.trim() || "(no output)"}`,
  );
}

async function restart(
  ctx: Ctx,
  task: ReplaceTask,
  pids: PidFiles,
  deadline: number,
  binary: () => string,
  configPath: string,
): Promise<{ ok: true } | StepFailure> {
  const { systemd, commands, exec } = ctx;
  const viaExec = async (argv: string[]): Promise<Outcome> => ({
    label: argv.join(" "),
    ...await exec(argv),
  });
  const systemctl = (verb: string) => () => viaExec([systemd!.systemctl, verb, systemd!.unit]);
  if ("restart" in commands || (systemd && !("stop" in commands) && !("start" in commands))) {
    return await step(ctx, task, "restart", systemctl("restart")) ?? { ok: true };
  }
  let pid: number | null;
  try {
    pid = await running(ctx, pids.stop);
  } catch (e) {
    return fail(Code.CONFIG_RESTART_FAILED, `cannot tell whether collectd runs: ${errText(e)}`);
  }
  if (pid !== null) {
    const old = pid;
    const stop = systemd ? systemctl("stop") : async () => ({
      label: `kill -s TERM ${old} (collectd's pid)`,
      ...await killPid(old, exec),
    });
    const stopFailed = await step(ctx, task, "stop", stop);
    if (stopFailed) return stopFailed;
    const gone = await until(ctx, deadline, async () => !await ctx.alive(old));
    if (gone !== true) {
      return fail(
        Code.CONFIG_RESTART_FAILED,
        gone === false
          ? `collectd (pid ${old}) was still running after collectd/stop`
          : `cannot tell whether collectd (pid ${old}) stopped: ${gone.message}`,
      );
    }
  }
  const start = systemd
    ? systemctl("start")
    : () => viaExec([binary(), "-P", pids.start, "-C", configPath]);
  return await step(ctx, task, "start", start) ?? { ok: true };
}

async function confirm(
  ctx: Ctx,
  pidFile: string,
  notPid: number | null,
  deadline: number,
  host?: string,
): Promise<{ ok: true; pid: number; metricsChecked: boolean } | StepFailure> {
  let pid: number | null = null;
  const started = await until(ctx, deadline, async () => {
    const p = await running(ctx, pidFile);
    if (p !== null && p !== notPid) pid = p;
    return pid !== null;
  });
  if (started instanceof Error) {
    return fail(
      Code.CONFIG_NO_METRICS,
      `cannot tell whether collectd came back: ${started.message}`,
    );
  }
  if (!started || pid === null) {
    const where = ctx.systemd ? `from ${ctx.systemd.systemctl} (MainPID)` : `in ${pidFile}`;
    return fail(
      Code.CONFIG_NO_METRICS,
      `collectd did not come back: no new live pid ${where}` +
        (notPid === null ? "" : ` (the old one was ${notPid})`),
    );
  }
  const newPid: number = pid;
  const since = ctx.options.clock.now();
  const seen = ctx.options.metricsSeen;
  let died = false;
  const arrived = await until(ctx, deadline, async () => {
    if (!await ctx.alive(newPid)) return died = true;
    return seen === undefined || await (host === undefined ? seen(since) : seen(since, host));
  });
  if (arrived instanceof Error) {
    const why = `cannot tell whether collectd (pid ${newPid}) runs: ${arrived.message}`;
    return fail(Code.CONFIG_NO_METRICS, why);
  }
  if (died) return fail(Code.CONFIG_NO_METRICS, `collectd (pid ${newPid}) exited after starting`);
  if (!arrived) {
    return fail(
      Code.CONFIG_NO_METRICS,
      `collectd (pid ${newPid}) runs but sent no metrics` +
        (host === undefined ? "" : ` from host "${host}"`) + " to the agent",
    );
  }
  return { ok: true, pid: newPid, metricsChecked: seen !== undefined };
}

/** Polls `test` until true or `deadline`; an error ends the wait and is returned, not guessed. */
async function until(
  ctx: Ctx,
  deadline: number,
  test: () => Promise<boolean>,
): Promise<boolean | Error> {
  const { clock, pollMs } = ctx.options;
  for (;;) {
    try {
      if (await test()) return true;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
    if (clock.now() >= deadline) return false;
    await clock.sleep(Math.min(pollMs, Math.max(1, deadline - clock.now())));
  }
}

function fail(code: number, message: string): StepFailure {
  return { ok: false, code, message };
}

/** `0x2003` style. */
export function hex(code: number): string {
  return code >= 0x1000 ? `0x${code.toString(16)}` : String(code);
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
