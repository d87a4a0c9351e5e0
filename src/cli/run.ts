import { createAgent } from "../agent.ts";
import { ConfigError } from "../config/mod.ts";
import { ExitCode } from "../model/mod.ts";
import { VERSION } from "../version.ts";
import type { CliCommand } from "./_command.ts";
import { CONFIG_OPTION, loadFromArgs, loggerFor, reloadConfig } from "./_config.ts";

/** How long SIGTERM/SIGINT waits for running work before exiting anyway. */
const STOP_BOUND_MS = 30_000;

/** `agent [run] --config FILE`: run until SIGTERM/SIGINT; SIGHUP reloads. */
export const runCommand: CliCommand = {
  name: "run",
  summary: "run the agent (the default command)",
  usage: "agent [run] [--config FILE]",
  options: CONFIG_OPTION,
  async run({ values }, io) {
    let loaded;
    try {
      loaded = await loadFromArgs(values);
    } catch (e) {
      if (e instanceof ConfigError) {
        io.stderr(e.message + "\n");
        return ExitCode.CONFIG;
      }
      throw e;
    }
    const log = loggerFor(loaded.config);
    for (const w of loaded.warnings) log.warn(w);
    log.info(`edge-agent ${VERSION} starting`, {
      config: loaded.config.source ?? "built-in default",
    });
    const agent = createAgent(loaded.config, { logger: log });

    // Signal handlers go in before start, so a signal during start-up is never fatal.
    let started = false;
    let reloadPending = false;
    const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
    const onStop = (signal: Deno.Signal) => () => stop(signal);
    const handlers: [Deno.Signal, () => void][] = [
      ["SIGTERM", onStop("SIGTERM")],
      ["SIGINT", onStop("SIGINT")],
      ["SIGHUP", () => started ? void reload() : (reloadPending = true)],
    ];
    for (const [s, h] of handlers) Deno.addSignalListener(s, h);
    const removeHandlers = () => {
      for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    };

    try {
      await agent.start();
    } catch (e) {
      log.fatal("cannot start", { error: (e as Error).message });
      await agent.stop();
      removeHandlers();
      return ExitCode.RUNTIME;
    }
    started = true;
    if (reloadPending) void reload();

    async function reload() {
      const source = agent.config.source;
      log.info("SIGHUP: reloading config and rules", { config: source ?? "built-in default" });
      try {
        const next = source ? await reloadConfig(source) : { config: agent.config, warnings: [] };
        for (const w of next.warnings) log.warn(w);
        await agent.reload(next.config);
      } catch (e) {
        log.error("reload rejected; the previous config keeps running", {
          error: (e as Error).message,
        });
      }
    }

    const signal = await stopped;
    log.info(`${signal}: stopping`);
    removeHandlers();
    const timer = setTimeout(() => {
      log.error(`stop took longer than ${STOP_BOUND_MS} ms; exiting anyway`);
      Deno.exit(ExitCode.RUNTIME);
    }, STOP_BOUND_MS);
    await agent.stop();
    clearTimeout(timer);
    return ExitCode.OK;
  },
};
