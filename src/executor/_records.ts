import { Code, resultTimestamp, type RunRecord, type Trigger } from "../model/mod.ts";
import type { RunOutcome } from "./runner.ts";

/** The record of a request refused before anything ran. */
export function refused(
  req: { service: string; command: string; trigger: Trigger },
  taskId: number | string,
  time: number,
  code: number,
  message: string,
  argv: string[] = [],
): RunRecord {
  return {
    result: { task_id: taskId, timestamp: resultTimestamp(time), message, code },
    trigger: req.trigger,
    service: req.service,
    command: req.command,
    argv,
    durationMs: 0,
    outputBytes: 0,
    truncated: false,
    timedOut: false,
  };
}

/** The record of a run: `message` is the output (plus a note when cut or timed out). */
export function finished(
  req: { service: string; command: string; trigger: Trigger },
  taskId: number | string,
  time: number,
  argv: string[],
  outcome: RunOutcome,
  timeoutMs: number,
): RunRecord {
  if (outcome.kind === "spawn_failed") {
    const code = outcome.reason === "not_permitted" ? Code.NOT_PERMITTED : Code.SPAWN_FAILED;
    const why = outcome.reason === "not_permitted"
      ? `not permitted by --allow-run (${outcome.error})`
      : outcome.error;
    return refused(req, taskId, time, code, `Cannot run ${argv[0]}: ${why}`, argv);
  }
  let message = outcome.output;
  if (outcome.truncated) {
    message += `\n[edge-agent: output truncated: ${outcome.outputBytes} bytes, first ${
      new TextEncoder().encode(outcome.output).length
    } kept]`;
  }
  if (outcome.stopped && !outcome.timedOut) {
    message += `\n[edge-agent: stopped: the agent is shutting down; ${signalled(outcome)}]`;
  }
  if (outcome.timedOut) {
    message += `\n[edge-agent: timed out after ${timeoutMs / 1000} s; ${signalled(outcome)}]`;
  }
  return {
    result: {
      task_id: taskId,
      timestamp: resultTimestamp(time),
      message,
      code: outcome.timedOut ? Code.TIMEOUT : outcome.stopped ? Code.SHUTTING_DOWN : outcome.code,
    },
    trigger: req.trigger,
    service: req.service,
    command: req.command,
    argv,
    durationMs: Math.round(outcome.durationMs * 1000) / 1000,
    outputBytes: outcome.outputBytes,
    truncated: outcome.truncated,
    timedOut: outcome.timedOut,
  };
}

/** What the signals that ended a run reached, as the result says it. */
function signalled(outcome: Extract<RunOutcome, { kind: "exited" }>): string {
  if (outcome.signals.length === 0) return "it ended before any signal was sent";
  const sent = outcome.signals.map((s) => s.signal).join(", then ");
  if (outcome.signals.every((s) => s.target === "group")) return `the process group got ${sent}`;
  return `only the command's own process got ${sent} (no kill helper could signal its process ` +
    "group: its children may survive)";
}
