import { z } from "zod";
import { refusalMessage, splitCommandLine } from "../executor/command_line.ts";

/**
 * lua-collectd-monitor's string form (`"/bin/systemctl restart nginx 2>&1"`): split with shell
 * quoting rules and run WITHOUT a shell; any other shell syntax is refused here, at load.
 */
const CommandStringSchema = z.string().min(1).superRefine((line, ctx) => {
  const split = splitCommandLine(line);
  if (!split.ok) ctx.addIssue({ code: "custom", message: refusalMessage(line, split.reason) });
});

/** The explicit form. Durations are seconds; defaults are the executor's (see docs/recovery.md). */
export const CommandOptionsSchema = z.strictObject({
  /** Executable (absolute path, or a name searched in the command PATH) and its arguments. */
  Argv: z.array(z.string()).min(1).refine((a) => a[0] !== "", "Argv[0] must name an executable"),
  /** Seconds before the run is killed (SIGTERM to its process group, SIGKILL 5 s later). */
  Timeout: z.number().positive().max(86_400).optional(),
  /** Seconds after a rule-triggered run during which the rules cannot trigger it again. */
  Cooldown: z.number().min(0).optional(),
  /** Most rule-triggered runs per `Window` seconds. */
  MaxRuns: z.number().int().min(1).optional(),
  Window: z.number().positive().optional(),
  /** Closed loop: seconds to wait for the handler to clear after a run; 0 turns the loop off. */
  Verify: z.number().min(0).optional(),
  /** Closed loop: extra runs when the condition persists, `Backoff` s apart, doubling. */
  Retries: z.number().int().min(0).max(20).optional(),
  Backoff: z.number().positive().optional(),
  /** Extra environment variables (added to the clean environment). */
  Env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
});

export const CommandSchema = z.union([CommandStringSchema, CommandOptionsSchema]);

export const ServiceSchema = z.strictObject({
  /** Required, except for `Services.collectd` (its replacement then uses upstream's defaults). */
  commands: z.record(z.string().min(1), CommandSchema).optional(),
  // collectd.conf replacement (Services.collectd only; lua-collectd-monitor's names + one new)
  /** collectd.conf to replace; absent: the usual locations are searched. */
  ConfigPath: z.string().min(1).optional(),
  /** collectd binary used to check a new config; absent: /usr/sbin, /opt/collectd/sbin. */
  CommandPath: z.string().min(1).optional(),
  /** collectd's pid file; absent: the config's PIDFile, else /var/run/collectd.pid. */
  PIDPath: z.string().min(1).optional(),
  /** Seconds a restarted collectd has to show a new pid and send metrics again. */
  ReplaceTimeout: z.number().positive().max(3600).optional(),
  /** Plugins a new collectd.conf may load beyond the default (the only way to allow exec...). */
  AllowedPlugins: z.array(
    z.string().regex(/^[A-Za-z0-9_]+$/, "must be a collectd plugin name (letters, digits, _)"),
  ).optional(),
  /** Folders a new collectd.conf may include files from; absent: beside collectd.conf. */
  IncludeDirs: z.array(
    z.string().min(1).refine((p) => p.startsWith("/"), "must be an absolute path"),
  ).optional(),
});

/** Settings of the executor stage. */
export const servicesKeys = {
  Services: z.record(z.string().min(1), ServiceSchema).default({}).superRefine((services, ctx) => {
    for (const [name, service] of Object.entries(services)) {
      if (name === "collectd" || service.commands !== undefined) continue;
      ctx.addIssue({
        code: "custom",
        path: [name, "commands"],
        message: "required: the service's recovery commands (only Services.collectd may omit " +
          "them: collectd.conf replacement then restarts collectd the default way)",
      });
    }
  }),
  /** Most recovery commands running at once, all services together. */
  MaxParallelCommands: z.number().int().min(1).max(256).default(4),
};
