/**
 * collectd's `Include` (src/daemon/configfile.c: cf_include_all, cf_read_generic, cf_read_dir,
 * cf_read_file), resolved by the agent so every file a new collectd.conf pulls in is checked
 * like the file itself, and only files inside the allowed folders are read at all.
 * @module
 */
import { basename, isAbsolute, posix } from "node:path";
import { type ConfFs, denoFs } from "./_fs.ts";
import {
  byteOrder,
  expandGlob,
  fnmatch,
  hasWildcard,
  isSafeName,
  join,
  shellSyntaxIn,
} from "./_glob.ts";
import { type ConfItem, parseCollectdConf } from "./parse.ts";

/** A top-level item after includes are resolved, with the file it came from. */
export interface Located {
  item: ConfItem;
  /** The file holding it (the top-level text's name for its own items). */
  file: string;
}

/** Options of {@linkcode resolveIncludes}. */
export interface IncludeOptions {
  /** Folders included files must be in (absolute). */
  includeDirs: readonly string[];
  /** Files that must never be included (the config being replaced, its .new and .orig). */
  ownFiles: readonly string[];
  /**
   * Lenient (for the current config, which is trusted): what cannot be resolved is skipped and
   * noted instead of failing. Default false: the first problem fails the whole text.
   */
  lenient?: boolean;
  /** Name of the top-level text in messages. Default "collectd.conf". */
  name?: string;
  fs?: ConfFs;
}

/** Why a text's includes cannot be accepted: `invalid` (collectd would fail) or `refused`. */
export interface IncludeProblem {
  kind: "invalid" | "refused";
  message: string;
}

export type IncludeResult =
  | { ok: true; items: Located[]; files: string[]; notes: string[] }
  | { ok: false; problem: IncludeProblem };

/** collectd's CF_MAX_DEPTH: an Include nested this deep fails. */
const MAX_DEPTH = 8;
const MAX_FILES = 500;
const MAX_DIRS = 200;
/** Relative Include paths are relative to collectd's working directory: / (systemd, the check). */
const COLLECTD_CWD = "/";

class Stop extends Error {
  constructor(readonly problem: IncludeProblem) {
    super(problem.message);
  }
}

/**
 * Replaces each top-level `Include "path"` (or `<Include "path"> Filter "glob" </Include>`) of
 * `items` by the items of the files it names, recursively, as collectd does: a glob's matches in
 * byte order, a folder's files (not starting with `.`) in byte order, `Filter` applied to file
 * names, nesting up to collectd's depth of 8. An Include collectd would ignore (not exactly one
 * string) stays as an item. Nothing outside `includeDirs` is read: a path there is refused
 * before it is looked at, and every file is checked again by its real path (symbolic links).
 */
export async function resolveIncludes(
  items: ConfItem[],
  options: IncludeOptions,
): Promise<IncludeResult> {
  const fs = options.fs ?? denoFs;
  const allowed = options.includeDirs.map((d) => posix.normalize(d).replace(/(.)\/$/, "$1"));
  const own = options.ownFiles.map((f) => posix.normalize(f));
  const resolver = new Resolver(options, fs, {
    allowed,
    // A folder that does not exist (or cannot be resolved) holds nothing to include; a file
    // being replaced that does not exist yet is compared by its path only.
    allowedReal: await realPaths(fs, allowed),
    own,
    ownReal: await realPaths(fs, own),
  });
  try {
    const located = await resolver.expand(items, options.name ?? "collectd.conf", 0);
    return { ok: true, items: located, files: resolver.files, notes: resolver.notes };
  } catch (e) {
    if (e instanceof Stop) return { ok: false, problem: e.problem };
    throw e;
  }
}

async function realPaths(fs: ConfFs, paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    try {
      out.push(await fs.realPath(path));
    } catch { /* not there */ }
  }
  return out;
}

interface Places {
  allowed: string[];
  allowedReal: string[];
  own: string[];
  ownReal: string[];
}

const inside = (path: string, roots: string[]) =>
  roots.some((r) => r === "/" || path === r || path.startsWith(`${r}/`));

/** One resolution: configfile.c's cf_include_all / cf_read_generic / cf_read_dir / cf_read_file. */
class Resolver {
  readonly files: string[] = [];
  readonly notes: string[] = [];
  #dirs = 0;
  readonly #dirList: string;

  constructor(
    readonly options: IncludeOptions,
    readonly fs: ConfFs,
    readonly places: Places,
  ) {
    this.#dirList = places.allowed.length ? places.allowed.join(", ") : "none";
  }

