/**
 * collectd's types.db: the data-source names and types of each value-list type. Pure (no I/O):
 * the rule worker parses the text the agent sends it; `load_types_db.ts` reads the files.
 * @module
 */
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
