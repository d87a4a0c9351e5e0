import {
  Code,
  type CommandResult,
  type Counters,
  type Logger,
  remoteResultRecord,
  type RunRecord,
} from "../../model/mod.ts";
import { replaceText } from "./_apply.ts";
import { type CheckConfig, createCollectdChecker } from "./_collectd.ts";
import { type CollectdServiceSettings, replaceContext } from "./_context.ts";
import type { Exec } from "./_control.ts";
import { createJournalStore, type Journal } from "./_journal.ts";
import { ConfigMessageSchema } from "./_message.ts";
import { resume } from "./_recover.ts";
import {
  type Clock,
  createRestarter,
  errText,
  type MetricsSeen,
  realClock,
  type ReplaceTask,
  type RunLike,
} from "./_restart.ts";

export type { CollectdServiceSettings } from "./_context.ts";
export type { CheckConfig, CheckOutcome } from "./_collectd.ts";
export type { Clock, MetricsSeen, ReplaceTask, RunLike } from "./_restart.ts";
export type { Exec, ExecOutcome } from "./_control.ts";

/**
 * The record to hand the reporters (MQTT, audit) for a result that has no executor run of its
 * own, e.g. the one {@linkcode ConfigReplacer.resumePending} returns after an agent restart.
 */
export function resultRecord(result: CommandResult, sender?: string): RunRecord {
  return remoteResultRecord(result, { service: "collectd", command: "replace-config", sender });
}

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

/** Builds the collectd.conf replacer (lua-collectd-monitor's config-replacer, done outside). */
export function createConfigReplacer(options: ConfigReplacerOptions): ConfigReplacer {
  const clock = options.clock ?? realClock;
  const settings = typeof options.service === "function"
    ? options.service
    : () => options.service as CollectdServiceSettings | undefined;
  const checkers = new Map<string, CheckConfig>();
  const ctx = replaceContext({
    log: options.logger,
    clock,
    journal: createJournalStore(options.stateDir),
    counters: options.counters,
    settings,
    restarter: createRestarter({
      run: options.run,
      exec: options.exec,
      metricsSeen: options.metricsSeen,
      clock,
      pollMs: options.pollMs ?? 250,
    }),
    checker(binary) {
      if (options.checkConfig) return options.checkConfig;
      let c = checkers.get(binary);
      if (!c) checkers.set(binary, c = createCollectdChecker(binary));
      return c;
    },
    timeoutMs: () => options.timeoutMs ?? (settings()?.ReplaceTimeout ?? DEFAULT_TIMEOUT_S) * 1000,
  });
  const { log, journal, finish } = ctx;
  let busy: Journal["task_id"] | true | null = null;

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
        return await replaceText(
          ctx,
          { task_id, timestamp, ...(sender ? { sender } : {}) },
          config,
        );
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
        return j === null ? null : await resume(ctx, j);
      } finally {
        busy = null;
      }
    },
  };
}
