import { join } from "node:path";
import { type Config, mqttKeys } from "../config/mod.ts";
import {
  type BrokerConnection,
  brokerSettings,
  createBrokerConnection,
  createOutbox,
  expandTopic,
  type IncomingMessage,
  openSeenStore,
  openSpool,
  type Outbox,
  type QoS,
  type SeenStore,
  topicMatches,
} from "../mqtt/mod.ts";
import {
  type Action,
  Code,
  codeText,
  type CommandResult,
  type Counters,
  type Logger,
  remoteResultRecord,
  type Reporter,
  type RunRecord,
  type Stage,
  taskKey,
  type Trigger,
} from "../model/mod.ts";
import { createMqttReporter, type MqttReporter } from "../reporters/mqtt.ts";
import { resultTimestamp } from "./message.ts";
import { type CentralSender, createCentralSender, type LateResult } from "./central.ts";
import {
  type CommandRouter,
  createCommandRouter,
  type Execute,
  type OnConfigMessage,
  type OnMaintenanceMessage,
} from "./router.ts";

/** Options of {@linkcode createMqttChannel}. */
export interface MqttChannelOptions {
  logger: Logger;
  counters: Counters;
  /** Folder for the result spool (`mqtt-spool/`) and seen task ids (`seen-task-ids.log`). */
  stateDir: string;
  /** The executor's `run`; its record must also reach `channel.reporter` (deduplicated). */
  execute: Execute;
  /** Handler of messages with a `config` field (collectd.conf replacement). */
  onConfigMessage?: OnConfigMessage;
  /** Handler of maintenance-switch messages (`{task_id, timestamp, maintenance, for, reason}`). */
  onMaintenanceMessage?: OnMaintenanceMessage;
  /**
   * Reports the record of a command an earlier process died handling (answered 0x1009), so
   * the audit has a line for it: it may have run. Its `argv` is empty (not known).
   */
  onInterrupted?: (record: RunRecord) => Promise<void>;
  /** Reports the record of a refused message (its audit line), before its result is published. */
  onRefused?: (record: RunRecord) => Promise<void>;
  /** Central mode: a result that came after RemoteResultTimeout (answered 0x1008 before). */
  onLateResult?: (late: LateResult) => void;
  /** Extra fields of the retained "online" status message (version, uptime, rules loaded). */
  status(): Record<string, unknown>;
  /** Default: `HostName` from the config, else the OS host name. */
  hostName?: string;
  now?: () => number;
}

/**
 * The MQTT side of the agent: takes commands from CommandTopic, publishes their results on
 * CommandResultTopic (durably), keeps the retained status topic, and in central mode sends
 * commands to other agents. `start` resolves without waiting for a broker.
 */
export interface MqttChannel extends Stage {
  /** Give it to the executor's reporters: publishes results of remote commands. */
  readonly reporter: Reporter;
  /**
   * Central mode: publishes `action` as a command to `host`'s command topic and resolves with
   * its result, or with a NO_RESULT (0x1008) result after RemoteResultTimeout.
   */
  sendCommand(host: string, action: Action, trigger: Trigger): Promise<CommandResult>;
  /**
   * Publishes an event (e.g. an escalation: a repair that does not work) on `EventTopic`,
   * durably like results (spooled until acknowledged). Without `EventTopic`: nothing.
   */
  publishEvent(event: Record<string, unknown>): Promise<void>;
  readonly connected: boolean;
  /** The broker in use (`host:port`) or null. */
  readonly broker: string | null;
  /** Epoch ms the current broker connection came up (status); null while disconnected. */
  readonly connectedSince: number | null;
  /** Why the latest attempt on each broker failed (`host:port` → reason; status). */
  readonly failures: ReadonlyMap<string, string>;
}

/** Seen task ids are kept at least this long (and at least MaxCommandAge). */
const SEEN_RETENTION_MS = 7 * 86_400_000;
const SEEN_MAX = 200_000;

/**
 * What a channel is built from: every MQTT key of the config, StateDir, the host name and the
 * TLS files' contents. A reload whose key is unchanged can keep the running channel (and its
 * broker connection); certificates replaced on disk count as a change.
 */
export async function channelSettingsKey(config: Config, hostName: string): Promise<string> {
  const keys = Object.keys(mqttKeys).map((k) => [k, config[k as keyof Config]]);
  const tls = await brokerSettings(config, hostName).then(
    (s) => s.tls ?? null,
    (e) => `unreadable: ${(e as Error).message}`,
  );
  return JSON.stringify({ keys, stateDir: config.StateDir, hostName, tls });
}

