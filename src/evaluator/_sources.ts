import { join } from "node:path";
import { RuleLoadError, transpileRule } from "./_transpile.ts";

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

/** Effects of {@linkcode readSources}. */
export interface ReadSourcesOptions {
  readDir?: (dir: string) => Iterable<Deno.DirEntry> | AsyncIterable<Deno.DirEntry>;
  readTextFile?: (path: string) => Promise<string>;
}

/**
 * Reads and transpiles every module file of `dir`. `previous` lets unchanged files skip the
 * transpiler. A missing directory is an empty rule set.
 */
export async function readSources(
  dir: string,
  previous: ReadonlyMap<string, RuleSource> = new Map(),
  options: ReadSourcesOptions = {},
): Promise<Map<string, RuleSource>> {
  const readDir = options.readDir ?? Deno.readDir;
  const readTextFile = options.readTextFile ?? Deno.readTextFile;
  const out = new Map<string, RuleSource>();
  const names: string[] = [];
  try {
    for await (const e of readDir(dir)) {
      if (e.isFile && isModuleFile(e.name)) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return out;
    throw e;
  }
  names.sort();
  for (const file of names) {
    let text: string;
    try {
      text = await readTextFile(join(dir, file));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // deleted meanwhile
      out.set(file, {
        file,
        text: "",
        js: null,
        problem: {
          file,
          path: join(dir, file),
          line: 1,
          column: 1,
          message: `cannot read: ${(e as Error).message}`,
        },
      });
      continue;
    }
    const before = previous.get(file);
    if (before && before.text === text) {
      out.set(file, before);
      continue;
    }
    out.set(file, compile(dir, file, text));
  }
  return out;
}

/** Transpiles one file's text. */
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
