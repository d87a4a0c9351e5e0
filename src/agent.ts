import { type Config, hasBroker } from "./config/mod.ts";
import { type Counters, createCounters, type Logger, type Stage } from "./model/mod.ts";
import { reloadError } from "./permissions/mod.ts";
import {
  buildStages,
  type ChannelHooks,
  type RunningChannel,
  type StageOptions,
  type Stages,
  type StagesContext,
  startStages,
  stopStages,
} from "./stages.ts";
import { releaseMemory } from "./evaluator/mod.ts";
import { createStatusService } from "./status/mod.ts";
import type { Telemetry } from "./telemetry/mod.ts";
import { VERSION } from "./version.ts";

export type { StageOptions } from "./stages.ts";

/** Effects and sinks the agent is given (passed in so tests can observe them). */
export interface AgentOptions extends StageOptions {
  logger: Logger;
  /** The registry every stage counts into. Default: a new one. */
  counters?: Counters;
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

/**
 * The agent: the stages of its config (stages.ts) started downstream first and stopped upstream
 * first; a reload swaps them, keeping the MQTT channel when its settings did not change.
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
  const current = async (): Promise<ChannelHooks> => {
    while (swapping) await swapping;
    return hooks!;
  };
  // `agent status`: read-only views of the stages on <StateDir>/status.sock (src/status/)
  const statusService = createStatusService({
    counters,
    logger: log.child("status"),
    view: () => stages && { ...stages, config },
  });
  const context: StagesContext = {
    logger: log,
    counters,
    options,
    config: () => config,
    current,
    hooksNow: () => hooks!,
    status: () => agent.status(),
    keep: [statusService.reporter], // the last runs, kept across reloads
  };

  async function startWith(c: Config, running: RunningChannel | null = null) {
    let s: Stages | null = null;
    try {
      await Deno.mkdir(c.StateDir, { recursive: true, mode: 0o700 });
      const built = await buildStages(c, running, context);
      s = built.stages;
      hooks = built.hooks;
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
      releaseMemory(); // start-up's garbage, now rather than when V8's memory reducer runs
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
        throw reloadError(e);
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
