import { Code } from "../model/mod.ts";
import { isAlive, readPid, runningPid } from "./_replace_collectd.ts";

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

/** How collectd is restarted: its `restart` command, or `stop` then `start`. */
export type RestartPlan = "restart" | "stop-start";

/** The restart plan the configured commands allow, or null when they allow none. */
export function restartPlan(commands: Record<string, unknown>): RestartPlan | null {
  if ("restart" in commands) return "restart";
  if ("stop" in commands && "start" in commands) return "stop-start";
  return null;
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
  run(command: string, task: ReplaceTask): Promise<RunLike>;
  /** Whether collectd metrics arrived at or after `sinceMs` (epoch ms); absent: not checked. */
  metricsSeen?: MetricsSeen | undefined;
  clock: Clock;
  pollMs: number;
}

/** Restarts collectd and confirms it came back, each bounded by a deadline. */
export interface Restarter {
  /**
   * Restarts collectd by `plan`. With `stop-start`, the collectd of `pidFile` (if running) is
   * stopped and must be gone before `start` runs. Fails with 0x2003.
   */
  restart(
    task: ReplaceTask,
    plan: RestartPlan,
    pidFile: string,
    deadline: number,
  ): Promise<{ ok: true } | StepFailure>;
  /**
   * Waits until `pidFile` names a live process other than `notPid` and collectd metrics (from
   * `host`, when known) arrive after that, while the process stays alive. Fails with 0x2009.
   */
  confirm(
    pidFile: string,
    notPid: number | null,
    deadline: number,
    host?: string,
  ): Promise<{ ok: true; pid: number; metricsChecked: boolean } | StepFailure>;
}

export function createRestarter(options: RestarterOptions): Restarter {
  const { clock, pollMs } = options;

  async function runCommand(command: string, task: ReplaceTask): Promise<StepFailure | null> {
    let record: RunLike;
    try {
      record = await options.run(command, task);
    } catch (e) {
      return fail(Code.CONFIG_RESTART_FAILED, `cannot run collectd/${command}: ${errText(e)}`);
    }
    if (record.result.code === 0) return null;
    return fail(
      Code.CONFIG_RESTART_FAILED,
      `collectd/${command} failed with code ${hex(record.result.code)}: ${
        record.result.message.trim() || "(no output)"
      }`,
    );
  }

  async function until(deadline: number, test: () => Promise<boolean>): Promise<boolean> {
    for (;;) {
      if (await test()) return true;
      if (clock.now() >= deadline) return false;
      await clock.sleep(Math.min(pollMs, Math.max(1, deadline - clock.now())));
    }
  }

  return {
    async restart(task, plan, pidFile, deadline) {
      if (plan === "restart") return await runCommand("restart", task) ?? { ok: true };
      const pid = await runningPid(pidFile);
      if (pid !== null) {
        const stopFailed = await runCommand("stop", task);
        if (stopFailed) return stopFailed;
        if (!await until(deadline, async () => !await isAlive(pid))) {
          return fail(
            Code.CONFIG_RESTART_FAILED,
            `collectd (pid ${pid}) was still running after collectd/stop`,
          );
        }
      }
      return await runCommand("start", task) ?? { ok: true };
    },

    async confirm(pidFile, notPid, deadline, host) {
      let pid: number | null = null;
      const started = await until(deadline, async () => {
        const p = await readPid(pidFile);
        if (p !== null && p !== notPid && await isAlive(p)) pid = p;
        return pid !== null;
      });
      if (!started || pid === null) {
        return fail(
          Code.CONFIG_NO_METRICS,
          `collectd did not come back: no new live pid in ${pidFile}` +
            (notPid === null ? "" : ` (the old one was ${notPid})`),
        );
      }
      const newPid: number = pid;
      const since = clock.now();
      const seen = options.metricsSeen;
      if (seen === undefined) {
        return await isAlive(newPid) ? { ok: true, pid: newPid, metricsChecked: false } : fail(
          Code.CONFIG_NO_METRICS,
          `collectd (pid ${newPid}) exited right after starting`,
        );
      }
      let died = false;
      const arrived = await until(deadline, async () => {
        if (!await isAlive(newPid)) {
          died = true;
          return true;
        }
        return await (host === undefined ? seen(since) : seen(since, host));
      });
      if (died || !await isAlive(newPid)) {
        return fail(Code.CONFIG_NO_METRICS, `collectd (pid ${newPid}) exited after starting`);
      }
      if (!arrived) {
        return fail(
          Code.CONFIG_NO_METRICS,
          `collectd (pid ${newPid}) runs but sent no metrics` +
            (host === undefined ? "" : ` from host "${host}"`) + " to the agent",
        );
      }
      return { ok: true, pid: newPid, metricsChecked: true };
    },
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
