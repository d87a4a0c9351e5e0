import { createIntake, decodePacket, type Intake, loadTypesDb } from "./collectd/mod.ts";
import {
  createConfigReplacer,
  createMetricsProbe,
  resultRecord,
} from "./commands/replace_config.ts";
import { howToApply } from "./permissions/mod.ts";
import {
  channelSettingsKey,
  createMqttChannel,
  type MaintenanceMessage,
  type MqttChannel,
  type MqttChannelOptions,
  resultTimestamp,
} from "./commands/mod.ts";
import { type Config, hasBroker } from "./config/mod.ts";
import { createEvaluator, type Evaluator, type HostCommand } from "./evaluator/mod.ts";
import { createExecutor, type Executor, parseDuration } from "./executor/mod.ts";
import {
  type Action,
  centralResultRecord,
  Code,
  type CommandResult,
  type Counters,
  createCounters,
  type Logger,
  type Metric,
  type Notification,
  type Reporter,
  type RuleEvent,
  type RunRecord,
  type Stage,
} from "./model/mod.ts";
import { createAuditReporter, createCollectdReporter, createLogReporter } from "./reporters/mod.ts";
import { createStatusService } from "./status/mod.ts";
import { createTelemetry, type Telemetry } from "./telemetry/mod.ts";
import { VERSION } from "./version.ts";

