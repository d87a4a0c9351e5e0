/**
 * Reading types.db files: collectd's installed one by default, or the files `TypesDB` names.
 * @module
 */
import { parseTypesDb, type TypesDb } from "./types_db.ts";

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
      } catch (e) {
        // not installed there: the next location. Anything else (e.g. the permission flags do
        // not grant it) is reported, never taken for "not installed".
        if (!(e instanceof Deno.errors.NotFound)) {
          throw new Error(`Cannot read types.db ${p}: ${(e as Error).message}`, { cause: e });
        }
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
