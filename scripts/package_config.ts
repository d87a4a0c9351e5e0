/**
 * The config a package installs (src/config/installed.ts), checked with the rules it ships:
 *
 * ```sh
 * scripts/deno run -A scripts/package_config.ts --config FILE --rules DIR --output STAGED
 * ```
 * Writes STAGED (the operator's own bytes when nothing had to change), prints each change to
 * stderr, then loads every rule of DIR in the sandbox against the config's Services. Exit 3 on a
 * refused or invalid config or a broken rule file. Used by scripts/package_deb.
 * @module
 */
import { parseArgs } from "node:util";
import { ConfigError, installedConfig, PACKAGE_PATHS, parseConfig } from "../src/config/mod.ts";
import { checkRules, defaultHostCommand, formatProblem } from "../src/evaluator/mod.ts";
import { createLogger } from "../src/log/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { config: { type: "string" }, rules: { type: "string" }, output: { type: "string" } },
});
const say = (text: string) => console.error(`scripts/package_deb: ${text}`);
if (!values.config || !values.rules || !values.output) {
  say("package_config.ts needs --config, --rules and --output");
  Deno.exit(2);
}
try {
  const installed = installedConfig(await Deno.readTextFile(values.config), values.config);
  for (const note of installed.notes) say(`${values.config}: ${note}`);
  await Deno.writeTextFile(values.output, installed.text);
  const { config } = parseConfig(installed.text, PACKAGE_PATHS.config);
  const check = await checkRules(values.rules, {
    services: config.Services,
    logger: createLogger({ level: "fatal", sink: () => {} }),
    // the rule host is the agent's own entry, not this script
    hostCommand: defaultHostCommand(new URL("../main.ts", import.meta.url).href),
  });
  if (check.problems.length) {
    say(
      `rule files in ${values.rules}:\n${
        check.problems.map((p) => `  - ${formatProblem(p)}`).join("\n")
      }`,
    );
    Deno.exit(3);
  }
  say(`${values.rules}: ${check.handlers.length} rule handler(s) load`);
} catch (e) {
  say(e instanceof ConfigError ? e.message : `${values.config}: ${(e as Error).message}`);
  Deno.exit(3);
}
