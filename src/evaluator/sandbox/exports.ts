/**
 * The export shape of a rule file: `metrics` and/or `notifications`, each one handler function
 * or an object of named handlers, each a function or `{ handle, plugin?, type? }` naming the
 * plugins and types it reads (docs/rules.md "A rule file"). Reading the exports runs rule
 * getters: the caller does it inside the file's watched load time.
 * @module
 */

/** A handler as a rule file exports it. */
export interface Exported {
  name: string;
  file: string;
  fn: (item: unknown, ctx: unknown) => unknown;
  kind: "metric" | "notification";
  /** The plugins whose items it is called for (`plugin`); null: every plugin. */
  plugins: readonly string[] | null;
  /** The types whose items it is called for (`type`); null: every type. */
  types: readonly string[] | null;
}

/** Most names a handler's `plugin` or `type` may list. */
const MAX_NAMES = 64;

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
      out.push({
        name: `${file}::${kind}::default`,
        file,
        fn: value as Exported["fn"],
        kind,
        plugins: null,
        types: null,
      });
    } else if (value !== null && typeof value === "object") {
      for (const [name, member] of Object.entries(value)) {
        const where = `\`${exportName}.${name}\``;
        const h = typeof member === "function"
          ? { fn: member as Exported["fn"], plugins: null, types: null }
          : declared(member, where, exportName, name);
        out.push({ name: `${file}::${kind}::${name}`, file, kind, ...h });
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

/** A handler given as `{ handle, plugin?, type? }` (own data properties only, nothing else). */
function declared(member: unknown, where: string, exportName: string, name: string) {
  const fail = (why: string) => new ShapeError(`${where} ${why}`, exportName, name);
  if (member === null || typeof member !== "object") {
    throw fail(
      `is not a function or { handle, plugin?, type? } (it is ${
        member === null ? "null" : typeof member
      })`,
    );
  }
  const fields = new Map<string, unknown>();
  for (const key of Reflect.ownKeys(member)) {
    if (key !== "handle" && key !== "plugin" && key !== "type") {
      throw fail(`has ${String(key)}: a handler object has only handle, plugin and type`);
    }
    const d = Object.getOwnPropertyDescriptor(member, key);
    if (d === undefined || !("value" in d)) throw fail(`has a getter for ${key}: give a value`);
    fields.set(key, d.value);
  }
  const fn = fields.get("handle");
  if (typeof fn !== "function") throw fail("has no handle function");
  return {
    fn: fn as Exported["fn"],
    plugins: names(fields.get("plugin"), "plugin", fail),
    types: names(fields.get("type"), "type", fail),
  };
}

/** `plugin`/`type` of a handler object: a name or a list of names; undefined: every one. */
function names(
  v: unknown,
  field: string,
  fail: (why: string) => ShapeError,
): readonly string[] | null {
  if (v === undefined) return null;
  const list = typeof v === "string" ? [v] : Array.isArray(v) ? [...v] : null;
  if (
    list === null || list.length === 0 || list.length > MAX_NAMES ||
    !list.every((x) => typeof x === "string" && x !== "")
  ) {
    throw fail(`has a ${field} that is not a name or a list of 1-${MAX_NAMES} names`);
  }
  return Object.freeze(list as string[]);
}
