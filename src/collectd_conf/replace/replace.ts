import { createHash } from "node:crypto";
import { includeDirsFor, vetCollectdConf } from "../mod.ts";
import type { Config } from "../../config/mod.ts";
import {
  Code,
  codeText,
  type CommandResult,
  type Counters,
  type Logger,
  remoteResultRecord,
  renameDurable,
  resultTimestamp,
  type RunRecord,
} from "../../model/mod.ts";
import { type CheckConfig, createCollectdChecker } from "./_collectd.ts";
import type { Exec } from "./_control.ts";
import { likenessOf, present, removeIfPresent, writeLike } from "./_files.ts";
import { ConfigMessageSchema } from "./_message.ts";
import { locateBinary, locateConfig, pidFileFor, topLevelOption } from "./_paths.ts";
import {
  type Clock,
  type CollectdControl,
  createRestarter,
  errText,
  hex,
  type MetricsSeen,
  realClock,
  type ReplaceTask,
  type RunLike,
  type StepFailure,
} from "./_restart.ts";
import { createJournalStore, type Journal } from "./_journal.ts";

export type { CheckConfig, CheckOutcome } from "./_collectd.ts";
export type { Clock, MetricsSeen, ReplaceTask, RunLike } from "./_restart.ts";
export type { Exec, ExecOutcome } from "./_control.ts";
export { createMetricsProbe } from "./probe.ts";

/**
 * The record to hand the reporters (MQTT, audit) for a result that has no executor run of its
 * own, e.g. the one {@linkcode ConfigReplacer.resumePending} returns after an agent restart.
 */
export function resultRecord(result: CommandResult, sender?: string): RunRecord {
  return remoteResultRecord(result, { service: "collectd", command: "replace-config", sender });
}

/** `Services.collectd` as config.json gives it. */
export type CollectdServiceSettings = Config["Services"][string];

/** Dependencies of {@linkcode createConfigReplacer}; every effect has a real default. */
export interface ConfigReplacerOptions {
  /** `Services.collectd` (a function to follow config reloads); undefined: not configured. */
  service:
    | CollectdServiceSettings
    | undefined
    | (() => CollectdServiceSettings | undefined);
  /** Where the durable journal of the replacement in progress is kept. */
  stateDir: string;
  logger: Logger;
  counters: Counters;
  /**
   * Runs collectd's configured `restart`/`start`/`stop` command through the executor. `task` is
   * the replacement it serves; do NOT give the executor a remote trigger with this task_id, or
   * the MQTT reporter publishes the restart's record as the task's result.
   */
  run(command: string, task: ReplaceTask): Promise<RunLike>;
  /**
   * Runs what is not a configured command: ps (is a pid alive), systemctl (is collectd a unit,
   * its MainPID) and the default start/stop when `commands` lacks them. Default: a process.
   */
  exec?: Exec;
  /** Checks a config file. Default: `collectd -t -C <path>` (see createCollectdChecker). */
  checkConfig?: CheckConfig;
  /**
   * Whether collectd metrics arrived at or after `sinceMs` (epoch ms), from `host` when given
   * (see createMetricsProbe). Absent: only the new pid is confirmed.
   */
  metricsSeen?: MetricsSeen;
  clock?: Clock;
  /** Overrides `ReplaceTimeout` (ms) for each restart-and-confirm. Default 60 s. */
  timeoutMs?: number;
  /** Milliseconds between pid/metric polls. Default 250. */
  pollMs?: number;
}

/** Replaces collectd.conf on request, one at a time, rolling back when collectd fails. */
export interface ConfigReplacer {
  /** Handles one `{task_id, timestamp, config}` message (after the router's shared checks). */
  handle(message: unknown, sender?: string): Promise<CommandResult>;
  /**
   * Finishes a replacement an earlier agent process left in the middle and returns its result
   * (to publish), or null when there was none. Call once at start-up, before `handle`.
   */
  resumePending(): Promise<CommandResult | null>;
}

const DEFAULT_TIMEOUT_S = 60;

const task = (j: Journal): ReplaceTask =>
  j.sender === undefined ? { task_id: j.task_id } : { task_id: j.task_id, sender: j.sender };

/** `{ [key]: Hostname }` when the config names its host (its metrics carry that name). */
function hostOf<K extends "oldHost" | "newHost">(key: K, text: string): { [P in K]?: string } {
  const host = topLevelOption(text, "Hostname");
  return (host === null ? {} : { [key]: host }) as { [P in K]?: string };
}

