import type { RunRequest } from "../executor/mod.ts";
import type { SeenStore } from "../mqtt/mod.ts";
import {
  Code,
  codeText,
  type CommandResult,
  type Counter,
  type Counters,
  type Logger,
  remoteResultRecord,
  remoteTrigger,
  resultTimestamp,
  type RunRecord,
} from "../model/mod.ts";
import {
  type ConfigMessage,
  type MaintenanceMessage,
  NameSchema,
  type ParsedMessage,
  parseMessage,
  parseTimestamp,
  type TaskId,
} from "./message.ts";
import { checkSignature } from "./signature.ts";

/** Runs a pre-defined command (the executor's `run`). */
export type Execute = (req: RunRequest) => Promise<RunRecord>;

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
  /** Oldest accepted command timestamp, in ms before now; 0 = no limit (and no skew check). */
  maxAgeMs: number;
  /**
   * With `maxAgeMs` > 0: how far a timestamp may lie ahead of this agent's clock (ms). Default
   * 300 000 (MaxClockSkew).
   */
  maxSkewMs?: number;
  /** Allowed signers (name → secret); empty = signatures not required. */
  senders: ReadonlyMap<string, string>;
  /** Non-empty: the only signers of config messages (ConfigSenders), instead of `senders`. */
  configSenders?: ReadonlyMap<string, string>;
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
  /** `record`: for the audit (what the message asked for, as far as it could be read). */
  | { kind: "refused"; result: CommandResult; record: RunRecord }
  /** A command: `done` is the executor's record of its run. */
  | { kind: "accepted"; message: "command"; taskId: TaskId; done: Promise<RunRecord> }
  /** A config or maintenance message: `done` is its handler's result. */
  | {
    kind: "accepted";
    message: "config" | "maintenance";
    taskId: TaskId;
    done: Promise<CommandResult>;
  }
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
  const refusals = refusalCounters(options.counters);
  const accepted = options.counters?.counter(
    "edge_agent_commands_accepted_total",
    "Remote commands and config messages accepted",
  );

  const refuse: Refuse = (asked, reason, taskId, code, message, fields = {}) => {
    refusals(reason).inc();
    const level = code === Code.STATE_WRITE_FAILED ? "error" : "warn";
    log[level](`command refused: ${message}`, { task_id: taskId, code: codeText(code), ...fields });
    const result = { task_id: taskId, timestamp: resultTimestamp(now()), message, code };
    return { kind: "refused", result, record: remoteResultRecord(result, asked) };
  };

  return {
    async route(payload, info) {
      const parsed = parseMessage(payload);
      const asked = whatWasAsked(parsed);
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
        return refuse(asked, "invalid", parsed.taskId, Code.INVALID_MESSAGE, parsed.reason, {
          topic: info.topic,
        });
      }
      const refused = check(parsed, asked, info.topic, { options, now, refusals, refuse });
      if (refused) return refused;
      const taskId = parsed.message.task_id;
      // A command's service and command are kept with its id: if the agent dies while running
      // it, the restart can still audit it (answered 0x1009).
      const task = parsed.kind === "command"
        ? {
          service: parsed.message.service,
          command: parsed.message.command,
          ...(parsed.message.sender ? { sender: parsed.message.sender } : {}),
        }
        : undefined;
      let fresh: boolean;
      try {
        fresh = await options.seen.markSeen(taskId, task);
      } catch (e) {
        // Not recorded, so not accepted: answered now, and the same task_id may come again.
        return refuse(
          asked,
          "state_write_failed",
          taskId,
          Code.STATE_WRITE_FAILED,
          `not run: ${(e as Error).message}; nothing ran, send it again once StateDir is ` +
            "writable",
        );
      }
      if (!fresh) {
        return refuse(
          asked,
          "duplicate",
          taskId,
          Code.DUPLICATE_TASK,
          `Received duplicate task_id: ${taskId}`,
        );
      }
      accepted?.inc();
      if (parsed.kind !== "command") {
        return {
          kind: "accepted",
          message: parsed.kind,
          taskId,
          done: handle(parsed, options, now),
        };
      }
      log.info("remote command accepted", { task_id: taskId, ...task });
      const done = options.execute({
        service: parsed.message.service,
        command: parsed.message.command,
        trigger: remoteTrigger(taskId, task?.sender),
        task_id: taskId,
      });
      return { kind: "accepted", message: "command", taskId, done };
    },
  };
}

/** Counts, logs and answers a refusal (see createCommandRouter). */
type Refuse = (
  asked: Asked,
  reason: string,
  taskId: TaskId,
  code: number,
  message: string,
  fields?: Record<string, unknown>,
) => RouteOutcome;

