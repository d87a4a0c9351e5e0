/**
 * The export shape of a rule file: `metrics` and/or `notifications`, each one handler function
 * or an object of named handler functions (docs/rules.md "A rule file"). Reading the exports
 * runs rule getters: the caller does it inside the file's watched load time.
 * @module
 */

/** A handler as a rule file exports it. */
export interface Exported {
  name: string;
  file: string;
  fn: (item: unknown, ctx: unknown) => unknown;
  kind: "metric" | "notification";
}

/** A wrong export shape (not an exception of the rule's code). */
export class ShapeError {
  constructor(
    readonly shape: string,
    readonly exportName: string,
    readonly member?: string,
  ) {}
}

/** Most handlers one rule file may export (more is a load problem of that file). */
export const MAX_HANDLERS_PER_FILE = 200;

/** The handlers rule file `file` exports; throws {@linkcode ShapeError} on a wrong shape. */
export function collectHandlers(file: string, exports: unknown): Exported[] {
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
