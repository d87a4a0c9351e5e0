import { join } from "node:path";
import { loadTranspiler, RuleLoadError, transpileRule } from "./_transpile.ts";

/** One problem with a rule file, as the operator sees it: `path:line:column: message`. */
export interface RuleProblem {
  file: string;
  path: string;
  line: number;
  column: number;
  message: string;
}

/** Formats a problem as `path:line:column: message`. */
export function formatProblem(p: RuleProblem): string {
  return `${p.path}:${p.line}:${p.column}: ${p.message}`;
}

/** One `.ts` file of the rules directory: its text and, when it transpiled, its JavaScript. */
export interface RuleSource {
  file: string;
  text: string;
  js: string | null;
  problem: RuleProblem | null;
}

/**
 * A file of the directory is a rule when it ends in `.ts`, is not a declaration file
 * (`.d.ts`) and does not start with `_` (`_name.ts` files are helpers that rules import).
 */
export function isRuleFile(file: string): boolean {
  return isModuleFile(file) && !file.startsWith("_");
}

/** Every `.ts` file except declaration files can be imported by a rule. */
export function isModuleFile(file: string): boolean {
  return file.endsWith(".ts") && !file.endsWith(".d.ts") && !file.startsWith(".");
}

/** Largest rule file (or helper) loaded, in bytes. */
export const MAX_RULE_FILE_BYTES = 1024 * 1024;
/** Most module files (rule files and helpers) of one rules directory that are loaded. */
export const MAX_RULE_FILES = 1000;

/** Effects of {@linkcode readSources}. */
export interface ReadSourcesOptions {
  readDir?: (dir: string) => Iterable<Deno.DirEntry> | AsyncIterable<Deno.DirEntry>;
  readTextFile?: (path: string) => Promise<string>;
  stat?: (path: string) => Promise<Deno.FileInfo>;
  realPath?: (path: string) => Promise<string>;
}

/** What {@linkcode readSources} found: the files, and problems of the directory as a whole. */
export interface RuleSources {
  files: Map<string, RuleSource>;
  problems: RuleProblem[];
}

/**
 * Reads and transpiles every module file of `dir`. `previous` lets unchanged files skip the
 * transpiler. A missing directory is an empty rule set. A file is refused (a problem, not
 * loaded) when it is larger than MAX_RULE_FILE_BYTES or a symlink leading outside `dir`; a
 * symlink within `dir` is followed (it loads under its own name). Beyond MAX_RULE_FILES
 * files, the rest (by name) are not loaded: one problem says so.
 */
export async function readSources(
  dir: string,
  previous: ReadonlyMap<string, RuleSource> = new Map(),
  options: ReadSourcesOptions = {},
): Promise<RuleSources> {
  const readDir = options.readDir ?? Deno.readDir;
  const readTextFile = options.readTextFile ?? Deno.readTextFile;
  const stat = options.stat ?? Deno.stat;
  const realPath = options.realPath ?? Deno.realPath;
  const files = new Map<string, RuleSource>();
  const problems: RuleProblem[] = [];
  const names: string[] = [];
  const links: string[] = [];
  try {
    for await (const e of readDir(dir)) {
      if (!isModuleFile(e.name)) continue;
      if (e.isFile) names.push(e.name);
      else if (e.isSymlink) links.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { files, problems };
    throw e;
  }
  const refuse = (file: string, message: string) =>
    files.set(file, {
      file,
      text: "",
      js: null,
      problem: { file, path: join(dir, file), line: 1, column: 1, message },
    });
  if (links.length !== 0) {
    let root = dir;
    try {
      root = await realPath(dir);
    } catch { /* compared as given */ }
    for (const file of links) {
      let target: string;
      try {
        target = await realPath(join(dir, file));
      } catch (e) {
        refuse(file, `is a symlink that cannot be followed (${(e as Error).message}): not loaded`);
        continue;
      }
      if (!target.startsWith(root + "/") || target.slice(root.length + 1).includes("/")) {
        refuse(
          file,
          `is a symlink to ${target}, outside the rules directory: not loaded (a rule file ` +
            "must be in the rules directory; a symlink may point only to a file beside it)",
        );
        continue;
      }
      names.push(file);
    }
  }
  names.sort();
  if (names.length > MAX_RULE_FILES) {
    const skipped = names.splice(MAX_RULE_FILES);
    problems.push({
      file: "",
      path: dir,
      line: 1,
      column: 1,
      message: `holds ${names.length + skipped.length} rule files; at most ${MAX_RULE_FILES} ` +
        `are loaded (the first by name): ${skipped.length} were not, from ${skipped[0]} on`,
    });
  }
  for (const file of names) {
    const path = join(dir, file);
    let text: string;
    try {
      const info = await stat(path);
      if (!info.isFile) continue;
      if (info.size > MAX_RULE_FILE_BYTES) {
        refuse(
          file,
          `is ${info.size} bytes; a rule file may be at most ${MAX_RULE_FILE_BYTES} bytes ` +
            "(1 MiB): not loaded",
        );
        continue;
      }
      text = await readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // deleted meanwhile
      refuse(file, `cannot read: ${(e as Error).message}`);
      continue;
    }
    if (text.length > MAX_RULE_FILE_BYTES) { // grew since the stat
      refuse(file, `is larger than ${MAX_RULE_FILE_BYTES} bytes (1 MiB): not loaded`);
      continue;
    }
    const before = previous.get(file);
    if (before && before.text === text) {
      files.set(file, before);
      continue;
    }
    await loadTranspiler();
    files.set(file, compile(dir, file, text));
  }
  return { files, problems };
}

/** Transpiles one file's text (after {@linkcode loadTranspiler}). */
export function compile(dir: string, file: string, text: string): RuleSource {
  try {
    return { file, text, js: transpileRule(text, file), problem: null };
  } catch (e) {
    if (!(e instanceof RuleLoadError)) throw e;
    return {
      file,
      text,
      js: null,
      problem: { file, path: join(dir, file), line: e.line, column: e.column, message: e.message },
    };
  }
}