  #fail(kind: IncludeProblem["kind"], message: string): never {
    throw new Stop({ kind, message });
  }

  /** A problem: fails the text, or (lenient) is noted and the include skipped. */
  #problem(kind: IncludeProblem["kind"], message: string): Located[] {
    if (!this.options.lenient) this.#fail(kind, message);
    this.notes.push(message);
    return [];
  }

  /** cf_include_all: the top-level Include items of one file's items. */
  async expand(list: ConfItem[], file: string, depth: number): Promise<Located[]> {
    const out: Located[] = [];
    for (const item of list) {
      const value = item.values[0];
      if (
        item.key.toLowerCase() !== "include" || item.values.length !== 1 ||
        value?.type !== "string"
      ) {
        out.push({ item, file });
        continue;
      }
      let filter: string | null = null;
      for (const child of item.children) {
        const v = child.values[0];
        if (
          child.key.toLowerCase() === "filter" && child.values.length === 1 && v?.type === "string"
        ) {
          filter = v.value;
        }
      }
      const where = `Include "${value.value}" (${file} line ${item.line})`;
      out.push(...await this.#includeWord(value.value, filter, depth + 1, where));
    }
    return out;
  }

  /** One Include path: checked, then globbed (wordexp), then each match read. */
  async #includeWord(word: string, filter: string | null, depth: number, where: string) {
    const { allowed, own } = this.places;
    if (depth >= MAX_DEPTH) {
      return this.#problem(
        "invalid",
        `${where}: includes nested deeper than ${MAX_DEPTH - 1} levels`,
      );
    }
    const unsafe = shellSyntaxIn(word);
    if (unsafe !== null) {
      return this.#problem("refused", `${where}: the path holds ${unsafe}; write a plain path`);
    }
    const path = isAbsolute(word) ? posix.normalize(word) : posix.join(COLLECTD_CWD, word);
    const parts = path.split("/");
    const firstWild = parts.findIndex(hasWildcard);
    const fixed = firstWild < 0 ? path : parts.slice(0, firstWild).join("/") || "/";
    if (!inside(fixed, allowed)) {
      return this.#problem(
        "refused",
        `${where} is outside the folders Services.collectd.IncludeDirs allows (${this.#dirList})`,
      );
    }
    if (firstWild >= 0 && own.some((f) => globMatches(path, f))) {
      return this.#problem(
        "refused",
        `${where} matches the collectd.conf being replaced (or its .new/.orig)`,
      );
    }
    const matches = firstWild < 0
      ? [path]
      : await this.#guarded(where, () => expandGlob(path, this.fs));
    const out: Located[] = [];
    for (const match of matches ?? []) {
      out.push(...await this.#readGeneric(match, filter, depth, where));
    }
    return out;
  }

  /** cf_read_generic: a file or a folder, after the allowed-folder checks. */
  async #readGeneric(path: string, filter: string | null, depth: number, where: string) {
    const { allowed, allowedReal, own, ownReal } = this.places;
    if (!inside(path, allowed)) {
      return this.#problem(
        "refused",
        `${where}: ${path} is outside Services.collectd.IncludeDirs (${this.#dirList})`,
      );
    }
    if (own.includes(path)) {
      return this.#problem(
        "refused",
        `${where} includes ${path}, the collectd.conf being replaced`,
      );
    }
    const kind = await this.#guarded(where, () => this.fs.kind(path));
    if (kind === null || kind === "missing" || kind === "other") return [];
    const real = await this.#guarded(where, () => this.fs.realPath(path));
    if (real === null) return [];
    if (!inside(real, allowedReal)) {
      return this.#problem(
        "refused",
        `${where}: ${path} leads to ${real}, outside Services.collectd.IncludeDirs`,
      );
    }
    const holdsOwn = (dir: string, list: string[]) => list.some((f) => f.startsWith(`${dir}/`));
    if (
      ownReal.includes(real) || (kind === "dir" && (holdsOwn(real, ownReal) || holdsOwn(path, own)))
    ) {
      return this.#problem(
        "refused",
        `${where} includes ${path}, which holds the collectd.conf being replaced`,
      );
    }
    if (kind === "dir") return await this.#readDir(path, filter, depth, where);
    return await this.#readFile(path, filter, depth, where);
  }

  /** cf_read_dir: the folder's entries not starting with ".", in byte order. */
  async #readDir(path: string, filter: string | null, depth: number, where: string) {
    if (++this.#dirs > MAX_DIRS) {
      this.#fail("refused", `${where}: more than ${MAX_DIRS} included folders`);
    }
    const names = await this.#guarded(where, () => this.fs.readDir(path));
    const out: Located[] = [];
    for (const name of (names ?? []).filter((n) => !n.startsWith(".")).sort(byteOrder)) {
      if (!isSafeName(name)) {
        this.#problem(
          "refused",
          `${where}: the name of ${join(path, name)} would be expanded by collectd's wordexp ` +
            "(white space, wildcards, quotes...); rename it",
        );
        continue;
      }
      out.push(...await this.#readGeneric(join(path, name), filter, depth, where));
    }
    return out;
  }

  /** cf_read_file: the Filter, then the file's items with its own includes resolved. */
  async #readFile(path: string, filter: string | null, depth: number, where: string) {
    if (filter !== null && !fnmatch(filter, basename(path))) return [];
    if (this.files.length >= MAX_FILES) {
      this.#fail("refused", `${where}: more than ${MAX_FILES} included files`);
    }
    const text = await this.#guarded(where, () => this.fs.readTextFile(path));
    if (text === null) return [];
    this.files.push(path);
    const parsed = parseCollectdConf(text);
    if (!parsed.ok) {
      return this.#problem(
        "invalid",
        `${path} line ${parsed.line} (from ${where}): ${parsed.reason}`,
      );
    }
    return await this.expand(parsed.items, path, depth);
  }

  /** Runs a file-system call; a denied or failed one is a refusal naming it, never "nothing". */
  async #guarded<T>(where: string, call: () => Promise<T>): Promise<T | null> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof Stop) throw e;
      this.#problem(
        "refused",
        `${where}: cannot read it: ${(e as Error).message}` +
          (e instanceof Deno.errors.NotCapable
            ? " (the agent's --allow-read grants only Services.collectd.IncludeDirs)"
            : ""),
      );
      return null;
    }
  }
}

/** Whether the glob `pattern` (absolute, component by component) matches `path`. */
function globMatches(pattern: string, path: string): boolean {
  const p = pattern.split("/");
  const f = path.split("/");
  if (p.length !== f.length) return false;
  return p.every((part, i) =>
    hasWildcard(part)
      ? (!f[i]!.startsWith(".") || part.startsWith(".")) && fnmatch(part, f[i]!)
      : part === f[i]
  );
}
