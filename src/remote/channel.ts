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
  type CommandResult,
  type Counters,
  type Logger,
  type Reporter,
  resultTimestamp,
  type RunRecord,
  type Stage,
  type Trigger,
} from "../model/mod.ts";
import { createMqttReporter } from "../reporters/mod.ts";
import { createAnswers } from "./_answers.ts";
import { type CentralSender, createCentralSender, type LateResult } from "./central.ts";
import {
  type CommandRouter,
  type CommandRouterOptions,
  createCommandRouter,
  type Execute,
  type OnConfigMessage,
  type OnMaintenanceMessage,
} from "./router.ts";
import { createStatus } from "./_status.ts";

/** Options of {@linkcode createMqttChannel}. */
export interface MqttChannelOptions {
  logger: Logger;
  counters: Counters;
  /** Folder for the result spool (`mqtt-spool/`) and seen task ids (`seen-task-ids.log`). */
  stateDir: string;
  /**
   * The executor's `run`. Its record should reach `channel.reporter` through the executor's
   * reporters; the channel hands it over again after the run (a task's result is published once).
   */
  execute: Execute;
  /** Handler of messages with a `config` field (collectd.conf replacement). */
  onConfigMessage?: OnConfigMessage;
  /** Handler of maintenance-switch messages (`{task_id, timestamp, maintenance, for, reason}`). */
  onMaintenanceMessage?: OnMaintenanceMessage;
  /**
   * Reports the record of a command an earlier process died handling (answered 0x1009), so
   * the audit has a line for it: it may have run. Its `argv` is empty (not known). Called
   * during `start`. The channel publishes the result itself, after.
   */
  onInterrupted?: (record: RunRecord) => Promise<void>;
  /**
   * Reports the record of a refused message (its audit line), before the channel publishes its
   * result.
   */
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
  const topics = channelTopics(config, hostName);
  const commandTopic = topics.command;
  const status = createStatus({
    topic: topics.status,
    hostName,
    intervalS: config.StatusInterval,
    fields: () => options.status(),
    logger: log,
    now,
  });
  const inFlight = new Set<Promise<unknown>>();
  let running: Running | undefined;
  let stopping = false;
  let started = false;
  let connectedAt = 0;
  /**
   * Resolved once start() has answered the commands an earlier process died handling (0x1009):
   * a redelivered message waits for it, so those answers are always published first.
   */
  const answeredInterrupted = Promise.withResolvers<void>();

  const reporter: Reporter = {
    name: "mqtt",
    report: (record) => running ? running.mqttReporter.report(record) : Promise.resolve(),
  };

  async function onMessage(message: IncomingMessage) {
    if (running?.central.offer(message.topic, message.payload)) return;
    if (!commandTopic || !topicMatches(commandTopic, message.topic) || !running) return;
    await answeredInterrupted.promise;
    if (stopping) {
      // Not acknowledged: with a persistent session the broker redelivers it after the restart.
      log.warn("command received while stopping; left to the broker", { topic: message.topic });
      return new Promise<void>(() => {});
    }
    const outcome = await running.router.route(message.payload, { topic: message.topic });
    if (outcome.kind === "ignored") return;
    if (outcome.kind === "refused") return running.answers.answer(outcome);
    // Acknowledged now (the task id is recorded); the result follows when the run ends.
    const done = running.answers.answer(outcome).finally(() => inFlight.delete(done));
    inFlight.add(done);
  }

  return {
    reporter,
    get connected() {
      return running?.connection.connected ?? false;
    },
    get broker() {
      return running?.connection.endpoint ?? null;
    },
    get connectedSince() {
      return running?.connection.connected ? connectedAt : null;
    },
    get failures() {
      return running?.connection.failures ?? new Map();
    },
    async start() {
      if (started) throw new TypeError("MQTT channel already started");
      started = true;
      const onConnect = () => {
        connectedAt = now();
        status.publish();
      };
      const opened = await open(config, options, {
        hostName,
        now,
        qos,
        resultTopic: topics.result,
        status,
        onConnect,
        onMessage,
      });
      const { connection, outbox } = running = opened.running;
      if (commandTopic) await connection.subscribe(commandTopic, qos);
      connection.start();
      outbox.replay();
      await running.answers.interrupted(opened.spooled());
      answeredInterrupted.resolve();
      log.info("MQTT channel started", {
        brokers: opened.brokers,
        command_topic: commandTopic,
        result_topic: topics.result,
        host: hostName,
      });
    },
    publishEvent(event) {
      if (!topics.event || !running || stopping) return Promise.resolve();
      const payload = { host: hostName, timestamp: resultTimestamp(now()), ...event };
      return running.outbox.send(topics.event, JSON.stringify(payload), { qos });
    },
    sendCommand(host, action, trigger) {
      if (!running || stopping) return Promise.resolve(notRunning(now()));
      return running.central.sendCommand(host, action, trigger);
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      status.stop();
      running?.central.stop();
      if (!running) return;
      const { connection, outbox, seen } = running;
      await Promise.all([...inFlight]);
      if (connection.connected) await outbox.drain(2000);
      await connection.stop(status.farewell(connection));
      await seen.flush();
      seen.close();
      log.info("MQTT channel stopped");
    },
  };
}

