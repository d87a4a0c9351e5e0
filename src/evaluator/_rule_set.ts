/**
 * The rule set as the agent knows it: every module file of the rules directory as last read
 * (text and JavaScript), the last version of each file that loaded in the rule host (it keeps
 * running while a newer version fails), the handlers running now and the problems an operator
 * sees (`check-config`, `test-rule`, the log).
 * @module
 */
import { join } from "node:path";
import type { Logger } from "../model/mod.ts";
import type { FileResult } from "./_protocol.ts";
import { escapeControl } from "./_rule_log.ts";
import { isRuleFile, readSources, type RuleProblem, type RuleSource } from "./_sources.ts";
import { exportLine } from "./_transpile.ts";

/** Options of {@linkcode RuleSet}. */
export interface RuleSetOptions {
  /** Directory of the rule files. */
  dir: string;
  logger: Logger;
  /** Load only these rule files (basenames). Default: every rule file. */
  only?: string[] | undefined;
  /** Log each new problem and each reloaded file. */
  logProblems: boolean;
}

/** The modules a `load` request carries, and the rule files among them to run. */
export interface ModuleSet {
  modules: Record<string, string>;
  rules: string[];
}

/** The rule files, their versions, the handlers running and the problems (module comment). */
export class RuleSet {
  readonly #o: RuleSetOptions;
  #sources = new Map<string, RuleSource>();
  /** Problems of the rules directory as a whole (too many files). */
  #dirProblems: RuleProblem[] = [];
  /** Last JavaScript of each rule file that loaded, kept while a newer version fails. */
  readonly #good = new Map<string, string>();
  /** Rule files whose current version failed to load in the host. */
  readonly #failedInHost = new Set<string>();
  #problems: RuleProblem[] = [];
  #handlers: string[] = [];

  constructor(options: RuleSetOptions) {
    this.#o = options;
  }

  /** Problems of the rule files as last loaded (syntax, shape, load errors, disabled files). */
  get problems(): readonly RuleProblem[] {
    return this.#problems;
  }

  /** Handlers running now (`file::metric::name`). */
  get handlers(): readonly string[] {
    return this.#handlers;
  }

