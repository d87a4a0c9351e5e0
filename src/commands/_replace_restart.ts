import { Code } from "../model/mod.ts";
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
} from "./_replace_control.ts";
import { locateBinary } from "./_replace_paths.ts";

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
  const { clock, pollMs } = options;
  const exec = options.exec ?? processExec();
  const alive = psLiveness(exec);

  /** Polls `test` until true or `deadline`; an error ends the wait and is returned. */
  async function until(deadline: number, test: () => Promise<boolean>): Promise<boolean | Error> {
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

  return async (service, configPath) => {
    const systemd: SystemdUnit | null = await systemdUnit(service, exec);
    const commands = service.commands ?? {};
    const running = (pidFile: string) =>
      systemd
        ? systemdMainPid(systemd, exec).then(async (p) => p !== null && await alive(p) ? p : null)
        : pidFilePid(pidFile, alive);
    const binary = () => locateBinary(service.CommandPath);

    async function step(
      task: ReplaceTask,
      name: "restart" | "stop" | "start",
      fallback: () => Promise<{ label: string; code: number; output: string }>,
    ): Promise<StepFailure | null> {
      let label = `collectd/${name}`;
      let code: number;
      let output: string;
      try {
        if (name in commands) {
          ({ result: { code, message: output } } = await options.run(name, task));
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
    const viaExec = async (argv: string[]) => ({ label: argv.join(" "), ...await exec(argv) });
    const systemctl = (verb: string) => () => viaExec([systemd!.systemctl, verb, systemd!.unit]);

    return {
      describe: systemd ? `systemd unit ${systemd.unit} (${systemd.systemctl})` : "pid file",
      running,

      async restart(task, pids, deadline) {
        if ("restart" in commands || (systemd && !("stop" in commands) && !("start" in commands))) {
          return await step(task, "restart", systemctl("restart")) ?? { ok: true };
        }
        let pid: number | null;
        try {
          pid = await running(pids.stop);
        } catch (e) {
          return fail(
            Code.CONFIG_RESTART_FAILED,
            `cannot tell whether collectd runs: ${errText(e)}`,
          );
        }
        if (pid !== null) {
          const stop = systemd ? systemctl("stop") : async () => ({
            label: `kill -s TERM ${pid} (collectd's pid)`,
            ...await killPid(pid!, exec),
          });
          const stopFailed = await step(task, "stop", stop);
          if (stopFailed) return stopFailed;
          const gone = await until(deadline, async () => !await alive(pid!));
          if (gone !== true) {
            return fail(
              Code.CONFIG_RESTART_FAILED,
              gone === false
                ? `collectd (pid ${pid}) was still running after collectd/stop`
                : `cannot tell whether collectd (pid ${pid}) stopped: ${gone.message}`,
            );
          }
        }
        const start = systemd
          ? systemctl("start")
          : () => viaExec([binary(), "-P", pids.start, "-C", configPath]);
        return await step(task, "start", start) ?? { ok: true };
      },

      async confirm(pidFile, notPid, deadline, host) {
        let pid: number | null = null;
        const where = systemd ? `from ${systemd.systemctl} (MainPID)` : `in ${pidFile}`;
        const started = await until(deadline, async () => {
          const p = await running(pidFile);
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
          return fail(
            Code.CONFIG_NO_METRICS,
            `collectd did not come back: no new live pid ${where}` +
              (notPid === null ? "" : ` (the old one was ${notPid})`),
          );
        }
        const newPid: number = pid;
        const since = clock.now();
        const seen = options.metricsSeen;
        let died = false;
        const arrived = await until(deadline, async () => {
          if (!await alive(newPid)) return died = true;
          return seen === undefined || await (host === undefined ? seen(since) : seen(since, host));
        });
        if (arrived instanceof Error) {
          return fail(
            Code.CONFIG_NO_METRICS,
            `cannot tell whether collectd (pid ${newPid}) runs: ${arrived.message}`,
          );
        }
        if (died) {
          return fail(Code.CONFIG_NO_METRICS, `collectd (pid ${newPid}) exited after starting`);
        }
        if (!arrived) {
          return fail(
            Code.CONFIG_NO_METRICS,
            `collectd (pid ${newPid}) runs but sent no metrics` +
              (host === undefined ? "" : ` from host "${host}"`) + " to the agent",
          );
        }
        return { ok: true, pid: newPid, metricsChecked: seen !== undefined };
      },
    };
  };
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