/** The channel's topics, `{host}` expanded; undefined where the config has none. */
function channelTopics(config: Config, hostName: string) {
  const expand = (template: string | undefined) => template && expandTopic(template, hostName);
  return {
    command: expand(config.CommandTopic),
    result: expand(config.CommandResultTopic),
    event: expand(config.EventTopic),
    status: expand(config.StatusTopic),
  };
}

/** The answer of `sendCommand` when the channel is not (or no longer) running. */
function notRunning(now: number): CommandResult {
  return {
    task_id: 0,
    timestamp: resultTimestamp(now),
    message: "MQTT channel not running",
    code: Code.SHUTTING_DOWN,
  };
}

/** What a started channel runs with. */
interface Running {
  connection: BrokerConnection;
  outbox: Outbox;
  seen: SeenStore;
  mqttReporter: Reporter;
  router: CommandRouter;
  central: CentralSender;
  answers: ReturnType<typeof createAnswers>;
}

/**
 * Opens what a channel runs with (spool, seen task ids, the broker connection, not yet
 * started), and how to list the results waiting in the spool.
 */
async function open(
  config: Config,
  options: MqttChannelOptions,
  ctx: {
    hostName: string;
    now: () => number;
    qos: QoS;
    resultTopic: string | undefined;
    status: ReturnType<typeof createStatus>;
    onConnect: () => void;
    onMessage: (message: IncomingMessage) => Promise<void>;
  },
): Promise<{ running: Running; spooled: () => string[]; brokers: string }> {
  const { hostName, now, qos, resultTopic, status } = ctx;
  const log = options.logger;
  const settings = await brokerSettings(config, hostName);
  const spool = await openSpool(join(options.stateDir, "mqtt-spool"), {
    maxEntries: config.SpoolMaxResults,
    logger: log,
    counters: options.counters,
  });
  const seen = await openSeenStore(join(options.stateDir, "seen-task-ids.log"), {
    // As long as a command with that id could still be accepted (its age window).
    retentionMs: Math.max(SEEN_RETENTION_MS, (config.MaxCommandAge + config.MaxClockSkew) * 1000),
    maxEntries: SEEN_MAX,
    logger: log,
  });
  const will = status.will();
  const connection = await createBrokerConnection(settings, {
    logger: log,
    counters: options.counters,
    onMessage: ctx.onMessage,
    onConnect: ctx.onConnect,
    ...(will ? { will } : {}),
  });
  status.start(connection);
  const outbox = createOutbox(spool, connection, { logger: log });
  const mqttReporter = createMqttReporter(outbox, { topic: resultTopic, qos });
  const running: Running = {
    connection,
    outbox,
    seen,
    mqttReporter,
    router: createCommandRouter(routerOptions(config, options, { hostName, seen, now })),
    central: createCentralSender({
      config,
      qos,
      connection,
      outbox,
      logger: log,
      now,
      ...(options.onLateResult ? { onLateResult: options.onLateResult } : {}),
    }),
    answers: createAnswers({
      logger: log,
      now,
      seen,
      publish: (result) =>
        resultTopic ? outbox.send(resultTopic, JSON.stringify(result), { qos }) : Promise.resolve(),
      reporter: mqttReporter,
      onRefused: options.onRefused,
      onInterrupted: options.onInterrupted,
    }),
  };
  return {
    running,
    spooled: () => spool.pending().map((e) => e.payload),
    brokers: settings.endpoints.map((e) => `${e.host}:${e.port}`).join(","),
  };
}

/** The command router's options from the config and the channel's hooks. */
function routerOptions(
  config: Config,
  options: MqttChannelOptions,
  running: { hostName: string; seen: SeenStore; now: () => number },
): CommandRouterOptions {
  return {
    ...running,
    maxAgeMs: config.MaxCommandAge * 1000,
    maxSkewMs: config.MaxClockSkew * 1000,
    senders: new Map(config.CommandSenders.map((s) => [s.Name, s.Secret])),
    configSenders: new Map(config.ConfigSenders.map((s) => [s.Name, s.Secret])),
    execute: options.execute,
    ...(options.onConfigMessage ? { onConfigMessage: options.onConfigMessage } : {}),
    ...(options.onMaintenanceMessage ? { onMaintenanceMessage: options.onMaintenanceMessage } : {}),
    logger: options.logger,
    counters: options.counters,
  };
}