  /** The rule files (not helper modules) as last read, `only` applied (`agent status`). */
  get ruleFiles(): string[] {
    return [...this.#sources.keys()].filter((f) => isRuleFile(f) && this.#selected(f));
  }

  /** The files as last read. */
  get sources(): ReadonlyMap<string, RuleSource> {
    return this.#sources;
  }

  /**
   * Re-reads the directory (unchanged files skip the transpiler); a deleted file's last good
   * version goes too. Returns the files as they were before, or null when the directory cannot
   * be read (logged; the rule set stays as it was).
   */
  async read(): Promise<ReadonlyMap<string, RuleSource> | null> {
    const before = this.#sources;
    try {
      const read = await readSources(this.#o.dir, before);
      this.#sources = read.files;
      this.#dirProblems = read.problems;
    } catch (e) {
      this.#o.logger.error(`cannot read the rules directory ${this.#o.dir}`, {
        error: (e as Error).message,
      });
      return null;
    }
    for (const file of before.keys()) {
      if (!this.#sources.has(file)) this.#good.delete(file);
    }
    return before;
  }

  /**
   * What to load, leaving out disabled files: each file's current JavaScript, or its last good
   * version where the current one does not transpile. A `fresh` host (a new process) gets the
   * last good version of a file whose new version failed to load, too.
   */
  moduleSet(fresh: boolean, disabled: (name: string) => boolean): ModuleSet {
    const modules: Record<string, string> = {};
    const rules: string[] = [];
    for (const s of this.#sources.values()) {
      if (disabled(s.file)) continue; // (a helper too: its import stalled the host)
      const js = (fresh && this.#failedInHost.has(s.file) ? this.#good.get(s.file) : undefined) ??
        s.js ?? this.#good.get(s.file);
      if (js === undefined) continue;
      modules[s.file] = js;
      if (isRuleFile(s.file) && this.#selected(s.file)) rules.push(s.file);
    }
    return { modules, rules };
  }

  /** Whether `file`'s current version failed (transpile or load) while an older one runs on. */
  failedKeepingOld(file: string): boolean {
    const source = this.#sources.get(file);
    const broken = source !== undefined &&
      (source.js === null || this.#failedInHost.has(file));
    return broken && this.#good.has(file);
  }

  /** Takes in the handlers running after a load (from the `loaded` reply). */
  setHandlers(handlers: string[]): void {
    this.#handlers = handlers;
  }

  /**
   * Takes in each file's result of a load of `modules` (a file that loaded becomes its last
   * good version) and sets the problems, of which each new one is logged. `disabledFiles`: the
   * rule files disabled now, with why.
   */
  noteResults(
    results: FileResult[],
    modules: Record<string, string>,
    disabledFiles: Iterable<[string, string]>,
  ): void {
    const { dir } = this.#o;
    const next: RuleProblem[] = [...this.#dirProblems];
    for (const [file, what] of disabledFiles) {
      if (this.#sources.has(file) && (!isRuleFile(file) || this.#selected(file))) {
        next.push({
          file,
          path: join(dir, file),
          line: 1,
          column: 1,
          message: `${what}: disabled`,
        });
      }
    }
    for (const s of this.#sources.values()) {
      if (s.problem && (isRuleFile(s.file) ? this.#selected(s.file) : true)) {
        next.push({ ...s.problem, message: s.problem.message + this.#keptNote(s.file) });
      }
    }
    this.#failedInHost.clear();
    for (const r of results) {
      if (!r.ok) this.#failedInHost.add(r.file);
      if (r.ok) {
        this.#good.set(r.file, modules[r.file]!);
        continue;
      }
      if (!r.kept) this.#good.delete(r.file);
      const text = this.#sources.get(r.file)?.text ?? "";
      const line = r.line ?? (r.exportName ? exportLine(text, r.exportName, r.member) : 1);
      next.push({
        file: r.file,
        path: join(dir, r.file),
        line,
        column: 1,
        message: r.message + (r.kept ? "; the previous version keeps running" : ""),
      });
    }
    const before = new Set(this.#problems.map(problemKey));
    for (const p of next) {
      if (this.#o.logProblems && !before.has(problemKey(p))) {
        this.#o.logger.error(
          escapeControl(`rule file ${p.path}:${p.line}:${p.column}: ${p.message}`),
          {
            file: escapeControl(p.path),
          },
        );
      }
    }
    this.#problems = next;
  }

  /**
   * One info line per saved or removed file that loaded (unless problems are not logged), so an
   * operator sees a fix took.
   */
  logReloaded(before: ReadonlyMap<string, RuleSource>): void {
    const { dir, logger: log } = this.#o;
    if (!this.#o.logProblems) return;
    const total = this.#handlers.length;
    for (const [file, s] of this.#sources) {
      if (before.get(file)?.text === s.text || this.#problems.some((p) => p.file === file)) {
        continue;
      }
      const path = join(dir, file);
      if (!isRuleFile(file)) log.info("rule helper file reloaded", { file: path, handlers: total });
      else {
        const own = this.#handlers.filter((name) => name.startsWith(`${file}::`)).length;
        log.info("rule file reloaded", { file: path, handlers: own, total_handlers: total });
      }
    }
    for (const file of before.keys()) {
      if (!this.#sources.has(file)) {
        log.info("rule file removed", { file: join(dir, file), handlers: total });
      }
    }
  }

  #selected(file: string): boolean {
    return this.#o.only === undefined || this.#o.only.includes(file);
  }

  #keptNote(file: string): string {
    return this.#good.has(file) ? "; the previous version keeps running" : "";
  }
}

function problemKey(p: RuleProblem): string {
  return `${p.file}:${p.line}:${p.message}`;
}
