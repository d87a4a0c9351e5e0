/**
 * Loading rule files: imports every module, then runs each rule file's top-level code and reads
 * its exports in the file's own watched time (phase 1, its index, the whole load budget each),
 * settling the promise jobs it left. A file that fails keeps its last good version running
 * (`kept`) while the rule set stays within MAX_HANDLERS; an unchanged file (same code and
 * imports) keeps its handlers.
 * @module
 */
import type { ProgressView } from "../_progress.ts";
import { ShapeError } from "./exports.ts";
import type { Jobs } from "./jobs.ts";
import type { Loader } from "./loader.ts";
import type { FileResult, Instance } from "./types.ts";

/** Most handlers of all rule files together (a file that would exceed it is not loaded). */
export const MAX_HANDLERS = 2000;

/** The loaded rule files of one worker. */
export function createRuleFiles(loader: Loader, progress: ProgressView, jobs: Jobs) {
  const slots = progress.slots;
  const { PHASE, INDEX } = progress;
  let instances = new Map<string, Instance>();
  /** The rule file whose top-level code runs now (for console lines). */
  let loading: string | undefined;
  let loadBudgetMs = 2000;

  /** Loads rule files `rules` from `modules`; returns each one's result. */
  async function load(modules: Record<string, string>, rules: string[]): Promise<FileResult[]> {
    const at = new Map(Object.keys(modules).map((f, i) => [f, i]));
    const enter = (file: string) => {
      slots[PHASE] = 1;
      slots[INDEX] = at.get(file) ?? -1;
      loading = file;
      progress.begin(-1, loadBudgetMs); // each file has the whole budget
    };
    const failedImport = await loader.importAll(modules, enter);
    slots[PHASE] = 0;
    jobs.forget(); // only the glue's own (no rule code runs while modules are imported)
    const results: FileResult[] = [];
    const next = new Map<string, Instance>();
    let total = 0;
    for (const file of rules) {
      const old = instances.get(file);
      let result: FileResult = { file, ok: true };
      try {
        const failed = failedImport.get(file);
        if (failed !== undefined) throw failed; // its module did not even import
        enter(file);
        const { exports, sig } = loader.instantiate(file);
        const inst = old && old.sig === sig
          ? old
          : { file, sig, handlers: loader.collect(file, exports) };
        await jobs.settle();
        if (total + inst.handlers.length > MAX_HANDLERS) {
          throw new ShapeError(
            `exports ${inst.handlers.length} handlers, which would bring the rule set to more ` +
              `than ${MAX_HANDLERS} handlers (the limit of all rule files together)`,
            "metrics",
          );
        }
        total += inst.handlers.length;
        next.set(file, inst);
      } catch (e) {
        result = fileProblem(loader, file, e, failedImport.get(file));
        if (old && total + old.handlers.length <= MAX_HANDLERS) {
          next.set(file, old);
          total += old.handlers.length;
          result.kept = true;
        }
      }
      slots[PHASE] = 0;
      loading = undefined;
      results.push(result);
    }
    instances = next;
    return results;
  }

  return {
    /** Sets the load budget of each rule file, in ms (a `configure` request). */
    configure(budgetMs: number): void {
      loadBudgetMs = budgetMs;
    },
    load,
    /** The loaded rule files, in load order. */
    get instances(): Iterable<Instance> {
      return instances.values();
    },
    /** The rule file whose top-level code runs now. */
    get loading(): string | undefined {
      return loading;
    },
  };
}

/** What the load of `file` came to when it threw `e` (`failed`: its import's description). */
function fileProblem(loader: Loader, file: string, e: unknown, failed: unknown): FileResult {
  if (e instanceof ShapeError) {
    return {
      file,
      ok: false,
      message: e.shape,
      exportName: e.exportName,
      member: e.member,
    };
  }
  const d = failed !== undefined ? e as ReturnType<Loader["describe"]> : loader.describe(e);
  return {
    file,
    ok: false,
    message: d.message,
    line: d.file === file ? d.line : undefined,
    stack: d.stack,
  };
}
