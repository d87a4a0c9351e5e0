/**
 * The stages of one config, built and wired in flow order:
 * collectd packets → intake (security) → evaluator (decode + rules, sandboxed) → rule events →
 * executor (or, for another host, the MQTT channel) → run records → reporters (audit first, log,
 * collectd notification, MQTT); MQTT command → router → executor → record → reporters; MQTT
 * config message → replacer; maintenance message → the executor's switch. The agent
 * (agent.ts) starts, stops and swaps them.
 * @module
 */
import { createIntake, type Intake, loadTypesDb } from "./collectd/mod.ts";
import {
  createConfigReplacer,
  createMetricsProbe,
  resultRecord,
} from "./collectd_conf/replace/mod.ts";
import { type Config, hasBroker } from "./config/mod.ts";
import { createEvaluator, type Evaluator, type HostCommand } from "./evaluator/mod.ts";
import { createExecutor, type Executor } from "./executor/mod.ts";
import type { Counters, Logger, Metric, Notification, Reporter, RunRecord } from "./model/mod.ts";
import {
  channelSettingsKey,
  createMqttChannel,
  escalationEvent,
  forwardActions,
  lateResultRecord,
  maintenanceSwitch,
  type MqttChannel,
  type MqttChannelOptions,
} from "./remote/mod.ts";
import {
  createAuditReporter,
  createCollectdReporter,
  createLogReporter,
  createReport,
} from "./reporters/mod.ts";
import { createTelemetry, type Telemetry } from "./telemetry/mod.ts";

/** What the stages are built with, besides the config (see AgentOptions). */
export interface StageOptions {
  /** The agent's host name ({host} in topics, notifications). Default: HostName or the OS's. */
  hostName?: string;
  /**
   * How to start the sandboxed rule host. Default: the running entry (`Deno.mainModule`: main.ts,
   * the bundle or the binary) with its hidden subcommand; tests, whose main module is the test
   * file, pass `defaultHostCommand(<main.ts URL>)`.
   */
  ruleHost?: HostCommand;
  /** Receives every decoded metric/notification (`agent run --record FILE`). */
  record?: (item: Metric | Notification) => void;
}

/** What {@linkcode buildStages} needs from the agent around the stages. */
export interface StagesContext {
  logger: Logger;
  counters: Counters;
  options: StageOptions;
  /** The config in force (the replacer follows reloads). */
  config(): Config;
  /** The current stages' hooks, once a reload's swap is over (what a kept channel reaches). */
  current(): Promise<ChannelHooks>;
  /** The hooks as they are, without waiting (a channel starting inside a swap). */
  hooksNow(): ChannelHooks;
  /** The agent's status (the MQTT status message). */
  status(): Record<string, unknown>;
  /** Reporters the agent keeps across reloads (`agent status`'s last runs); never closed here. */
  keep?: readonly Reporter[];
}

/** The stages built from one config, in flow order. */
export interface Stages {
  intake: Intake;
  evaluator: Evaluator;
  executor: Executor;
  channel: MqttChannel | null;
  /** What `channel` was built from (channelSettingsKey); a reload with the same keeps it. */
  channelKey: string | null;
  /** False when `channel` was taken over, running, from the stages before a reload. */
  startChannel: boolean;
  telemetry: Telemetry;
  /** The reporters, closed when the stages stop. */
  closers: Reporter[];
}

/** A channel still running from the stages before a reload, and what it was built from. */
export interface RunningChannel {
  channel: MqttChannel;
  key: string | null;
}

/** Where the channel hands MQTT messages: the current stages (a kept channel outlives them). */
export type ChannelHooks =
  & Required<
    Pick<
      MqttChannelOptions,
      "execute" | "onConfigMessage" | "onMaintenanceMessage" | "onInterrupted" | "onRefused"
    >
  >
  & { report(record: RunRecord): Promise<void> };

