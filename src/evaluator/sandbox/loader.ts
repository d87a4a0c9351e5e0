/**
 * Module loading in the rule worker: imports each transpiled file from a `blob:` URL (its
 * default export is the CommonJS-style factory `_transpile.ts` wraps it in), instantiates a
 * rule file with a `require` that resolves sibling files only (fresh copies per rule file, so
 * two rule files share nothing), checks the export shape, and maps stack frames back to rule
 * files (`file.ts:line:column`). No error text shows an internal URL.
 * @module
 */
import type { CallSite, Glue } from "./enclose.ts";

/** A handler as a rule file exports it. */
export interface Exported {
  name: string;
  file: string;
  fn: (item: unknown, ctx: unknown) => unknown;
  kind: "metric" | "notification";
}

/** An error (or thrown value) as the agent is told about it. */
export interface Described {
  message: string;
  stack: string;
  line: number | undefined;
  file: string | undefined;
}

/** A wrong export shape (not an exception of the rule's code). */
export class ShapeError {
  constructor(
    readonly shape: string,
    readonly exportName: string,
    readonly member?: string,
  ) {}
}

type Factory = (require: (spec: unknown) => unknown, module: Module, exports: unknown) => void;
interface Module {
  exports: unknown;
}
interface RuleFrame {
  fn: string | null;
  file: string;
  line: number | null;
  column: number | null;
}

/** Most handlers one rule file may export (more is a load problem of that file). */
export const MAX_HANDLERS_PER_FILE = 200;

/** A module URL from `Glue.moduleUrl` (as it shows in stacks and messages). */
const BLOB_URL = /blob:null\/[0-9a-f-]{36}/g;

const SIBLING = /^\.\/([A-Za-z0-9_.@-]+?)(?:\.ts|\.js)?$/;

/** The loader of one worker. `glue` gets its stack formatter. */
export function createLoader(glue: Glue) {
  const urlFile = new Map<string, string>();
  const fileUrl = new Map<string, string>();
  let factories = new Map<string, Factory>();
  const moduleJs = new Map<string, string>();
  const frames = new WeakMap<object, RuleFrame[]>();

  // Stacks name rule files (file:line:column of the source), never data: URLs or glue frames.
  glue.setStackMapper((err, callSites) => {
    const where: RuleFrame[] = [];
    for (const f of callSites) {
      const file = urlFile.get(String(f.getFileName()));
      if (file !== undefined) {
        where.push({
          fn: f.getFunctionName(),
          file,
          line: f.getLineNumber(),
          column: f.getColumnNumber(),
        });
      }
    }
    if (typeof err === "object" && err !== null) frames.set(err, where);
    const e = err as { name?: unknown; message?: unknown } | null;
    const head = `${safeString(e?.name ?? "Error")}: ${safeString(e?.message ?? err)}`;
    return [
      head,
      ...where.map((w) => `    at ${w.fn ?? "<anonymous>"} (${w.file}:${w.line}:${w.column})`),
    ]
      .join("\n");
  });

  /** `text` with every module URL replaced by its rule file's name. */
  function unurl(text: string): string {
    if (!text.includes("blob:") && !text.includes("data:")) return text;
    return text.replace(BLOB_URL, (url) => urlFile.get(url) ?? "<sandbox>")
      .replace(/data:text\/javascript\S*/g, "<sandbox>");
  }

  /** What the agent is told about a thrown value (no user code runs outside try/catch). */
  function describe(e: unknown): Described {
    if (e instanceof Error) {
      const stack = unurl(safeString(e.stack));
      const frame = frames.get(e)?.[0];
      let message = unurl(`${safeString(e.name)}: ${safeString(e.message)}`);
      let line = frame?.line ?? undefined;
      let file = frame?.file;
      // A module that does not compile (V8 names the place in the message).
      const at = /\(?([A-Za-z0-9_.@-]+\.ts):(\d+):(\d+)\)?$/.exec(message);
      if (at && fileUrl.has(at[1]!)) {
        file = at[1]!;
        line = Number(at[2]);
        message = message.slice(0, at.index).trimEnd().replace(/\s+at$/, "");
      }
      if (/await is only valid|Unexpected reserved word/.test(message)) {
        message += " (top-level await is not available in rule files: a rule file is loaded " +
          "synchronously and handlers are synchronous)";
      }
      return { message, stack, line, file };
    }
    return {
      message: `threw a non-Error value: ${safeString(e)}`,
      stack: "",
      line: undefined,
      file: undefined,
    };
  }

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
      urlFile.set(url, file);
      fileUrl.set(file, url);
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

  /** The handlers a rule file exports (reads the exports: rule getters run here). */
  function collect(file: string, exports: unknown): Exported[] {
    const out: Exported[] = [];
    const ex = exports as { metrics?: unknown; notifications?: unknown } | null;
    const metrics = ex?.metrics;
    const notifications = ex?.notifications;
    if (metrics === undefined && notifications === undefined) {
      throw new ShapeError(
        "exports neither `metrics` nor `notifications` (each a handler function or an object of named handler functions)",
        "metrics",
      );
    }
    const exported = [["metrics", "metric", metrics], [
      "notifications",
      "notification",
      notifications,
    ]] as const;
    for (const [exportName, kind, value] of exported) {
      if (value === undefined) continue;
      if (typeof value === "function") {
        out.push({ name: `${file}::${kind}::default`, file, fn: value as Exported["fn"], kind });
      } else if (value !== null && typeof value === "object") {
        for (const [name, fn] of Object.entries(value)) {
          if (typeof fn !== "function") {
            throw new ShapeError(
              `\`${exportName}.${name}\` is not a function (it is ${
                fn === null ? "null" : typeof fn
              })`,
              exportName,
              name,
            );
          }
          out.push({ name: `${file}::${kind}::${name}`, file, fn: fn as Exported["fn"], kind });
          if (out.length > MAX_HANDLERS_PER_FILE) {
            throw new ShapeError(
              `exports more than ${MAX_HANDLERS_PER_FILE} handlers (the limit per rule file)`,
              exportName,
            );
          }
        }
      } else {
        throw new ShapeError(
          `\`${exportName}\` must be a handler function or an object of handler functions (it is ${
            value === null ? "null" : typeof value
          })`,
          exportName,
        );
      }
    }
    return out;
  }

  return { importAll, instantiate, collect, describe };
}

/** What {@linkcode createLoader} returns. */
export type Loader = ReturnType<typeof createLoader>;

/** `String(v)` that never throws and never runs a rule's `toString` more than once. */
export function safeString(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return String(v);
  } catch {
    return `[${typeof v}]`;
  }
}

export type { CallSite };
