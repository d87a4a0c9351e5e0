import { isAbsolute, join } from "node:path";
import { splitCommandLine } from "./command_line.ts";

/** The config's `Services` section, as the zod schema outputs it. */
export type ServicesConfig = Record<
  string,
  {
    /** Absent only for `Services.collectd` (see the schema). */
    commands?:
      | Record<
        string,
        string | {
          Argv: string[];
          Timeout?: number | undefined;
          Cooldown?: number | undefined;
          MaxRuns?: number | undefined;
          Window?: number | undefined;
          Verify?: number | undefined;
          Retries?: number | undefined;
          Backoff?: number | undefined;
          Env?: Record<string, string> | undefined;
        }
      >
      | undefined;
  }
>;

/** Defaults of the explicit form's options (seconds), also used for every string command. */
export const COMMAND_DEFAULTS = {
  Timeout: 60,
  Cooldown: 60,
  MaxRuns: 5,
  Window: 3600,
  Verify: 300,
  Retries: 2,
  Backoff: 60,
} as const;

/**
 * The environment every command starts with (the agent's own is never passed on); `Env` adds to
 * it. PATH is also where bare executable names are searched, at load.
 */
export const CLEAN_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C.UTF-8",
  HOME: "/",
};

/** One command ready to run: absolute executable, limits in milliseconds. */
export interface CompiledCommand {
  service: string;
  command: string;
  argv: string[];
  env: Record<string, string>;
  timeoutMs: number;
  cooldownMs: number;
  maxRuns: number;
  windowMs: number;
  verifyMs: number;
  retries: number;
  backoffMs: number;
}

/** `service` → `command` → compiled command. */
export type CompiledServices = Map<string, Map<string, CompiledCommand>>;

/** One problem, shaped like the config loader's (`path` is the JSON path). */
export interface ServiceProblem {
  path: string;
  message: string;
}

/** Effects of {@linkcode checkServices}, passed in for tests. */
export interface CheckServicesOptions {
  /**
   * Whether `path` is an executable regular file; null when it cannot be told (no read
   * permission on it: the agent may run under a restricted --allow-read). Default: a stat.
   */
  isExecutable?: (path: string) => boolean | null;
  /** Whether this process may run `path`. Default: `Deno.permissions.querySync`. */
  mayRun?: (path: string) => boolean;
}

/**
 * Compiles every command: splits strings, resolves executables to absolute paths (bare names
 * through {@linkcode CLEAN_ENV}'s PATH) and checks each against the process's Deno permissions.
 * Returns the commands and every problem found (empty when all is well). The lead calls this at
 * config load and in `check-config`; {@linkcode compileServices} throws instead.
 */
export function checkServices(
  services: ServicesConfig,
  options: CheckServicesOptions = {},
): { services: CompiledServices; problems: ServiceProblem[] } {
  const isExecutable = options.isExecutable ?? statExecutable;
  const mayRun = options.mayRun ?? queryRun;
  const out: CompiledServices = new Map();
  const problems: ServiceProblem[] = [];
  for (const [service, { commands = {} }] of Object.entries(services)) {
    const map = new Map<string, CompiledCommand>();
    out.set(service, map);
    for (const [command, spec] of Object.entries(commands)) {
      const path = `Services.${service}.commands.${command}`;
      const o = typeof spec === "string" ? { Argv: null } : spec;
      let argv: string[];
      if (o.Argv === null) {
        const split = splitCommandLine(spec as string);
        if (!split.ok) {
          problems.push({ path, message: `cannot be split into argv: ${split.reason}` });
          continue;
        }
        argv = split.argv;
      } else argv = [...o.Argv];
      const exe = resolveExecutable(argv[0]!, isExecutable, mayRun);
      if (!exe.ok) {
        problems.push({ path, message: exe.message });
        continue;
      }
      if (!mayRun(exe.path)) {
        const unseen = isExecutable(exe.path) === null;
        problems.push({
          path,
          message: `${exe.path} is not in the --allow-run list this process was started with` +
            (unseen ? " (nor in its --allow-read: whether it exists cannot be told)" : ""),
        });
        continue;
      }
      argv[0] = exe.path;
      const num = (k: keyof typeof COMMAND_DEFAULTS) =>
        (o as unknown as Record<string, number | undefined>)[k] ?? COMMAND_DEFAULTS[k];
      map.set(command, {
        service,
        command,
        argv,
        env: { ...CLEAN_ENV, ...(o.Argv === null ? {} : o.Env) },
        timeoutMs: num("Timeout") * 1000,
        cooldownMs: num("Cooldown") * 1000,
        maxRuns: num("MaxRuns"),
        windowMs: num("Window") * 1000,
        verifyMs: num("Verify") * 1000,
        retries: num("Retries"),
        backoffMs: num("Backoff") * 1000,
      });
    }
  }
  return { services: out, problems };
}

/** {@linkcode checkServices}, throwing an Error that lists every problem. */
export function compileServices(
  services: ServicesConfig,
  options: CheckServicesOptions = {},
): CompiledServices {
  const { services: out, problems } = checkServices(services, options);
  if (problems.length) {
    throw new Error(
      "Invalid recovery commands:\n" +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
    );
  }
  return out;
}

/**
 * An absolute path is taken when it is an executable file (or cannot be checked for lack of read
 * permission: then the spawn reports a missing file); a bare name is the first PATH candidate that
 * is an executable file (or, unreadable, one this process may run: under least-privilege flags
 * derived from this same resolution, that is the one granted).
 */
function resolveExecutable(
  name: string,
  isExecutable: (path: string) => boolean | null,
  mayRun: (path: string) => boolean,
): { ok: true; path: string } | { ok: false; message: string } {
  if (isAbsolute(name)) {
    return isExecutable(name) !== false
      ? { ok: true, path: name }
      : { ok: false, message: `${name} does not exist or is not an executable file` };
  }
  if (name.includes("/")) {
    return { ok: false, message: `"${name}": use an absolute path or a bare name found in PATH` };
  }
  for (const dir of CLEAN_ENV.PATH!.split(":")) {
    const candidate = join(dir, name);
    const found = isExecutable(candidate);
    if (found || (found === null && mayRun(candidate))) return { ok: true, path: candidate };
  }
  return { ok: false, message: `"${name}" was not found in PATH (${CLEAN_ENV.PATH})` };
}

function statExecutable(path: string): boolean | null {
  try {
    const st = Deno.statSync(path);
    return st.isFile && st.mode !== null && (st.mode & 0o111) !== 0;
  } catch (e) {
    // Not visible under these flags is "cannot tell", never "does not exist".
    return e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
      ? null
      : false;
  }
}

function queryRun(path: string): boolean {
  return Deno.permissions.querySync({ name: "run", command: path }).state === "granted";
}