/** Builds the stages of `c`, keeping `running` when its settings match (else stopping it). */
export async function buildStages(
  c: Config,
  running: RunningChannel | null,
  ctx: StagesContext,
): Promise<{ stages: Stages; hooks: ChannelHooks }> {
  const { logger: log, counters, options, current } = ctx;
  const hostName = options.hostName ?? c.HostName ?? Deno.hostname();
  const typesDb = await loadTypesDb(c.TypesDB).catch((e) => {
    log.warn("no types.db: values keep positional names", { error: (e as Error).message });
    return null;
  });
  const audit = createAuditReporter(c.StateDir, { logger: log.child("audit") });
  const reporters: Reporter[] = [createLogReporter(log.child("executor"))];
  if (c.NotifyServers.length > 0) {
    reporters.push(
      createCollectdReporter(c.NotifyServers, {
        hostname: hostName,
        logger: log.child("notify"),
      }),
    );
  }
  // Remote messages answered without a run (refusals, 0x1009, replacements): audited through
  // this door; the channel publishes their result itself.
  const answers = createReport({ audit, others: [], logger: log });
  const channelKey = hasBroker(c) ? await channelSettingsKey(c, hostName) : null;
  const kept = running !== null && running.key === channelKey ? running.channel : null;
  if (kept) log.info("MQTT settings unchanged: the broker connection is kept");
  else await running?.channel.stop();
  const channel = kept ??
    (hasBroker(c) ? createMqttChannel(c, channelOptions(c, hostName, ctx)) : null);
  if (channel) reporters.push(channel.reporter);

  const executor = createExecutor(c.Services, {
    logger: log.child("executor"),
    counters,
    stateDir: c.StateDir,
    audit,
    reporters: [...reporters, ...ctx.keep ?? []],
    maxParallel: c.MaxParallelCommands,
    onEscalation: (e) =>
      void channel?.publishEvent(escalationEvent(e))
        .catch((err) => log.error("cannot publish the escalation", { error: err })),
  });
  const probe = createMetricsProbe();
  const replacer = createConfigReplacer({
    service: () => ctx.config().Services.collectd,
    stateDir: c.StateDir,
    logger: log.child("replace-config"),
    counters,
    // Not a remote trigger with the task's id: the MQTT reporter would publish the restart's
    // own record as the replacement's result.
    run: (command, task) =>
      executor.run({
        service: "collectd",
        command,
        trigger: { kind: "cli" },
        task_id: `${task.task_id}/collectd-${command}`,
      }),
    metricsSeen: probe.seen,
  });
  const hooks: ChannelHooks = {
    execute: (req) => executor.run(req),
    // Every replacement's result is audited (refusals included) before it is published.
    onConfigMessage: (msg, sender) =>
      probe.watch(() => replacer.handle(msg, sender)).then(async (result) => {
        await answers.report(resultRecord(result, sender));
        return result;
      }),
    onMaintenanceMessage: maintenanceSwitch(executor.maintenance, log),
    onInterrupted: (record) => answers.report(record),
    onRefused: (record) => answers.report(record),
    report: (record) => executor.report(record),
  };

  const evaluator = createEvaluator({
    rulesDir: c.RulesDir,
    typesDbText: typesDb?.text ?? "",
    services: c.Services,
    logger: log.child("rules"),
    counters,
    onEvent: forwardActions({
      hostName,
      local: (e) => executor.onRuleEvent(e),
      send: channel && ((host, action, trigger) => channel.sendCommand(host, action, trigger)),
      report: async (record) => (await current()).report(record),
      logger: log,
    }),
    budgetMs: c.RuleBudgetMs,
    maxOverruns: c.RuleMaxOverruns,
    ...(options.record ? { record: options.record } : {}),
    ...(options.ruleHost ? { hostCommand: options.ruleHost } : {}),
  });
  const intake = createIntake(c.Listen, {
    logger: log.child("listener"),
    counters,
    onPacket: (plain) => {
      evaluator.submit(plain);
      probe.offer(plain); // read only while a replacement waits for collectd's metrics
    },
  });
  const telemetry = createTelemetry(c.Telemetry, { counters, logger: log, hostName });

  // A replacement an earlier process left half-done is finished (and reported) at start.
  queueMicrotask(() => {
    void probe.watch(() => replacer.resumePending())
      .then((result) => result ? executor.report(resultRecord(result)) : undefined)
      .catch((e) => log.error("cannot finish the pending collectd.conf replacement", { error: e }));
  });
  const closers = [audit, ...reporters];
  const startChannel = kept === null;
  return {
    stages: { intake, evaluator, executor, channel, channelKey, startChannel, telemetry, closers },
    hooks,
  };
}

/** The channel's options: it reaches the current stages (a reload may keep it running). */
function channelOptions(c: Config, hostName: string, ctx: StagesContext): MqttChannelOptions {
  const { logger: log, counters, current } = ctx;
  return {
    logger: log.child("mqtt"),
    counters,
    stateDir: c.StateDir,
    hostName,
    execute: async (req) => (await current()).execute(req),
    onConfigMessage: async (msg, sender) => (await current()).onConfigMessage(msg, sender),
    onMaintenanceMessage: async (msg, sender) =>
      (await current()).onMaintenanceMessage(msg, sender),
    onInterrupted: (record) => ctx.hooksNow().onInterrupted(record), // during start: no wait
    onRefused: async (record) => (await current()).onRefused(record),
    onLateResult: (late) => void current().then((h) => h.report(lateResultRecord(late))),
    status: ctx.status,
  };
}

/**
 * Starts the stages downstream first, so nothing flows into a stage that is not ready, except
 * the rule stage: it starts last, because loading the rules (a rule host to spawn) takes most of
 * the start-up. The intake opens before it (collectd's packets are accepted within milliseconds
 * of start-up) and what arrives meanwhile waits in the rule stage's bounded queue until the
 * rules have loaded, then is evaluated.
 */
export async function startStages(s: Stages) {
  await s.executor.start();
  await s.intake.start();
  await s.telemetry.start();
  if (s.channel && s.startChannel) await s.channel.start();
  await s.evaluator.start();
}

/** Stops `s`; with `keepChannel`, its MQTT channel keeps running (a reload may keep it). */
export async function stopStages(s: Stages, keepChannel = false) {
  await s.telemetry.stop();
  await s.intake.stop();
  await s.evaluator.stop();
  await s.executor.stop(); // lets running commands finish (bounded), reports their records
  // results stay spooled if not yet acknowledged
  if (s.channel && !keepChannel) await s.channel.stop();
  for (const r of s.closers) await r.close?.();
}
