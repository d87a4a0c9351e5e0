import type { DsType } from "../model/mod.ts";

/** One data source of a type, as written in types.db (`rx:DERIVE:0:U`). */
export interface DataSource {
  name: string;
  type: DsType;
  /** NaN for `U` (unbounded). */
  min: number;
  max: number;
}

/** The parsed content of one or more types.db files. */
export interface TypesDb {
  /** The types.db text the lookup was built from (sent to the sandboxed rule host as is). */
  readonly text: string;
  /** Data-source names/types per type name (frozen arrays, shared by every metric). */
  get(type: string): TypeInfo | undefined;
  readonly size: number;
}

/** What the decoder needs of one type. */
export interface TypeInfo {
  readonly sources: readonly DataSource[];
  readonly dsnames: readonly string[];
  readonly dstypes: readonly DsType[];
}

const DS_TYPES: Record<string, DsType> = {
  COUNTER: "counter",
  GAUGE: "gauge",
  DERIVE: "derive",
  ABSOLUTE: "absolute",
};

/**
 * Parses types.db text (collectd's format: `name ds:TYPE:min:max[, ds:TYPE:min:max ...]`, `#`
 * comments). Pure. A malformed line is skipped (like collectd); a later definition of the same
 * type wins. Several files: pass their texts joined with "\n".
 */
export function parseTypesDb(text: string): TypesDb {
  const types = new Map<string, TypeInfo>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const fields = line.split(/[\s,]+/).filter((f) => f !== "");
    const name = fields.shift();
    if (name === undefined || fields.length === 0) continue;
    const sources: DataSource[] = [];
    for (const f of fields) {
      const [dsName, dsType, min, max] = f.split(":");
      const type = DS_TYPES[(dsType ?? "").toUpperCase()];
      if (!dsName || !type || min === undefined || max === undefined) {
        sources.length = 0;
        break;
      }
      sources.push({ name: dsName, type, min: bound(min), max: bound(max) });
    }
    if (sources.length === 0) continue;
    types.set(name, {
      sources: Object.freeze(sources),
      dsnames: Object.freeze(sources.map((s) => s.name)),
      dstypes: Object.freeze(sources.map((s) => s.type)),
    });
  }
  return { text, get: (type) => types.get(type), size: types.size };
}

function bound(s: string): number {
  return s === "U" ? NaN : Number(s);
}

/** collectd's installed types.db (Debian, upstream default prefix). */
export const DEFAULT_TYPES_DB_PATHS = [
  "/usr/share/collectd/types.db",
  "/opt/collectd/share/collectd/types.db",
  // the copy the edge-agent package ships for hosts without collectd
  "/usr/share/edge-agent/types.db",
];

/** Options of {@linkcode loadTypesDb}. */
export interface LoadTypesDbOptions {
  readTextFile?: (path: string) => Promise<string>;
}

/**
 * Reads and parses types.db files. Without `paths`: the first of collectd's default locations
 * that exists (none found: an empty database, every type gets positional names). With `paths`,
 * every file must be readable; the error names the file.
 */
export async function loadTypesDb(
  paths?: readonly string[],
  options: LoadTypesDbOptions = {},
): Promise<TypesDb> {
  const read = options.readTextFile ?? Deno.readTextFile;
  if (paths === undefined) {
    for (const p of DEFAULT_TYPES_DB_PATHS) {
      try {
        return parseTypesDb(await read(p));
      } catch {
        // not installed there; try the next location
      }
    }
    return parseTypesDb("");
  }
  const texts: string[] = [];
  for (const p of paths) {
    try {
      texts.push(await read(p));
    } catch (e) {
      throw new Error(`Cannot read TypesDB file ${p}: ${(e as Error).message}`, { cause: e });
    }
  }
  return parseTypesDb(texts.join("\n"));
}
