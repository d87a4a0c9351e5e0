import type { Config } from "../config/mod.ts";
import {
  type BrokerConnection,
  expandTopic,
  type Outbox,
  type QoS,
  topicMatches,
} from "../mqtt/mod.ts";
import { type Action, Code, type CommandResult, type Logger, type Trigger } from "../model/mod.ts";
import { resultTimestamp } from "./message.ts";
import { createResultWaiter, newTaskId } from "./request.ts";
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
}

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
  const answer = (task_id: number, message: string, code: number): CommandResult => ({
    task_id,
    timestamp: resultTimestamp(now()),
    message,
    code,
  });

  return {
    offer(topic, payload) {
      if (waiter.waiting === 0) return false;
      for (const filter of filters) {
        if (topicMatches(filter, topic)) return waiter.offer(payload);
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
        log.info("result from another host", { host, task_id: taskId, code: got.code });
        return got;
      }
      if (stopping.signal.aborted) {
        return answer(taskId, `the agent stopped before ${host} answered`, Code.SHUTTING_DOWN);
      }
      log.warn("no result from the other host", { host, task_id: taskId });
      return answer(
        taskId,
        `no result from ${host} within ${config.RemoteResultTimeout} s`,
        Code.NO_RESULT,
      );
    },
  };
}
