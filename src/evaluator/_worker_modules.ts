// deno-lint-ignore-file no-explicit-any
/**
 * Module loading in the rule worker: imports each transpiled file from a `data:` URL (its
 * default export is the CommonJS-style factory), instantiates a rule file with a `require` that
 * resolves sibling files only, checks the export shape, and maps stack frames back to rule
 * files (`file.ts:line:column`). Shipped as source text like {@linkcode workerMain}: must stay
 * self-contained.
 */
export function moduleLoader() {
  /** A handler as a rule file exports it. */
  type Exported = {
    name: string;
    file: string;
    fn: (item: any, ctx: any) => unknown;
    kind: "metric" | "notification";
  };
  const urlFile = new Map<string, string>();
  let factories = new Map<string, (require: unknown, module: unknown, exports: unknown) => void>();
  const moduleJs = new Map<string, string>();

  // Stacks name rule files (file:line:column of the source), never data: URLs or glue frames.
  (Error as any).prepareStackTrace = (err: any, frames: any[]) => {
    const where: any[] = [];
    for (const f of frames) {
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
    try {
      Object.defineProperty(err, "ruleFrames", { value: where });
    } catch { /* frozen error object */ }
    const head = `${err?.name ?? "Error"}: ${err?.message ?? String(err)}`;
    return [
      head,
      ...where.map((w) => `    at ${w.fn ?? "<anonymous>"} (${w.file}:${w.line}:${w.column})`),
    ]
      .join("\n");
  };
  const describe = (e: any) => {
    if (e instanceof Error) {
      const stack = String(e.stack);
      const frame = (e as any).ruleFrames?.[0];
      return { message: `${e.name}: ${e.message}`, stack, line: frame?.line, file: frame?.file };
    }
    return {
      message: `threw a non-Error value: ${String(e)}`,
      stack: "",
      line: undefined,
      file: undefined,
    };
  };

  async function importAll(modules: Record<string, string>) {
    const next = new Map<string, any>();
    const failed: Record<string, any> = {};
    for (const [file, js] of Object.entries(modules)) {
      const url = "data:text/javascript;charset=utf-8," + encodeURIComponent(js);
      urlFile.set(url, file);
      moduleJs.set(file, js);
      try {
        next.set(file, (await import(url)).default);
      } catch (e) {
        failed[file] = describe(e);
      }
    }
    factories = next;
    return failed;
  }

  /** Runs a rule file and the sibling files it requires (fresh copies, CommonJS semantics). */
  function instantiate(file: string) {
    const cache = new Map<string, any>();
    const used = new Set<string>();
    const load = (name: string): any => {
      const hit = cache.get(name);
      if (hit) return hit.exports;
      const factory = factories.get(name);
      if (factory === undefined) throw new Error(`cannot load ${name}`);
      const module = { exports: {} as any };
      cache.set(name, module);
      used.add(name);
      const require = (spec: unknown) => {
        const m = /^\.\/([A-Za-z0-9_.@-]+?)(?:\.ts|\.js)?$/.exec(String(spec));
        if (!m) {
          throw new Error(
            `cannot import "${String(spec)}": a rule may import only sibling files of the rules ` +
              `directory ("./name.ts"); files elsewhere, npm:, jsr:, node: and URL imports are denied`,
          );
        }
        const target = m[1] + ".ts";
        if (!factories.has(target)) {
          throw new Error(
            `cannot import "${String(spec)}": there is no ${target} in the rules directory`,
          );
        }
        return load(target);
      };
      factory(require, module, module.exports);
      return module.exports;
    };
    const exports = load(file);
    const sig = [...used].sort().map((u) => u + "\0" + moduleJs.get(u)).join("\0");
    return { exports, sig };
  }

  function collect(file: string, exports: any) {
    const out: Exported[] = [];
    const metrics = exports?.metrics;
    const notifications = exports?.notifications;
    if (metrics === undefined && notifications === undefined) {
      throw {
        shape:
          "exports neither `metrics` nor `notifications` (each a handler function or an object of named handler functions)",
        exportName: "metrics",
      };
    }
    for (
      const [exportName, kind, value] of [["metrics", "metric", metrics], [
        "notifications",
        "notification",
        notifications,
      ]] as const
    ) {
      if (value === undefined) continue;
      if (typeof value === "function") {
        out.push({ name: `${file}::${kind}::default`, file, fn: value, kind });
      } else if (value !== null && typeof value === "object") {
        for (const [name, fn] of Object.entries(value)) {
          if (typeof fn !== "function") {
            throw {
              shape: `\`${exportName}.${name}\` is not a function (it is ${
                fn === null ? "null" : typeof fn
              })`,
              exportName,
              member: name,
            };
          }
          out.push({ name: `${file}::${kind}::${name}`, file, fn: fn as any, kind });
        }
      } else {
        throw {
          shape:
            `\`${exportName}\` must be a handler function or an object of handler functions (it is ${
              value === null ? "null" : typeof value
            })`,
          exportName,
        };
      }
    }
    return out;
  }

  return { importAll, instantiate, collect, describe };
}

/** What {@linkcode moduleLoader} returns. */
export type ModuleLoader = ReturnType<typeof moduleLoader>;