/** Builds the collectd.conf replacer (lua-collectd-monitor's config-replacer, done outside). */
export function createConfigReplacer(options: ConfigReplacerOptions): ConfigReplacer {
  const log = options.logger;
  const clock = options.clock ?? realClock;
  const journal = createJournalStore(options.stateDir);
  const settings = typeof options.service === "function"
    ? options.service
    : () => options.service as CollectdServiceSettings | undefined;
  const restarter = createRestarter({
    run: options.run,
    exec: options.exec,
    metricsSeen: options.metricsSeen,
    clock,
    pollMs: options.pollMs ?? 250,
  });
  const checkers = new Map<string, CheckConfig>();
  let busy: Journal["task_id"] | true | null = null;

  const timeoutMs = () =>
    options.timeoutMs ?? (settings()?.ReplaceTimeout ?? DEFAULT_TIMEOUT_S) * 1000;

  function checker(binary: string): CheckConfig {
    if (options.checkConfig) return options.checkConfig;
    let c = checkers.get(binary);
    if (!c) checkers.set(binary, c = createCollectdChecker(binary));
    return c;
  }

  function finish(j: Pick<Journal, "task_id" | "timestamp">, code: number, message: string) {
    const timestamp = resultTimestamp(clock.now());
    const result: CommandResult = { task_id: j.task_id, timestamp, message, code };
    options.counters.counter(
      "edge_agent_config_replace_total",
      "collectd.conf replacements by result code",
      { code: hex(code) },
    ).inc();
    const fields = { task_id: j.task_id, code: codeText(code), message };
    if (code === Code.OK) log.info("collectd.conf replaced", fields);
    else log.error("collectd.conf replacement failed", fields);
    return result;
  }

  /** Records the final result durably, then forgets the task. */
  async function done(j: Journal, code: number, message: string): Promise<CommandResult> {
    const result = finish(j, code, message);
    try {
      await journal.write({ ...j, phase: "done", result });
      await journal.clear();
    } catch (e) {
      log.error("cannot update the replacement journal", { error: errText(e) });
    }
    return result;
  }

  async function replace(
    j0: { task_id: Journal["task_id"]; timestamp: string; sender?: string },
    text: string,
  ): Promise<CommandResult> {
    const service = settings();
    if (service === undefined) {
      return finish(
        j0,
        Code.NO_SERVICE,
        'no "collectd" service in Services: collectd.conf replacement needs Services.collectd ' +
          '(at least {"collectd": {}}, or lua-collectd-monitor\'s {"ConfigPath": …})',
      );
    }
    const paths = locateConfig(service.ConfigPath);
    if (paths === null) {
      return finish(
        j0,
        Code.CONFIG_WRITE_FAILED,
        "no collectd.conf found at the usual locations; set Services.collectd.ConfigPath",
      );
    }
    if (paths.searched) log.info("using the collectd.conf found", { path: paths.config });
    let control: CollectdControl;
    try {
      control = await restarter(service, paths.config);
    } catch (e) {
      const why = `Cannot tell how collectd runs here: ${errText(e)}; nothing was changed`;
      return finish(j0, Code.CONFIG_RESTART_FAILED, why);
    }
    const bytes = new TextEncoder().encode(text);
    const sha = createHash("sha256").update(bytes).digest("hex");
    log.info("replacing collectd.conf", {
      task_id: j0.task_id,
      ...(j0.sender === undefined ? {} : { sender: j0.sender }),
      path: paths.config,
      bytes: bytes.length,
      sha256: sha,
    });
    const where = paths.searched ? `${paths.config} (found at a usual location)` : paths.config;

    // 0. the agent's own reading (syntax, includes, plugin policy): collectd never sees a refused
    // text, not even for the check (collectd -T runs exec programs and Python code) (0x2010)
    const verdict = await vetCollectdConf(text, {
      configPath: paths.config,
      ownFiles: [paths.config, paths.next, paths.backup],
      allowedPlugins: service.AllowedPlugins,
      includeDirs: includeDirsFor([paths.config], service.IncludeDirs),
      pidPath: service.PIDPath,
    });
    if (!verdict.ok) {
      return finish(
        j0,
        verdict.code,
        `${verdict.message}; ${paths.config} is unchanged and collectd was not restarted ` +
          "(nor run on the new text)",
      );
    }
    if (verdict.notes.length) {
      log.warn("parts of the current collectd.conf could not be read for the plugin policy", {
        notes: verdict.notes,
      });
    }

    // 1. the new file, next to the old one, with its owner and mode (0x2001)
    let oldText: string;
    try {
      oldText = await Deno.readTextFile(paths.config);
      await writeLike(paths.next, bytes, await likenessOf(paths.config));
    } catch (e) {
      return finish(j0, Code.CONFIG_WRITE_FAILED, `Failed to write new config: ${errText(e)}`);
    }
    const oldPidFile = pidFileFor(oldText, paths.config, service.PIDPath);
    let oldPid: number | null;
    try {
      oldPid = await control.running(oldPidFile);
    } catch (e) {
      await removeIfPresent(paths.next).catch(() => {});
      const why = `Cannot tell whether collectd runs: ${errText(e)}; nothing was changed`;
      return finish(j0, Code.CONFIG_RESTART_FAILED, why);
    }
    const j: Journal = {
      ...j0,
      phase: "prepared",
      config: paths.config,
      next: paths.next,
      backup: paths.backup,
      oldPid,
      oldPidFile,
      newPidFile: pidFileFor(text, paths.config, service.PIDPath),
      ...hostOf("oldHost", oldText),
      ...hostOf("newHost", text),
      newSha256: sha,
      startedAt: clock.now(),
    };
    const abandon = async (code: number, message: string) => {
      await removeIfPresent(paths.next).catch(() => {});
      const result = finish(j, code, message);
      await journal.clear().catch(() => {});
      return result;
    };
    try {
      await journal.write(j);
    } catch (e) {
      return abandon(Code.CONFIG_WRITE_FAILED, `Cannot record the task in StateDir: ${errText(e)}`);
    }

    // 2. check it (0x2002: old file untouched, collectd not restarted)
    const binary = locateBinary(service.CommandPath);
    const check = await checker(binary)(paths.next);
    if (!check.ok) {
      log.debug("collectd rejected the new config", { output: check.output });
      return abandon(
        Code.CONFIG_INVALID,
        `New config seems broken: ${check.output || "collectd's check failed"}; ` +
          `${paths.config} is unchanged and collectd was not restarted`,
      );
    }

    // 3. backup (0x2005), 4. atomic swap (0x2006)
    try {
      await writeLike(
        paths.backup,
        new TextEncoder().encode(oldText),
        await likenessOf(paths.config),
      );
    } catch (e) {
      return abandon(Code.CONFIG_BACKUP_FAILED, `Failed to back up old config: ${errText(e)}`);
    }
    try {
      await journal.write({ ...j, phase: "swapped" });
      await renameDurable(paths.next, paths.config);
    } catch (e) {
      return abandon(Code.CONFIG_SWAP_FAILED, `Failed to replace config: ${errText(e)}`);
    }
    j.phase = "swapped";
    return afterSwap(j, control, where, false);
  }

  /** Restart on the new file and confirm; otherwise put the old file back. */
  async function afterSwap(
    j: Journal,
    control: CollectdControl,
    where: string,
    resumed: boolean,
  ): Promise<CommandResult> {
    const limit = timeoutMs();
    const deadline = clock.now() + limit;
    const restarted = resumed
      ? { ok: true as const }
      : await control.restart(task(j), { stop: j.oldPidFile, start: j.newPidFile }, deadline);
    if (!restarted.ok) {
      // The old collectd never went away: it still runs the old config; put the file back.
      const now = await control.running(j.oldPidFile).catch(() => null); // unknown: roll back
      const oldStillRuns = j.oldPid !== null && now === j.oldPid;
      if (oldStillRuns) {
        try {
          await renameDurable(j.backup, j.config);
          return done(
            j,
            Code.CONFIG_RESTART_FAILED,
            `Failed to restart collectd: ${restarted.message}; ${j.config} is back to the old ` +
              `config and collectd (pid ${j.oldPid}) keeps running on it`,
          );
        } catch (e) {
          return rollback(j, control, {
            code: restarted.code,
            message: `${restarted.message}; restoring the old file failed: ${errText(e)}`,
          });
        }
      }
      return rollback(j, control, restarted);
    }
    const confirmed = await control.confirm(j.newPidFile, j.oldPid, deadline, j.newHost);
    if (!confirmed.ok) {
      return rollback(j, control, {
        ...confirmed,
        message: `${confirmed.message} within ${limit / 1000} s`,
      });
    }
    return done(
      j,
      Code.OK,
      `Succeeded to replace config: ${where}; collectd runs with pid ${confirmed.pid}` +
        (confirmed.metricsChecked ? " and sends metrics again" : " (metrics not checked)") +
        (resumed ? " (confirmed after an agent restart)" : ""),
    );
  }

  /** Puts the old file back and restarts collectd on it: 0x2007, or 0x2008. */
  async function rollback(
    j: Journal,
    control: CollectdControl,
    cause: Pick<StepFailure, "code" | "message">,
  ) {
    const failedPid = await control.running(j.newPidFile).catch(() => null);
    const rolling: Journal = {
      ...j,
      phase: "rolling_back",
      cause: { code: cause.code, message: cause.message },
    };
    log.warn("new collectd config failed; restoring the old one", {
      task_id: j.task_id,
      cause: codeText(cause.code),
      reason: cause.message,
    });
    try {
      await journal.write(rolling);
    } catch (e) {
      log.error("cannot update the replacement journal", { error: errText(e) });
    }
    const why = `New config failed (${hex(cause.code)}: ${cause.message})`;
    try {
      if (await present(j.backup)) await renameDurable(j.backup, j.config);
    } catch (e) {
      return done(
        rolling,
        Code.CONFIG_NOT_RECOVERED,
        `${why}; Failed to recover old config file: ${errText(e)}`,
      );
    }
    const deadline = clock.now() + timeoutMs();
    const pids = { stop: j.newPidFile, start: j.oldPidFile };
    const restarted = await control.restart(task(j), pids, deadline);
    const confirmed = restarted.ok
      ? await control.confirm(j.oldPidFile, failedPid, deadline, j.oldHost)
      : restarted;
    if (!confirmed.ok) {
      return done(
        rolling,
        Code.CONFIG_NOT_RECOVERED,
        `${why}; the old config is back in ${j.config} but collectd did not recover on it: ` +
          confirmed.message,
      );
    }
    return done(
      rolling,
      Code.CONFIG_RECOVERED,
      `${why}; recovered: the old config is back in ${j.config} and collectd runs on it again ` +
        `(pid ${confirmed.pid})`,
    );
  }

  /** Finishes what the journal says was left in the middle. */
  async function resume(j: Journal): Promise<CommandResult> {
    log.warn("finishing a collectd.conf replacement interrupted by an agent restart", {
      task_id: j.task_id,
      phase: j.phase,
    });
    if (j.phase === "done" && j.result) {
      await journal.clear();
      return j.result;
    }
    if (j.phase === "prepared" || (j.phase === "swapped" && await present(j.next))) {
      // Stopped before the swap: collectd.conf was never changed.
      await removeIfPresent(j.next).catch(() => {});
      return done(
        j,
        Code.CONFIG_SWAP_FAILED,
        `Failed to replace config: the agent stopped before the swap; ${j.config} is unchanged`,
      );
    }
    const control = await restarter(settings() ?? {}, j.config);
    if (j.phase === "rolling_back") {
      const cause = j.cause ?? { code: Code.CONFIG_NO_METRICS, message: "interrupted" };
      return rollback(j, control, cause);
    }
    // Swapped: collectd may or may not have been restarted before the agent stopped.
    const now = await control.running(j.newPidFile);
    if (now === null || now === j.oldPid) {
      const deadline = clock.now() + timeoutMs();
      const pids = { stop: j.oldPidFile, start: j.newPidFile };
      const restarted = await control.restart(task(j), pids, deadline);
      if (!restarted.ok) return rollback(j, control, restarted);
    }
    return afterSwap(j, control, j.config, true);
  }

  return {
    async handle(message, sender) {
      const parsed = ConfigMessageSchema.safeParse(message);
      if (!parsed.success) {
        const m = (message ?? {}) as { task_id?: unknown; timestamp?: unknown };
        return finish(
          {
            task_id: typeof m.task_id === "number" || typeof m.task_id === "string"
              ? m.task_id
              : "",
            timestamp: typeof m.timestamp === "string" ? m.timestamp : "",
          },
          Code.INVALID_MESSAGE,
          `Invalid config message: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
        );
      }
      const { task_id, config } = parsed.data;
      const timestamp = parsed.data.timestamp ?? "";
      if (busy !== null) {
        return finish(
          { task_id, timestamp },
          Code.CONFIG_TASK_RUNNING,
          "Already attempting to replace collectd config" +
            (busy === true ? "" : ` (task ${busy})`),
        );
      }
      busy = task_id;
      try {
        const pending = await journal.read().catch(() => null);
        if (pending !== null) {
          return finish(
            { task_id, timestamp },
            Code.CONFIG_TASK_RUNNING,
            `Already attempting to replace collectd config (task ${pending.task_id} is pending)`,
          );
        }
        return await replace({ task_id, timestamp, ...(sender ? { sender } : {}) }, config);
      } finally {
        busy = null;
      }
    },

    async resumePending() {
      if (busy !== null) return null;
      busy = true;
      try {
        let j: Journal | null;
        try {
          j = await journal.read();
        } catch (e) {
          log.error("cannot resume the collectd.conf replacement", { error: errText(e) });
          return null;
        }
        return j === null ? null : await resume(j);
      } finally {
        busy = null;
      }
    },
  };
}
