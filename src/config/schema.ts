import { z } from "zod";
import { listenKeys } from "./_schema_listen.ts";
import { mqttKeys } from "./_schema_mqtt.ts";
import { rulesKeys } from "./_schema_rules.ts";
import { servicesKeys } from "./_schema_services.ts";
import { telemetryKeys } from "./_schema_telemetry.ts";

const LOG_LEVEL_ALIASES: Record<string, string> = { warning: "warn", err: "error" };
const LOG_DEVICE_ALIASES: Record<string, string> = { console: "stdout" };

/** A string enum that also accepts other letter cases and lua-collectd-monitor's aliases. */
function looseEnum<const T extends readonly [string, ...string[]]>(
  values: T,
  aliases: Record<string, string>,
) {
  return z.preprocess((v) => {
    if (typeof v !== "string") return v;
    const lower = v.toLowerCase();
    return aliases[lower] ?? lower;
  }, z.enum(values));
}

/**
 * The whole config.json. lua-collectd-monitor's file loads unchanged; new settings use the same
 * PascalCase style. Objects are strict: an unknown (e.g. misspelled) key is an error.
 */
export const ConfigSchema = z.strictObject({
  ...mqttKeys,
  ...servicesKeys,
  ...rulesKeys,
  ...listenKeys,
  ...telemetryKeys,
  LogDevice: looseEnum(["stdout", "syslog"], LOG_DEVICE_ALIASES).default("stdout"),
  LogLevel: looseEnum(["fatal", "error", "warn", "info", "debug"], LOG_LEVEL_ALIASES)
    .default("info"),
  /** `text`: one greppable line per event; `json`: one JSON object per line. */
  LogFormat: z.enum(["text", "json"]).default("text"),
  /** Where the agent keeps durable state (audit log, spool, counters). */
  StateDir: z.string().min(1).default("state"),
}).superRefine((c, ctx) => {
  if (
    c.RulesDir !== undefined && c.LocalMonitorConfigDir !== undefined &&
    c.RulesDir !== c.LocalMonitorConfigDir
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["LocalMonitorConfigDir"],
      message: `is an alias of RulesDir; both are set to different directories ("${c.RulesDir}" ` +
        `and "${c.LocalMonitorConfigDir}"): keep one`,
    });
  }
});

/** config.json as written by the operator (before defaults). */
export type ConfigInput = z.input<typeof ConfigSchema>;

/** config.json after validation and defaults, with relative paths still as written. */
export type ParsedConfig = z.output<typeof ConfigSchema>;
