import { remoteTrigger, type Trigger } from "./action.ts";
import type { CommandResult } from "./result.ts";

/**
 * Everything known about one finished run (or refused request), from any trigger. Reporters
 * (log, audit, collectd notification, MQTT) each take what they need; `result` is the
 * lua-collectd-monitor-compatible `{task_id, timestamp, message, code}`.
 */
export interface RunRecord {
  result: CommandResult;
  trigger: Trigger;
  service: string;
  command: string;
  /** The argv actually run; empty when nothing ran (refused, unknown service, ...). */
  argv: string[];
  /** Milliseconds from spawn to exit; 0 when nothing ran. */
  durationMs: number;
  /** Bytes of output captured (before truncation). */
  outputBytes: number;
  truncated: boolean;
  timedOut: boolean;
  /** Central mode: the other agent that ran it (this agent only sent the command). */
  host?: string;
  /** Central mode: the result came after RemoteResultTimeout (a 0x1008 record came before). */
  late?: boolean;
}

/**
 * A destination for every run's record. `report` must not throw for a transient failure of its
 * own destination (it logs or spools instead); the audit reporter is awaited before any other.
 */
export interface Reporter {
  readonly name: string;
  report(record: RunRecord): Promise<void>;
  close?(): Promise<void>;
}

/**
 * The record of a remote task's result that has no executor run of its own (a config
 * replacement resumed after a restart, a command answered 0x1009 after the agent died): no run
 * is known, so `argv` is empty and the counts are zero.
 */
export function remoteResultRecord(
  result: CommandResult,
  what: { service: string; command: string; sender?: string | undefined },
): RunRecord {
  return noRun(result, remoteTrigger(result.task_id, what.sender), what);
}

/**
 * The record of another agent's result to a command a rule of this agent sent (central mode),
 * or of this agent's own answer when none came (0x1008, 0x1016): nothing ran here, so `argv`
 * is empty and the counts are zero; `host` names the agent that ran it.
 */
export function centralResultRecord(
  result: CommandResult,
  what: { trigger: Trigger; host: string; service: string; command: string; late?: boolean },
): RunRecord {
  return {
    ...noRun(result, what.trigger, what),
    host: what.host,
    ...(what.late ? { late: true } : {}),
  };
}

/** A record of `result` where nothing ran here: empty `argv`, zero counts. */
function noRun(
  result: CommandResult,
  trigger: Trigger,
  what: { service: string; command: string },
): RunRecord {
  return {
    result,
    trigger,
    service: what.service,
    command: what.command,
    argv: [],
    durationMs: 0,
    outputBytes: 0,
    truncated: false,
    timedOut: false,
  };
}