/** The checks before a valid message is accepted: host, signature, age. */
function check(
  parsed: Valid,
  asked: Asked,
  topic: string,
  ctx: {
    options: CommandRouterOptions;
    now: () => number;
    refusals: (reason: string) => Counter;
    refuse: Refuse;
  },
): RouteOutcome | null {
  const { options, now, refusals, refuse } = ctx;
  const log = options.logger;
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
  const configOnly = parsed.kind === "config" && (options.configSenders?.size ?? 0) > 0;
  const signers = configOnly ? options.configSenders! : options.senders;
  if (signers.size > 0) {
    const why = checkSignature(parsed.raw, signers);
    const bad = why !== null && configOnly
      ? `${why}: collectd.conf replacements must be signed by one of ConfigSenders`
      : why;
    if (bad !== null) {
      return refuse(asked, "bad_signature", taskId, Code.BAD_SIGNATURE, bad, {
        sender: msg.sender,
        topic,
      });
    }
  }
  const late = timeRefusal(msg.timestamp, now(), options.maxAgeMs, options.maxSkewMs);
  return late === null ? null : refuse(asked, "stale", taskId, Code.STALE_COMMAND, late);
}

/** A message that passed validation. */
type Valid = Exclude<ParsedMessage, { kind: "invalid" }>;

/** `edge_agent_commands_refused_total{reason}`, one counter per reason, made on first use. */
function refusalCounters(counters: Counters | undefined): (reason: string) => Counter {
  const made = new Map<string, Counter>();
  return (reason) => {
    let c = made.get(reason);
    if (!c) {
      c = counters?.counter(
        "edge_agent_commands_refused_total",
        "Remote messages refused or ignored, by reason",
        { reason },
      ) ?? { inc() {}, value: 0 };
      made.set(reason, c);
    }
    return c;
  };
}

/** What a message asked for, as far as it could be read (for the audit line of a refusal). */
interface Asked {
  service: string;
  command: string;
  sender?: string | undefined;
}

/**
 * The service, command and sender a message asked for, for the audit line of its refusal: a
 * field that is not a valid name is left out (empty), so nothing hostile reaches the audit.
 */
function whatWasAsked(parsed: ParsedMessage): Asked {
  if (parsed.kind === "maintenance") {
    return {
      service: "",
      command: `maintenance ${parsed.message.maintenance}`,
      sender: parsed.message.sender,
    };
  }
  if (parsed.kind === "config") {
    return { service: "collectd", command: "replace-config", sender: parsed.message.sender };
  }
  const raw = parsed.raw ?? {};
  const name = (v: unknown) => NameSchema.safeParse(v).success ? v as string : "";
  const sender = name(raw.sender);
  return {
    service: name(raw.service),
    command: name(raw.command),
    ...(sender ? { sender } : {}),
  };
}

/**
 * Why a command's `timestamp` is outside the accepted window [now − maxAgeMs, now + maxSkewMs]
 * (missing, too old, or so far ahead that it would stay fresh for ever, replayable once its id
 * is forgotten), or null when it is inside or `maxAgeMs` is 0 (no window).
 */
export function timeRefusal(
  timestamp: string | undefined,
  now: number,
  maxAgeMs: number,
  maxSkewMs = 300_000,
): string | null {
  if (maxAgeMs <= 0) return null;
  if (timestamp === undefined) {
    return "command has no timestamp; its age cannot be checked (MaxCommandAge)";
  }
  const age = now - parseTimestamp(timestamp);
  if (age > maxAgeMs) {
    return `command is too old: sent ${timestamp}, ${Math.round(age / 1000)} s ago ` +
      `(MaxCommandAge ${maxAgeMs / 1000} s)`;
  }
  if (-age > maxSkewMs) {
    return `command is from the future: sent ${timestamp}, ${Math.round(-age / 1000)} s ` +
      `ahead of this agent's clock (MaxClockSkew ${maxSkewMs / 1000} s)`;
  }
  return null;
}

/** Hands a config or maintenance message to its handler; always resolves with a result. */
function handle(
  parsed: Extract<Valid, { kind: "config" | "maintenance" }>,
  options: Pick<CommandRouterOptions, "onConfigMessage" | "onMaintenanceMessage">,
  now: () => number,
): Promise<CommandResult> {
  const taskId = parsed.message.task_id;
  const sender = parsed.message.sender;
  const what = parsed.kind === "config" ? "config replacement" : "maintenance switch";
  const handler = parsed.kind === "config"
    ? options.onConfigMessage && (() => options.onConfigMessage!(parsed.message, sender))
    : options.onMaintenanceMessage &&
      (() => options.onMaintenanceMessage!(parsed.message, sender));
  // A handler that throws at once still gets its result (never an id without an answer).
  const handled = handler && Promise.resolve().then(handler);
  const failed = (message: string, code: number): CommandResult => ({
    task_id: taskId,
    timestamp: resultTimestamp(now()),
    message,
    code,
  });
  return handled
    ? handled.catch((e) =>
      failed(
        `${what} failed: ${(e as Error).message}`,
        parsed.kind === "config" ? Code.CONFIG_WRITE_FAILED : Code.STATE_WRITE_FAILED,
      )
    )
    : Promise.resolve(
      failed(`${what} messages are not handled by this agent`, Code.INVALID_MESSAGE),
    );
}
