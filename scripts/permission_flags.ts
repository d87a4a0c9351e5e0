/**
 * Prints the Deno permission flags of the agent for a config, each with the reason it is granted
 * (the model itself is src/permissions/). Used by scripts/agent (development runs),
 * scripts/compile (baked into the binary) and scripts/package_deb (the packaged launcher), so
 * every run holds the same restrictions.
 *
 * ```sh
 * scripts/deno run --allow-read --allow-env scripts/permission_flags.ts [--config FILE] \
 *   [--role daemon|operator] [--as INSTALLED_PATH] [--self PATH] [--operator-self PATH] \
 *   [--notify-socket PATH] [--lenient] [--target here|elsewhere] \
 *   [--format args|explain|json|packaged]
 * ```
 * Without `--config`: /etc/edge-agent/config.json when it exists, else the built-in default (the
 * same choice the agent makes). `--role daemon` (default): what `agent run` holds; `operator`:
 * what the operator commands hold (see src/permissions/operator.ts). `--as` derives for FILE's
 * text as it will be installed (e.g. /etc/edge-agent/config.json), so its relative paths resolve
 * there (packages). `--target elsewhere`: an absolute executable missing on this machine is
 * granted as named, with a warning (a package built for other hosts). `args` prints one flag per
 * line; `explain` each grant with its reason; `packaged` the permissions file a package installs
 * (both roles). With `--lenient` or `--role operator`, a config that does not load gets the
 * built-in default's flags, so the program itself reports it.
 * @module
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  ConfigError,
  defaultConfig,
  defaultConfigFile,
  loadConfig,
  parseConfig,
} from "../src/config/mod.ts";
import {
  derivePermissions,
  explain,
  grant,
  operatorPermissions,
  type PackagedPermissions,
  permissionFlags,
} from "../src/permissions/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    config: { type: "string", short: "c" },
    role: { type: "string", default: "daemon" },
    self: { type: "string" },
    "operator-self": { type: "string" },
    "notify-socket": { type: "string" },
    lenient: { type: "boolean" },
    target: { type: "string", default: "here" },
    format: { type: "string", default: "args" },
    as: { type: "string" },
  },
});
try {
  if (!["daemon", "operator"].includes(values.role!)) throw new Error("--role: daemon|operator");
  if (!["here", "elsewhere"].includes(values.target!)) throw new Error("--target: here|elsewhere");
  const file = values.config ?? defaultConfigFile();
  const load = async () =>
    file === null
      ? defaultConfig()
      : values.as
      ? parseConfig(await Deno.readTextFile(file), values.as).config
      : (await loadConfig(file)).config;
  // --lenient (scripts/agent) and the operator role: a config that does not load is the
  // program's to report, in its own words; the flags of the built-in default let it say so.
  let unloadable: string | null = null;
  const config = values.lenient || values.role === "operator"
    ? await load().catch((e) => {
      if (!(e instanceof ConfigError)) throw e;
      unloadable = e.file;
      return defaultConfig();
    })
    : await load();
  const self = values.self ? resolve(values.self) : Deno.execPath();
  const daemon = () => {
    const p = derivePermissions(config, {
      self,
      notifySocket: values["notify-socket"] || null,
      lenient: values.lenient === true,
      target: values.target as "here" | "elsewhere",
      onWarning: (w) => console.error(`permission_flags: warning: ${w}`),
    });
    if (unloadable) {
      grant(p, "read", unloadable, "the config file (the agent says why it does not load)");
    }
    return p;
  };
  const operator = () =>
    operatorPermissions(config, {
      self: values["operator-self"] ? resolve(values["operator-self"]) : self,
    });
  if (values.format === "packaged") {
    const packaged: PackagedPermissions = {
      config: config.source ?? "(built-in default)",
      self,
      daemon: daemon(),
      operator: operator(),
    };
    console.log(JSON.stringify(packaged, null, 2));
  } else {
    const p = values.role === "operator" ? operator() : daemon();
    console.log(
      values.format === "explain"
        ? explain(p)
        : values.format === "json"
        ? JSON.stringify(p, null, 2)
        : permissionFlags(p).join("\n"),
    );
  }
} catch (e) {
  console.error(`permission_flags: ${(e as Error).message}`);
  Deno.exit(3);
}