/** Creates the channel for a config with a `Host` (local-only mode never creates one). */
export function createMqttChannel(config: Config, options: MqttChannelOptions): MqttChannel {
  const log = options.logger;
  const now = options.now ?? Date.now;
  const hostName = options.hostName ?? config.HostName ?? Deno.hostname();
  const qos = config.QoS as QoS;
  const commandTopic = config.CommandTopic && expandTopic(config.CommandTopic, hostName);
  const resultTopic = config.CommandResultTopic &&
    expandTopic(config.CommandResultTopic, hostName);
  const statusTopic = config.StatusTopic && expandTopic(config.StatusTopic, hostName);
  const eventTopic = config.EventTopic && expandTopic(config.EventTopic, hostName);
  const inFlight = new Set<Promise<unknown>>();
  let connection: BrokerConnection | undefined;
  let outbox: Outbox | undefined;
  let seen: SeenStore | undefined;
  let router: CommandRouter | undefined;
  let mqttReporter: MqttReporter | undefined;
  let central: CentralSender | undefined;
  let stopping = false;
  let started = false;
  let statusTimer: ReturnType<typeof setInterval> | undefined;
  let connectedAt = 0;

  const reporter: Reporter = {
    name: "mqtt",
    report: (record) => mqttReporter ? mqttReporter.report(record) : Promise.resolve(),
  };

  const publishResult = (result: CommandResult) =>
    resultTopic && outbox
      ? outbox.send(resultTopic, JSON.stringify(result), { qos })
      : Promise.resolve();

  async function onMessage(message: IncomingMessage) {
    if (central?.offer(message.topic, message.payload)) return;
    if (!commandTopic || !topicMatches(commandTopic, message.topic) || !router) return;
    if (stopping) {
      // Not acknowledged: with a persistent session the broker redelivers it after the restart.
      log.warn("command received while stopping; left to the broker", { topic: message.topic });
      return new Promise<void>(() => {});
    }
    const outcome = await router.route(message.payload, { topic: message.topic });
    if (outcome.kind === "ignored") return;
    if (outcome.kind === "refused") {
      await options.onRefused?.(outcome.record)
        .catch((e) => log.error("cannot audit a refused command", { error: e.message }));
      await publishResult(outcome.result);
      return;
    }
    const done = outcome.done.then(
      async (r) => {
        if ("result" in r) {
          const record = r as RunRecord;
          if (!mqttReporter?.reported(record.result.task_id)) await reporter.report(record);
        } else await publishResult(r as CommandResult);
      },
      (e) =>
        publishResult({
          task_id: outcome.taskId,
          timestamp: resultTimestamp(now()),
          message: `the command could not be run: ${(e as Error).message}`,
          code: Code.SPAWN_FAILED,
        }),
    ).then(() => seen?.markDone(outcome.taskId))
      .catch((e) => log.error("cannot publish a result", { error: (e as Error).message }))
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  }

  /**
   * Commands accepted by an earlier process that died before their result was spooled get an
   * INTERRUPTED (0x1009) result: never a second run, never silence.
   */
  async function answerInterrupted(spooledPayloads: string[]) {
    const spooled = new Set<string>();
    for (const p of spooledPayloads) {
      try {
        spooled.add(taskKey(JSON.parse(p).task_id));
      } catch {
        // not a result
      }
    }
    for (const task of seen!.unfinished()) {
      const taskId = task.task_id;
      if (!spooled.has(taskKey(taskId))) {
        log.warn("the agent died while handling this command; answering it as interrupted", {
          task_id: taskId,
          ...(task.service !== undefined ? { service: task.service, command: task.command } : {}),
          code: codeText(Code.INTERRUPTED),
        });
        const result: CommandResult = {
          task_id: taskId,
          timestamp: resultTimestamp(now()),
          message: "interrupted: the agent stopped (crash or kill) while handling this command; " +
            "it may or may not have run, and it is not run again",
          code: Code.INTERRUPTED,
        };
        const record = remoteResultRecord(result, {
          service: task.service ?? "",
          command: task.command ?? "",
          sender: task.sender,
        });
        await options.onInterrupted?.(record)
          .catch((e) => log.error("cannot report an interrupted command", { error: e.message }));
        await publishResult(result);
      }
      await seen!.markDone(taskId);
    }
  }

  function publishStatus() {
    if (!statusTopic || !connection) return;
    connection.publish(statusTopic, statusPayload(true), { qos: 1, retain: true })
      .catch((e) => log.warn("cannot publish the status", { error: e.message }));
  }

  function statusPayload(online: boolean) {
    return JSON.stringify(
      online
        ? {
          status: "online",
          host: hostName,
          timestamp: resultTimestamp(now()),
          ...options.status(),
        }
        : { status: "offline", host: hostName, timestamp: resultTimestamp(now()) },
    );
  }

  return {
    reporter,
    get connected() {
      return connection?.connected ?? false;
    },
    get broker() {
      return connection?.endpoint ?? null;
    },
    get connectedSince() {
      return connection?.connected ? connectedAt : null;
    },
    get failures() {
      return connection?.failures ?? new Map();
    },
    async start() {
      if (started) throw new TypeError("MQTT channel already started");
      started = true;
      const settings = await brokerSettings(config, hostName);
      const spool = await openSpool(join(options.stateDir, "mqtt-spool"), {
        maxEntries: config.SpoolMaxResults,
        logger: log,
        counters: options.counters,
      });
      seen = await openSeenStore(join(options.stateDir, "seen-task-ids.log"), {
        // As long as a command with that id could still be accepted (its age window).
        retentionMs: Math.max(
          SEEN_RETENTION_MS,
          (config.MaxCommandAge + config.MaxClockSkew) * 1000,
        ),
        maxEntries: SEEN_MAX,
        logger: log,
      });
      router = createCommandRouter({
        hostName,
        maxAgeMs: config.MaxCommandAge * 1000,
        maxSkewMs: config.MaxClockSkew * 1000,
        senders: new Map(config.CommandSenders.map((s) => [s.Name, s.Secret])),
        configSenders: new Map(config.ConfigSenders.map((s) => [s.Name, s.Secret])),
        seen,
        execute: options.execute,
        ...(options.onConfigMessage ? { onConfigMessage: options.onConfigMessage } : {}),
        ...(options.onMaintenanceMessage
          ? { onMaintenanceMessage: options.onMaintenanceMessage }
          : {}),
        logger: log,
        counters: options.counters,
        now,
      });
      const conn = createBrokerConnection(settings, {
        logger: log,
        counters: options.counters,
        onMessage,
        onConnect: () => {
          connectedAt = now();
          publishStatus();
        },
        ...(statusTopic
          ? { will: { topic: statusTopic, payload: statusPayload(false), qos: 1, retain: true } }
          : {}),
      });
      connection = conn;
      // The status carries live figures: refreshed every StatusInterval while connected.
      if (statusTopic && config.StatusInterval > 0) {
        statusTimer = setInterval(() => {
          if (conn.connected) publishStatus();
        }, config.StatusInterval * 1000);
      }
      outbox = createOutbox(spool, conn, { logger: log });
      mqttReporter = createMqttReporter(outbox, { topic: resultTopic, qos });
      central = createCentralSender({
        config,
        qos,
        connection: conn,
        outbox,
        logger: log,
        now,
        ...(options.onLateResult ? { onLateResult: options.onLateResult } : {}),
      });
      if (commandTopic) await conn.subscribe(commandTopic, qos);
      conn.start();
      outbox.replay();
      await answerInterrupted(spool.pending().map((e) => e.payload));
      log.info("MQTT channel started", {
        brokers: settings.endpoints.map((e) => `${e.host}:${e.port}`).join(","),
        command_topic: commandTopic,
        result_topic: resultTopic,
        host: hostName,
      });
    },
    publishEvent(event) {
      if (!eventTopic || !outbox || stopping) return Promise.resolve();
      const payload = { host: hostName, timestamp: resultTimestamp(now()), ...event };
      return outbox.send(eventTopic, JSON.stringify(payload), { qos });
    },
    sendCommand(host, action, trigger) {
      if (!central || stopping) {
        return Promise.resolve({
          task_id: 0,
          timestamp: resultTimestamp(now()),
          message: "MQTT channel not running",
          code: Code.SHUTTING_DOWN,
        });
      }
      return central.sendCommand(host, action, trigger);
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(statusTimer);
      central?.stop();
      if (!connection) return;
      await Promise.all([...inFlight]);
      if (connection.connected) await outbox?.drain(2000);
      const conn = connection;
      await conn.stop(
        statusTopic
          ? {
            beforeDisconnect: () =>
              conn.publish(statusTopic, statusPayload(false), { qos: 1, retain: true }),
          }
          : {},
      );
      await seen?.flush();
      seen?.close();
      log.info("MQTT channel stopped");
    },
  };
}
