import type { SeenStore } from "../mqtt/seen_store.ts";
import {
  Code,
  codeText,
  type CommandResult,
  type Counter,
  type Counters,
  type Logger,
  remoteTrigger,
  type RunRecord,
  type Trigger,
} from "../model/mod.ts";
import {
  type CommandMessage,
  type ConfigMessage,
  type MaintenanceMessage,
  parseMessage,
  resultTimestamp,
  type TaskId,
} from "./message.ts";
import { checkSignature } from "./signature.ts";

/** What the executor is asked to run for a command. */
export interface ExecuteRequest {
  service: string;
  command: string;
  trigger: Trigger;
  task_id?: number | string;
}

/** Runs a pre-defined command (the executor's `run`). */
export type Execute = (req: ExecuteRequest) => Promise<RunRecord>;

/** Handles a collectd.conf replacement message (issue 7), after the shared checks. */
export type OnConfigMessage = (
  message: ConfigMessage,
  sender: string | undefined,
) => Promise<CommandResult>;

/** Handles a maintenance-switch message, after the shared checks. */
export type OnMaintenanceMessage = (
  message: MaintenanceMessage,
  sender: string | undefined,
) => Promise<CommandResult>;

/** Options of {@linkcode createCommandRouter}. */
export interface CommandRouterOptions {
  /** This agent's host name (messages with another `host` are ignored). */
  hostName: string;
  /** Oldest accepted command timestamp, in ms before now; 0 = no limit. */
  maxAgeMs: number;
  /** Allowed signers (name → secret); empty = signatures not required. */
  senders: ReadonlyMap<string, string>;
  seen: SeenStore;
  execute: Execute;
  onConfigMessage?: OnConfigMessage;
  onMaintenanceMessage?: OnMaintenanceMessage;
  logger: Logger;
  counters?: Counters;
  now?: () => number;
}

/**
 * What became of one message: refused at once with `result`; accepted (its `done` resolves
 * to the run's record, or to a result for a config message); or ignored (no result is due).
 */
export type RouteOutcome =
  | { kind: "refused"; result: CommandResult }
  | { kind: "accepted"; taskId: TaskId; done: Promise<RunRecord | CommandResult> }
  | { kind: "ignored"; reason: string };

/**
 * Turns command payloads into runs: validate → host → signature → max age → duplicate (durable)
 * → executor (or the config handler). `route` resolves as soon as the message was accepted
 * durably (its task id recorded), so the broker's acknowledgement never waits for a command.
 */
export interface CommandRouter {
  route(payload: Uint8Array, info: { topic: string }): Promise<RouteOutcome>;
}

/** Creates the router (see {@linkcode CommandRouter}). */
export function createCommandRouter(options: CommandRouterOptions): CommandRouter {
  const log = options.logger;
  const now = options.now ?? Date.now;
  const refusedCounters = new Map<string, Counter>();
  const refusals = (reason: string) => {
    let c = refusedCounters.get(reason);
    if (!c) {
      c = options.counters?.counter(
        "edge_agent_commands_refused_total",
        "Remote messages refused or ignored, by reason",
        { reason },
      ) ?? { inc() {}, value: 0 };
      refusedCounters.set(reason, c);
    }
    return c;
  };
  const accepted = options.counters?.counter(
    "edge_agent_commands_accepted_total",
    "Remote commands and config messages accepted",
  );

  const refuse = (
    reason: string,
    taskId: TaskId,
    code: number,
    message: string,
    fields: Record<string, unknown> = {},
  ): RouteOutcome => {
    refusals(reason).inc();
    log.warn(`command refused: ${message}`, { task_id: taskId, code: codeText(code), ...fields });
    return {
      kind: "refused",
      result: { task_id: taskId, timestamp: resultTimestamp(now()), message, code },
    };
  };

  return {
    async route(payload, info) {
      const parsed = parseMessage(payload);
      if (parsed.kind === "invalid") {
        if (parsed.taskId === undefined) {
          refusals("unreadable").inc();
          log.error("ignored an MQTT message without a readable task_id", {
            topic: info.topic,
            reason: parsed.reason,
            bytes: payload.length,
          });
          return { kind: "ignored", reason: parsed.reason };
        }
        return refuse("invalid", parsed.taskId, Code.INVALID_MESSAGE, parsed.reason, {
          topic: info.topic,
        });
      }
      const msg = parsed.message;
      const taskId = msg.task_id;
      if (msg.host !== undefined && msg.host !== options.hostName) {
        refusals("wrong_host").inc();
        log.debug("ignored a message addressed to another host", {
          task_id: taskId,
          host: msg.host,
          code: Code.WRONG_HOST,
        });
        return { kind: "ignored", reason: `addressed to ${msg.host}` };
      }
      if (options.senders.size > 0) {
        const bad = checkSignature(parsed.raw, options.senders);
        if (bad !== null) {
          return refuse("bad_signature", taskId, Code.BAD_SIGNATURE, bad, {
            sender: msg.sender,
            topic: info.topic,
          });
        }
      }
      if (options.maxAgeMs > 0) {
        if (msg.timestamp === undefined) {
          return refuse(
            "stale",
            taskId,
            Code.STALE_COMMAND,
            "command has no timestamp; its age cannot be checked (MaxCommandAge)",
          );
        }
        const age = now() - Date.parse(msg.timestamp);
        if (age > options.maxAgeMs) {
          return refuse(
            "stale",
            taskId,
            Code.STALE_COMMAND,
            `command is too old: sent ${msg.timestamp}, ${Math.round(age / 1000)} s ago ` +
              `(MaxCommandAge ${options.maxAgeMs / 1000} s)`,
          );
        }
      }
      // A command's service and command are kept with its id: if the agent dies while running
      // it, the restart can still audit it (answered 0x1009).
      const task = parsed.kind === "command"
        ? {
          service: parsed.message.service,
          command: parsed.message.command,
          ...(parsed.message.sender ? { sender: parsed.message.sender } : {}),
        }
        : undefined;
      if (!(await options.seen.markSeen(taskId, task))) {
        return refuse(
          "duplicate",
          taskId,
          Code.DUPLICATE_TASK,
          `Received duplicate task_id: ${taskId}`,
        );
      }
      accepted?.inc();
      if (parsed.kind === "config" || parsed.kind === "maintenance") {
        const what = parsed.kind === "config" ? "config replacement" : "maintenance switch";
        const handled = parsed.kind === "config"
          ? options.onConfigMessage?.(parsed.message, msg.sender)
          : options.onMaintenanceMessage?.(parsed.message, msg.sender);
        const failed = (message: string, code: number): CommandResult => ({
          task_id: taskId,
          timestamp: resultTimestamp(now()),
          message,
          code,
        });
        const done = handled
          ? handled.catch((e) =>
            failed(
              `${what} failed: ${(e as Error).message}`,
              parsed.kind === "config" ? Code.CONFIG_WRITE_FAILED : Code.INVALID_MESSAGE,
            )
          )
          : Promise.resolve(
            failed(`${what} messages are not handled by this agent`, Code.INVALID_MESSAGE),
          );
        return { kind: "accepted", taskId, done };
      }
      const command: CommandMessage = parsed.message;
      log.info("remote command accepted", { task_id: taskId, ...task });
      const done = options.execute({
        service: command.service,
        command: command.command,
        trigger: remoteTrigger(taskId, task?.sender),
        task_id: taskId,
      });
      return { kind: "accepted", taskId, done };
    },
  };
}
