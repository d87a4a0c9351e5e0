/**
 * Module loading in the rule worker: imports each transpiled file from a `blob:` URL (its
 * default export is the CommonJS-style factory `_transpile.ts` wraps it in) and instantiates a
 * rule file with a `require` that resolves sibling files only (fresh copies per rule file, so
 * two rule files share nothing). The export shape is checked by `exports.ts`; errors are told
 * with stacks mapped back to rule files by `errors.ts` (no error text shows an internal URL).
 * @module
 */
import type { Glue } from "./enclose.ts";
import { createDescriber, type Described } from "./errors.ts";
import { collectHandlers } from "./exports.ts";

type Factory = (require: (spec: unknown) => unknown, module: Module, exports: unknown) => void;
interface Module {
  exports: unknown;
}

const SIBLING = /^\.\/([A-Za-z0-9_.@-]+?)(?:\.ts|\.js)?$/;

/** The loader of one worker. `glue` gets its stack formatter. */
export function createLoader(glue: Glue) {
  let factories = new Map<string, Factory>();
  const moduleJs = new Map<string, string>();
  const errors = createDescriber(glue);
  const describe = errors.describe;

  /**
   * Imports every module (no rule code runs: each is a factory). `progress(i)` is called
   * before module `i` of `modules` (by insertion order); resolves to the files that failed.
   */
  async function importAll(
    modules: Record<string, string>,
    progress: (file: string) => void,
  ): Promise<Map<string, Described>> {
    const next = new Map<string, Factory>();
    const failed = new Map<string, Described>();
    for (const [file, js] of Object.entries(modules)) {
      progress(file);
      if (moduleJs.get(file) === js && factories.has(file)) {
        next.set(file, factories.get(file)!); // unchanged: the module imported before
        continue;
      }
      const url = glue.moduleUrl(js);
      errors.name(url, file);
      moduleJs.set(file, js);
      try {
        const m = await import(url);
        next.set(file, m.default as Factory);
      } catch (e) {
        failed.set(file, describe(e));
      }
    }
    factories = next;
    return failed;
  }

  /** Runs a rule file and the sibling files it requires (fresh copies, CommonJS semantics). */
  function instantiate(file: string): { exports: unknown; sig: string } {
    const cache = new Map<string, Module>();
    const used: string[] = [];
    const load = (name: string): unknown => {
      const hit = cache.get(name);
      if (hit) return hit.exports;
      const factory = factories.get(name);
      if (factory === undefined) throw new Error(`cannot load ${name}`);
      const module: Module = { exports: {} };
      cache.set(name, module);
      used.push(name);
      const require = (spec: unknown) => {
        const text = typeof spec === "string" ? spec : "(not a string)";
        const m = SIBLING.exec(text);
        if (!m) {
          throw new Error(
            `cannot import "${text}": a rule may import only sibling files of the rules ` +
              `directory ("./name.ts"); files elsewhere, npm:, jsr:, node: and URL imports are denied`,
          );
        }
        const target = m[1] + ".ts";
        if (!factories.has(target)) {
          throw new Error(`cannot import "${text}": there is no ${target} in the rules directory`);
        }
        return load(target);
      };
      factory(require, module, module.exports);
      return module.exports;
    };
    const exports = load(file);
    const sig = used.sort().map((u) => u + "\0" + moduleJs.get(u)).join("\0");
    return { exports, sig };
  }

  return {
    importAll,
    instantiate,
    /** The handlers a rule file exports (reads the exports: rule getters run here). */
    collect: collectHandlers,
    describe,
  };
}

/** What {@linkcode createLoader} returns. */
export type Loader = ReturnType<typeof createLoader>;
