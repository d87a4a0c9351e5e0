import { isAbsolute, join } from "node:path";
import type { Config } from "../config/mod.ts";
import {
  checkServices,
  CLEAN_ENV,
  KILL_HELPERS,
  type ServicesConfig,
  splitCommandLine,
} from "../executor/mod.ts";
import { grant, PermissionDerivationError, type Permissions } from "./grants.ts";

/** How {@linkcode serviceGrants} treats an executable it cannot find on this machine. */
export interface ServiceGrantOptions {
  /**
   * `here` (default): every executable must exist on this machine. `elsewhere` (a package built
   * for other hosts): an absolute path missing here is granted as named, with a warning; a bare
   * name must still be found here (its PATH entry is fixed at build).
   */
  target?: "here" | "elsewhere";
  /**
   * Grant what can be told and leave the rest to the agent: for a command that cannot be
   * resolved, read access to where it was looked for, so the agent reports "does not exist" or
   * "not found in PATH" itself (scripts/agent).
   */
  lenient?: boolean;
  /** Whether `path` is an executable file. Default: stat. */
  isExecutable?: (path: string) => boolean;
  onWarning?: (message: string) => void;
}

/**
 * The recovery commands: `--allow-run` for each executable (resolved as the executor resolves
 * it), `--allow-read` for it too (so the agent can tell a missing file from a forbidden one at
 * load), and the kill helpers that signal a timed-out command's process group.
 */
export function serviceGrants(p: Permissions, config: Config, options: ServiceGrantOptions): void {
  const checked = checkServices(config.Services, {
    mayRun: () => true,
    ...(options.isExecutable ? { isExecutable: options.isExecutable } : {}),
  });
  const errors: string[] = [];
  for (const problem of checked.problems) {
    const named = writtenExecutable(config.Services, problem.path);
    const why = `${problem.path}: recovery command`;
    if (named !== null && isAbsolute(named) && options.target === "elsewhere") {
      options.onWarning?.(
        `${problem.path}: ${named} is not on this machine; granted as named for the hosts ` +
          `the package is built for (the agent checks it there at start)`,
      );
      grant(p, "run", named, why);
      grant(p, "read", named, `${why} (does it exist)`);
    } else if (named !== null && options.lenient) {
      for (const path of candidates(named)) grant(p, "read", path, `${why} (does it exist)`);
    } else {
      errors.push(`  - ${problem.path}: ${problem.message}`);
    }
  }
  if (errors.length) {
    throw new PermissionDerivationError(
      `Cannot derive --allow-run from Services:\n${errors.join("\n")}`,
    );
  }
  let any = false;
  for (const [service, commands] of checked.services) {
    for (const [name, command] of commands) {
      const why = `Services.${service}.commands.${name}: recovery command`;
      grant(p, "run", command.argv[0]!, why);
      grant(p, "read", command.argv[0]!, `${why} (does it exist)`);
      any = true;
    }
  }
  if (any || checked.problems.length) {
    for (const kill of KILL_HELPERS) {
      grant(p, "run", kill, "Services: signal a timed-out command's whole process group");
    }
  }
}

/** Where the executor looks for `name`: itself when absolute, else each command PATH entry. */
function candidates(name: string): string[] {
  if (isAbsolute(name)) return [name];
  if (name.includes("/")) return [];
  return CLEAN_ENV.PATH!.split(":").map((dir) => join(dir, name));
}

/** argv[0] as the config writes it for `Services.<s>.commands.<c>`, or null. */
function writtenExecutable(services: ServicesConfig, path: string): string | null {
  const m = /^Services\.(.+)\.commands\.(.+)$/.exec(path);
  if (!m) return null;
  const spec = services[m[1]!]?.commands?.[m[2]!];
  if (spec === undefined) return null;
  if (typeof spec !== "string") return spec.Argv[0] ?? null;
  const split = splitCommandLine(spec);
  return split.ok ? split.argv[0] ?? null : null;
}
