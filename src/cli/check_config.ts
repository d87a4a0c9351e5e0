import { ConfigError, hasBroker, redacted } from "../config/mod.ts";
import { createEvaluator, formatProblem } from "../evaluator/mod.ts";
import { createLogger } from "../log/mod.ts";
import { ExitCode } from "../model/mod.ts";
import type { CliCommand } from "./_command.ts";
import { CONFIG_OPTION, daemonProblems, loadFromArgs } from "./_config.ts";

/**
 * `agent check-config [--config FILE]`: validate the config as the agent would load it (the
 * executables exist, the agent's permissions cover it) and every rule file; print a summary;
 * exit 3 on any problem.
 */
export const checkConfigCommand: CliCommand = {
  name: "check-config",
  summary: "validate the config and every rule file, print a summary",
  usage: "agent check-config [--config FILE] [--json]",
  options: { ...CONFIG_OPTION, json: { type: "boolean" } },
  async run({ values }, io) {
    const loaded = await loadFromArgs(values);
    const c = loaded.config;
    for (const w of loaded.warnings) io.stderr(`warning: ${w}\n`);
    const daemon = await daemonProblems(c);
    if (daemon.problems.length) {
      throw new ConfigError(c.source ?? "(built-in default)", daemon.problems);
    }
    if (values.json) {
      io.stdout(JSON.stringify(redacted(c), null, 2) + "\n");
      return ExitCode.OK;
    }
    // Load every rule file in the sandbox exactly as the agent would, and list each problem.
    const evaluator = createEvaluator({
      rulesDir: c.RulesDir,
      typesDbText: "",
      services: c.Services,
      logger: createLogger({ level: "fatal", sink: () => {} }),
      onEvent: () => {},
      watch: false,
      logProblems: false,
    });
    let handlers: readonly string[] = [];
    const problems: string[] = [];
    // A folder that is not there is no rule set: the agent would run, silently, with none.
    const isFolder = await Deno.stat(c.RulesDir).then((s) => s.isDirectory, (e) => e);
    if (isFolder !== true) {
      problems.push(
        `${c.RulesDir}: RulesDir ` +
          (isFolder === false ? "is not a folder" : `cannot be read (${isFolder.message})`),
      );
    }
    try {
      await evaluator.start();
      handlers = evaluator.handlers;
      problems.push(...evaluator.problems.map(formatProblem));
    } catch (e) {
      problems.push(`${c.RulesDir}: ${(e as Error).message}`);
    } finally {
      await evaluator.stop();
    }
    const commands = Object.entries(c.Services).map(([s, v]) =>
      `${s}(${Object.keys(v.commands ?? {}).join(",")})`
    );
    io.stdout(
      [
        `config: ${c.source ?? "built-in default"}: OK`,
        `mode: ${hasBroker(c) ? `MQTT ${[c.Host].flat().join(", ")}` : "local-only (no broker)"}`,
        `listen: ${c.Listen.map((l) => `${l.Host}:${l.Port} (${l.SecurityLevel})`).join(", ")}`,
        `services: ${commands.length ? commands.join(" ") : "none"}`,
        `rules: ${c.RulesDir}: ${handlers.length} handler(s)` +
        (handlers.length ? ` (${handlers.join(", ")})` : ""),
        `state: ${c.StateDir}`,
        `permissions: ${daemon.summary}`,
      ].join("\n") + "\n",
    );
    if (problems.length > 0) {
      io.stderr(`Rule file problems:\n${problems.map((p) => `  - ${p}`).join("\n")}\n`);
      return ExitCode.CONFIG;
    }
    return ExitCode.OK;
  },
};
