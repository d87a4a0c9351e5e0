import type { Config } from "../config/mod.ts";
import {
  type BrokerConnection,
  expandTopic,
  type Outbox,
  type QoS,
  topicMatches,
} from "../mqtt/mod.ts";
import {
  type Action,
  Code,
  codeText,
  type CommandResult,
  type Logger,
  resultTimestamp,
  type Trigger,
} from "../model/mod.ts";
import { createResultWaiter, newTaskId, ResultMessageSchema } from "./request.ts";
import { withSignature } from "./signature.ts";

/** Options of {@linkcode createCentralSender}. */
export interface CentralSenderOptions {
  config: Pick<
    Config,
    "CommandTopic" | "CommandResultTopic" | "SignAs" | "RemoteResultTimeout"
  >;
  qos: QoS;
  connection: BrokerConnection;
  outbox: Outbox;
  logger: Logger;
  now?: () => number;
  /** A result that came after RemoteResultTimeout (its command was already answered 0x1008). */
  onLateResult?: (late: LateResult) => void;
}

/** A result that arrived after its wait had ended with NO_RESULT (0x1008). */
export interface LateResult {
  host: string;
  action: Action;
  trigger: Trigger;
  result: CommandResult;
}

/** Timed-out commands whose late result is still recognised: at most this many, this long. */
const LATE_MAX = 1000;
const LATE_KEEP_MS = 86_400_000;

/**
 * Central mode: sends commands to other agents (their `CommandTopic` with `{host}` = the target,
 * `host` field set, signed with `SignAs`) and matches the results arriving on their
 * `CommandResultTopic`. Nothing may be called after `stop` (pending waits end at once).
 */
export interface CentralSender {
  /** Resolves with the target's result, or NO_RESULT (0x1008) after RemoteResultTimeout. */
  sendCommand(host: string, action: Action, trigger: Trigger): Promise<CommandResult>;
  /** Offers a received message; true when it was an awaited result. */
  offer(topic: string, payload: Uint8Array): boolean;
  /** Ends every pending wait (with SHUTTING_DOWN results). */
  stop(): void;
}

export function createCentralSender(options: CentralSenderOptions): CentralSender {
  const { config, qos, connection, outbox } = options;
  const log = options.logger;
  const now = options.now ?? Date.now;
  const waiter = createResultWaiter();
  const filters = new Set<string>();
  const stopping = new AbortController();
  const decoder = new TextDecoder();
  /** Task ids answered NO_RESULT → what was sent, for a result that still comes. */
  const expired = new Map<string, Omit<LateResult, "result"> & { at: number }>();

  /** Takes a result of a timed-out command in; false when it is not one. */
  function late(payload: Uint8Array): boolean {
    let parsed;
    try {
      parsed = ResultMessageSchema.safeParse(JSON.parse(decoder.decode(payload)));
    } catch {
      return false;
    }
    if (!parsed.success) return false;
    const key = JSON.stringify(parsed.data.task_id);
    const sent = expired.get(key);
    if (!sent) return false;
    expired.delete(key);
    log.warn("late result from another host, after RemoteResultTimeout", {
      host: sent.host,
      task_id: parsed.data.task_id,
      service: sent.action.service,
      command: sent.action.command,
      code: codeText(parsed.data.code),
      late_s: Math.round((now() - sent.at) / 1000),
    });
    const { host, action, trigger } = sent;
    options.onLateResult?.({ host, action, trigger, result: parsed.data });
    return true;
  }

  function remember(taskId: number, sent: Omit<LateResult, "result">) {
    const t = now();
    for (const [k, v] of expired) {
      if (expired.size < LATE_MAX && t - v.at < LATE_KEEP_MS) break;
      expired.delete(k); // oldest first
    }
    expired.set(JSON.stringify(taskId), { ...sent, at: t });
  }
  const answer = (task_id: number, message: string, code: number): CommandResult => ({
    task_id,
    timestamp: resultTimestamp(now()),
    message,
    code,
  });

  return {
    offer(topic, payload) {
      if (waiter.waiting === 0 && expired.size === 0) return false;
      for (const filter of filters) {
        if (topicMatches(filter, topic)) return waiter.offer(payload) || late(payload);
      }
      return false;
    },
    stop() {
      stopping.abort();
    },
    async sendCommand(host, action, trigger) {
      if (stopping.signal.aborted) return answer(0, "MQTT channel stopped", Code.SHUTTING_DOWN);
      if (!config.CommandTopic) return answer(0, "no CommandTopic configured", Code.NO_CONFIG);
      const taskId = newTaskId();
      let message: Record<string, unknown> = {
        task_id: taskId,
        timestamp: resultTimestamp(now()),
        service: action.service,
        command: action.command,
        host,
      };
      if (config.SignAs) message = withSignature(message, config.SignAs);
      let result: Promise<CommandResult | null> | null = null;
      if (config.CommandResultTopic) {
        const filter = expandTopic(config.CommandResultTopic, host);
        if (!filters.has(filter)) {
          filters.add(filter);
          await connection.subscribe(filter, qos);
        }
        result = waiter.wait(taskId, config.RemoteResultTimeout * 1000, stopping.signal);
      }
      log.info("sending a command to another host", {
        host,
        task_id: taskId,
        service: action.service,
        command: action.command,
        trigger: trigger.kind === "rule" ? trigger.handler : trigger.kind,
      });
      await outbox.send(expandTopic(config.CommandTopic, host), JSON.stringify(message), { qos });
      if (!result) return answer(taskId, "sent; no CommandResultTopic to wait on", Code.OK);
      const got = await result;
      if (got) {
        log.info("result from another host", { host, task_id: taskId, code: codeText(got.code) });
        return got;
      }
      if (stopping.signal.aborted) {
        return answer(taskId, `the agent stopped before ${host} answered`, Code.SHUTTING_DOWN);
      }
      remember(taskId, { host, action, trigger });
      log.warn("no result from the other host", { host, task_id: taskId });
      return answer(
        taskId,
        `no result from ${host} within ${config.RemoteResultTimeout} s`,
        Code.NO_RESULT,
      );
    },
  };
}
