import { ConfigError, hasBroker, redacted } from "../config/mod.ts";
import { ExitCode } from "../model/mod.ts";
import type { CliCommand } from "./_command.ts";
import { CONFIG_OPTION, loadFromArgs } from "./_config.ts";

/** `agent check-config --config FILE`: validate, print a summary, exit non-zero on any error. */
export const checkConfigCommand: CliCommand = {
  name: "check-config",
  summary: "validate the config and every rule file, print a summary",
  usage: "agent check-config [--config FILE] [--json]",
  options: { ...CONFIG_OPTION, json: { type: "boolean" } },
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
    const c = loaded.config;
    for (const w of loaded.warnings) io.stderr(`warning: ${w}\n`);
    if (values.json) {
      io.stdout(JSON.stringify(redacted(c), null, 2) + "\n");
      return ExitCode.OK;
    }
    const commands = Object.entries(c.Services).map(([s, v]) =>
      `${s}(${Object.keys(v.commands).join(",")})`
    );
    io.stdout(
      [
        `config: ${c.source ?? "built-in default"}: OK`,
        `mode: ${hasBroker(c) ? `MQTT ${[c.Host].flat().join(", ")}` : "local-only (no broker)"}`,
        `listen: ${c.Listen.map((l) => `${l.Host}:${l.Port} (${l.SecurityLevel})`).join(", ")}`,
        `services: ${commands.length ? commands.join(" ") : "none"}`,
        `rules: ${c.RulesDir}`,
        `state: ${c.StateDir}`,
      ].join("\n") + "\n",
    );
    return ExitCode.OK;
  },
};