/** Effects and sinks the agent is given (passed in so tests can observe them). */
export interface AgentOptions {
  logger: Logger;
  /** The registry every stage counts into. Default: a new one. */
  counters?: Counters;
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

/** The running agent: every stage wired in flow order. */
export interface Agent extends Stage {
  /** The config in force. */
  readonly config: Config;
  readonly counters: Counters;
  /**
   * Applies a new, already validated config. Same config: the rules are reloaded. Otherwise
   * the stages are rebuilt; if the new set cannot start, the old config is started again and
   * the error is thrown.
   */
  reload(config: Config): Promise<void>;
  /** UDP addresses actually bound (after start). */
  readonly listening: Deno.NetAddr[];
  /** A compact summary (MQTT status message): rules loaded, broker, uptime, every figure. */
  status(): Record<string, unknown>;
  /** The health checks (`/healthz`); null before start. */
  health(): ReturnType<Telemetry["health"]> | null;
}

/** The stages built from one config, in flow order. */
interface Stages {
  intake: Intake;
  evaluator: Evaluator;
  executor: Executor;
  channel: MqttChannel | null;
  /** What `channel` was built from (channelSettingsKey); a reload with the same keeps it. */
  channelKey: string | null;
  /** False when `channel` was taken over, running, from the stages before a reload. */
  startChannel: boolean;
  telemetry: Telemetry;
  reporters: Reporter[];
}

/** A channel still running from the stages before a reload, and what it was built from. */
interface RunningChannel {
  channel: MqttChannel;
  key: string | null;
}

/** Where the channel hands MQTT messages: the current stages (a kept channel outlives them). */
type ChannelHooks =
  & Required<
    Pick<
      MqttChannelOptions,
      "execute" | "onConfigMessage" | "onMaintenanceMessage" | "onInterrupted" | "onRefused"
    >
  >
  & { report(record: RunRecord): Promise<void> };

/**
 * Wires the stages in flow order:
 * collectd packets → intake (security) → evaluator (decode + rules, sandboxed) → rule events →
 * executor → run records → reporters (audit first, log, collectd notification, MQTT);
 * MQTT command → router → executor → record → reporters; MQTT config message → replacer.
 */
export function createAgent(initial: Config, options: AgentOptions): Agent {
  const log = options.logger;
  const counters = options.counters ?? createCounters();
  const startedAt = Date.now();
  let config = initial;
  let stages: Stages | null = null;
  let hooks: ChannelHooks | null = null;
  /** Set while a reload swaps the stages: the channel's messages wait for the new ones. */
  let swapping: Promise<void> | null = null;
  // `agent status`: read-only views of the stages on <StateDir>/status.sock (src/status/)
  const view = () => stages && { ...stages, config };
  const statusService = createStatusService({ counters, logger: log.child("status"), view });
  const current = async (): Promise<ChannelHooks> => {
    while (swapping) await swapping;
    return hooks!;
  };

  /** Builds the stages of `c`, keeping `running` when its settings match (else stopping it). */
  async function build(c: Config, running: RunningChannel | null): Promise<Stages> {
    const hostName = options.hostName ?? c.HostName ?? Deno.hostname();
    const typesDb = await loadTypesDb(c.TypesDB).catch((e) => {
      log.warn("no types.db: values keep positional names", { error: (e as Error).message });
      return null;
    });
    const audit = createAuditReporter(c.StateDir, { logger: log.child("audit") });
    const reporters: Reporter[] = [audit, createLogReporter(log.child("executor"))];
    reporters.push(statusService.reporter); // keeps the last runs for `agent status`
    if (c.NotifyServers.length > 0) {
      reporters.push(
        createCollectdReporter(c.NotifyServers, {
          hostname: hostName,
          logger: log.child("notify"),
        }),
      );
    }
    // The replacer's "collectd is sending again" probe decodes packets only while it waits.
    const probe = createMetricsProbe();
    let probing = 0;
    const probeVisitor = { metric: (m: { host: string }) => probe.saw(m.host), notification() {} };
    const replacer = createConfigReplacer({
      service: () => config.Services.collectd,
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
    const withProbe = async <T>(f: () => Promise<T>): Promise<T> => {
      probing++;
      try {
        return await f();
      } finally {
        probing--;
      }
    };

    hooks = {
      execute: (req) => executor.run(req),
      // Every replacement's result is audited (refusals included) before it is published.
      onConfigMessage: (msg, sender) =>
        withProbe(() => replacer.handle(msg, sender)).then(async (result) => {
          await audit.report(resultRecord(result, sender));
          return result;
        }),
      onMaintenanceMessage: (msg, sender) => Promise.resolve(switchMaintenance(msg, sender)),
      onInterrupted: (record) => audit.report(record),
      onRefused: (record) => audit.report(record),
      report: (record) => executor.report(record),
    };
    const channelKey = hasBroker(c) ? await channelSettingsKey(c, hostName) : null;
    const kept = running !== null && running.key === channelKey ? running.channel : null;
    if (kept) log.info("MQTT settings unchanged: the broker connection is kept");
    else await running?.channel.stop();
    const channel = kept ?? (hasBroker(c)
      ? createMqttChannel(c, {
        logger: log.child("mqtt"),
        counters,
        stateDir: c.StateDir,
        hostName,
        // through the current stages: a reload that keeps this channel replaces them
        execute: async (req) => (await current()).execute(req),
        onConfigMessage: async (msg, sender) => (await current()).onConfigMessage(msg, sender),
        onMaintenanceMessage: async (msg, sender) =>
          (await current()).onMaintenanceMessage(msg, sender),
        onInterrupted: (record) => hooks!.onInterrupted(record), // during start: no wait
        onRefused: async (record) => (await current()).onRefused(record),
        onLateResult: ({ result, action, host, trigger }) =>
          void current().then((h) =>
            h.report(centralResultRecord(result, { ...action, host, trigger, late: true }))
          ),
        status: () => agent.status(),
      })
      : null);
    if (channel) reporters.push(channel.reporter);

    const executor = createExecutor(c.Services, {
      logger: log.child("executor"),
      counters,
      stateDir: c.StateDir,
      reporters,
      maxParallel: c.MaxParallelCommands,
      onEscalation: (e) =>
        void channel?.publishEvent({
          event: "escalation",
          handler: e.handler,
          key: e.key,
          service: e.service,
          command: e.command,
          attempts: e.attempts,
          since: new Date(e.since).toISOString(),
          message: e.record.result.message,
          code: e.record.result.code,
        }).catch((err) => log.error("cannot publish the escalation", { error: err })),
    });

    /** The MQTT maintenance switch: the same file the CLI writes. */
    function switchMaintenance(
      msg: MaintenanceMessage,
      sender: string | undefined,
    ): CommandResult {
      const result = (message: string, code: number = Code.OK): CommandResult => ({
        task_id: msg.task_id,
        timestamp: resultTimestamp(),
        message,
        code,
      });
      const by = sender ?? "mqtt";
      if (msg.maintenance === "off") {
        return result(executor.maintenance.off() ? "maintenance ended" : "maintenance was not on");
      }
      if (msg.maintenance === "on") {
        const ms = parseDuration(msg.for ?? "");
        if (!(ms > 0)) return result(`bad duration: ${msg.for}`, Code.INVALID_MESSAGE);
        const m = executor.maintenance.on(ms, {
          by,
          ...(msg.reason ? { reason: msg.reason } : {}),
        });
        log.warn("maintenance on: rule-triggered repairs are suspended", {
          until: new Date(m.until).toISOString(),
          by,
          reason: msg.reason,
        });
        return result(`maintenance on until ${new Date(m.until).toISOString()}`);
      }
      const m = executor.maintenance.status();
      return result(m ? JSON.stringify(m) : "maintenance off");
    }

    const evaluator = createEvaluator({
      rulesDir: c.RulesDir,
      typesDbText: typesDb?.text ?? "",
      services: c.Services,
      logger: log.child("rules"),
      counters,
      onEvent: (e) => route(e, hostName, executor, channel),
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
        if (probing > 0) decodePacket(plain, probeVisitor);
      },
    });

    const telemetry = createTelemetry(c.Telemetry, { counters, logger: log, hostName });

    const stagesNow: Stages = {
      intake,
      evaluator,
      executor,
      channel,
      channelKey,
      startChannel: kept === null,
      telemetry,
      reporters,
    };
    // A replacement an earlier process left half-done is finished (and reported) at start.
    queueMicrotask(() => {
      void withProbe(() => replacer.resumePending()).then((result) => {
        if (result) return Promise.all(reporters.map((r) => r.report(resultRecord(result))));
      }).catch((e) =>
        log.error("cannot finish the pending collectd.conf replacement", { error: e })
      );
    });
    return stagesNow;
  }

  /** Local actions go to the executor; actions for another host go out over MQTT. */
  function route(e: RuleEvent, self: string, executor: Executor, channel: MqttChannel | null) {
    if (e.kind !== "fired" || e.actions.every((a) => a.host === undefined || a.host === self)) {
      executor.onRuleEvent(e);
      return;
    }
    const local: Action[] = [];
    for (const a of e.actions) {
      if (a.host === undefined || a.host === self) {
        local.push(a);
      } else if (!channel) {
        log.error(
          `Cannot send "${a.service}/${a.command}" to host ${a.host}: no MQTT broker configured`,
          {
            handler: e.handler,
          },
        );
      } else {
        const action = { service: a.service, command: a.command };
        const sent = {
          ...action,
          host: a.host,
          trigger: { kind: "rule", handler: e.handler },
        } as const;
        // audited and logged like a run of this agent's own (with the host that ran it)
        void channel.sendCommand(a.host, action, sent.trigger).then(async (r) =>
          (await current()).report(centralResultRecord(r, sent))
        );
      }
    }
    if (local.length > 0) executor.onRuleEvent({ ...e, actions: local });
  }

  async function startStages(s: Stages) {
    // Downstream first, so nothing flows into a stage that is not ready; intake last.
    await s.executor.start();
    await s.evaluator.start();
    if (s.channel && s.startChannel) await s.channel.start();
    await s.intake.start();
    await s.telemetry.start();
  }

  /** Stops `s`; with `keepChannel`, its MQTT channel keeps running (a reload may keep it). */
  async function stopStages(s: Stages, keepChannel = false) {
    await s.telemetry.stop();
    await s.intake.stop();
    await s.evaluator.stop();
    await s.executor.stop(); // lets running commands finish (bounded), reports their records
    // results stay spooled if not yet acknowledged
    if (s.channel && !keepChannel) await s.channel.stop();
    for (const r of s.reporters) await r.close?.();
  }

  async function startWith(c: Config, running: RunningChannel | null = null) {
    let s: Stages | null = null;
    try {
      await Deno.mkdir(c.StateDir, { recursive: true, mode: 0o700 });
      s = await build(c, running);
      await startStages(s);
    } catch (e) {
      if (s) await stopStages(s).catch(() => {});
      await running?.channel.stop(); // never two connections with one client id
      throw e;
    }
    stages = s;
  }

  const agent: Agent = {
    get config() {
      return config;
    },
    counters,
    get listening() {
      return stages?.intake.bound ?? [];
    },
    status() {
      return {
        version: VERSION,
        uptime_s: Math.round((Date.now() - startedAt) / 1000),
        rules_loaded: stages?.evaluator.handlers.length ?? 0,
        broker: stages?.channel?.broker ?? null,
        ...stages?.telemetry.status(),
      };
    },
    health() {
      return stages?.telemetry.health() ?? null;
    },
    async start() {
      await startWith(config);
      await statusService.start(config);
      log.info(
        hasBroker(config) ? "started" : "started in local-only mode (no MQTT broker configured)",
        {
          rules: config.RulesDir,
          handlers: stages?.evaluator.handlers.length ?? 0,
          state: config.StateDir,
        },
      );
    },
    async stop() {
      const s = stages;
      stages = null;
      if (s) await stopStages(s);
      await statusService.stop();
      log.info("stopped");
    },
    async reload(next: Config) {
      if (stages && JSON.stringify(next) === JSON.stringify(config)) {
        await stages.evaluator.reload();
        await statusService.start(next);
        log.info("rules reloaded", { handlers: stages.evaluator.handlers.length });
        return;
      }
      const old = stages;
      stages = null;
      const swapped = Promise.withResolvers<void>();
      swapping = swapped.promise;
      // The MQTT channel survives the swap when its settings did not change (see build()).
      const running = old?.channel ? { channel: old.channel, key: old.channelKey } : null;
      try {
        if (old) await stopStages(old, running !== null);
        await startWith(next, running);
      } catch (e) {
        log.error("the new config could not start; restarting the previous one", {
          error: (e as Error).message,
        });
        await running?.channel.stop();
        await startWith(config);
        if (!lacksPermission(e)) throw e;
        throw new Error(
          `${(e as Error).message}. The agent runs with the least permissions its config ` +
            `needed; a config that needs more (a new address, executable or path): ${howToApply()}`,
          { cause: e },
        );
      } finally {
        swapping = null;
        swapped.resolve();
      }
      config = next;
      await statusService.start(next);
      log.info("config reloaded", { source: next.source ?? "built-in default" });
    },
  };
  return agent;
}

/** Whether `e` (or its cause) is Deno's "not allowed by the permission flags" error. */
function lacksPermission(e: unknown): boolean {
  for (let x = e; x instanceof Error; x = x.cause) {
    if (x instanceof Deno.errors.NotCapable || x instanceof Deno.errors.PermissionDenied) {
      return true;
    }
  }
  return false;
}
