import { dirname, posix } from "node:path";
import { Code } from "../model/mod.ts";
import type { ConfFs } from "./_fs.ts";
import { type Located, resolveIncludes } from "./include.ts";
import { parseCollectdConf } from "./parse.ts";
import { checkPolicy, pluginsLoaded } from "./policy.ts";

/** Options of {@linkcode vetCollectdConf}. */
export interface VetOptions {
  /** The live collectd.conf: the plugins it loads are allowed (risky ones excepted). */
  configPath: string;
  /** Files the new text must not include: the live file, its .new and .orig. */
  ownFiles: readonly string[];
  /** `Services.collectd.AllowedPlugins`. */
  allowedPlugins?: readonly string[] | undefined;
  /** The allowed include folders (see {@linkcode includeDirsFor}). */
  includeDirs: readonly string[];
  /** `Services.collectd.PIDPath`. */
  pidPath?: string | undefined;
  fs?: ConfFs;
}

/** What {@linkcode vetCollectdConf} decided. */
export type Verdict =
  | {
    ok: true;
    /** The plugins the new text loads. */
    plugins: string[];
    /** The files its includes pulled in. */
    files: string[];
    /** What could not be read of the current config (its plugins then count less). */
    notes: string[];
  }
  | {
    ok: false;
    /** CONFIG_INVALID (collectd would fail on it) or CONFIG_REFUSED (the policy). */
    code: typeof Code.CONFIG_INVALID | typeof Code.CONFIG_REFUSED;
    /** What and where, never quoting the text. */
    message: string;
  };

/**
 * Reads a new collectd.conf as collectd would (includes resolved) and judges it: syntax
 * collectd would reject → CONFIG_INVALID; a risky or unknown plugin, an include outside the
 * allowed folders, a file option pointing elsewhere → CONFIG_REFUSED. Reads only the current
 * config and files inside `includeDirs`.
 */
export async function vetCollectdConf(text: string, options: VetOptions): Promise<Verdict> {
  const fs = options.fs;
  const parsed = parseCollectdConf(text);
  if (!parsed.ok) {
    return {
      ok: false,
      code: Code.CONFIG_INVALID,
      message: `New config seems broken: line ${parsed.line}: ${parsed.reason}`,
    };
  }
  const common = {
    includeDirs: options.includeDirs,
    ownFiles: options.ownFiles,
    ...(fs ? { fs } : {}),
  };
  const resolved = await resolveIncludes(parsed.items, { ...common, name: "the new config" });
  if (!resolved.ok) {
    const { kind, message } = resolved.problem;
    return kind === "invalid"
      ? { ok: false, code: Code.CONFIG_INVALID, message: `New config seems broken: ${message}` }
      : { ok: false, code: Code.CONFIG_REFUSED, message: `Refused: ${message}` };
  }
  const current = await readCurrent(options.configPath, { ...common, lenient: true });
  const refusal = checkPolicy(resolved.items, {
    allowedPlugins: options.allowedPlugins ?? [],
    current: current.items,
    includeDirs: options.includeDirs,
    pidPath: options.pidPath,
  });
  if (refusal !== null) {
    return { ok: false, code: Code.CONFIG_REFUSED, message: `Refused: ${refusal}` };
  }
  return {
    ok: true,
    plugins: [...pluginsLoaded(resolved.items).keys()],
    files: resolved.files,
    notes: current.notes,
  };
}

/** The current config's items (includes resolved leniently), or null with why. */
async function readCurrent(
  path: string,
  options: Parameters<typeof resolveIncludes>[1],
): Promise<{ items: Located[] | null; notes: string[] }> {
  let text: string;
  try {
    text = await (options.fs?.readTextFile(path) ?? Deno.readTextFile(path));
  } catch (e) {
    return { items: null, notes: [`cannot read the current ${path}: ${(e as Error).message}`] };
  }
  const parsed = parseCollectdConf(text);
  if (!parsed.ok) {
    return { items: null, notes: [`the current ${path} line ${parsed.line}: ${parsed.reason}`] };
  }
  const resolved = await resolveIncludes(parsed.items, { ...options, name: path });
  return resolved.ok
    ? { items: resolved.items, notes: resolved.notes }
    : { items: null, notes: [resolved.problem.message] };
}

/**
 * The folders a new collectd.conf may include files from: `configured` (IncludeDirs) when
 * given, else for each possible collectd.conf its `collectd.conf.d/` and `collectd.d/`, and its
 * own folder when that folder's path names collectd (`/etc/collectd`, `/opt/collectd/etc`; not
 * `/etc` for `/etc/collectd.conf`).
 */
export function includeDirsFor(
  configs: readonly string[],
  configured: readonly string[] | undefined,
): string[] {
  if (configured !== undefined) return configured.map((d) => posix.resolve(d));
  const dirs: string[] = [];
  for (const config of configs) {
    const dir = dirname(posix.resolve(config));
    if (dir.split("/").some((part) => part.includes("collectd"))) dirs.push(dir);
    dirs.push(`${dir}/collectd.conf.d`, `${dir}/collectd.d`);
  }
  return [...new Set(dirs)];
}
