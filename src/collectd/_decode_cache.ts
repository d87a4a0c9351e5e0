/**
 * The decoder's caches, so that decoding a packet allocates no string, dstypes array or name
 * list it made before: string parts by their bytes, dstypes arrays by their type codes,
 * positional data-source names by count. Module state, bounded; pure (no I/O).
 * @module
 */
import type { DsType } from "../model/mod.ts";
import { HEADER_SIZE } from "./_protocol.ts";

const CODE_NAMES: DsType[] = ["counter", "gauge", "derive", "absolute"];
const dsTypeCache = new Map<number, readonly DsType[]>();

/** The frozen dstypes array of `n` type codes at `at` (`sig`: the first 12 codes, 2 bits each). */
export function dsTypesFor(
  n: number,
  sig: number,
  bytes: Uint8Array,
  at: number,
): readonly DsType[] {
  const key = sig * 16 + n;
  let t = dsTypeCache.get(key);
  if (t === undefined) {
    t = Object.freeze(buildDsTypes(n, bytes, at));
    // bounded: hostile packets could otherwise fill it with every combination of types
    if (dsTypeCache.size < 4096) dsTypeCache.set(key, t);
  }
  return t;
}

/** A new dstypes array of the `n` type codes at `at`. */
export function buildDsTypes(n: number, bytes: Uint8Array, at: number): DsType[] {
  const out: DsType[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = CODE_NAMES[bytes[at + i]!]!;
  return out;
}

const positional: (readonly string[])[] = [];

/** `value`, or `value0`, `value1`, ...: the names of a type missing from types.db. */
export function positionalNames(n: number): readonly string[] {
  let p = positional[n];
  if (p === undefined) {
    const names = n === 1 ? ["value"] : Array.from({ length: n }, (_, i) => `value${i}`);
    p = Object.freeze(names);
    if (n < 256) positional[n] = p;
  }
  return p;
}

// String parts repeat across packets (same hosts, plugins, types): a small direct-mapped cache
// per field (hash of the bytes → bytes + string) returns the same string object for the same
// bytes, without allocating; the rate tracker's map lookups then reuse its cached hash. The
// cached bytes sit in one flat buffer, a slot per 64 bytes (one cache line: a lookup touches
// one line, not an array, a typed array and its store); longer strings are not cached.
const CACHE_SLOTS = 512;
const SLOT_BYTES = 64;
// one cache per string field (host, plugin, plugin_instance, type, type_instance, message)
const cacheFlat = new Uint8Array(6 * CACHE_SLOTS * SLOT_BYTES);
const cacheLen = new Int32Array(6 * CACHE_SLOTS).fill(-1);
const cacheStr: string[] = new Array(6 * CACHE_SLOTS).fill("");
const utf8 = new TextDecoder("utf-8");

/**
 * The string of a string part (up to its first NUL), or null when collectd would reject it:
 * length ≤ 4, payload larger than `max`, or last byte not NUL. `field` (0–5, the decoder's
 * field slot) picks the cache.
 */
export function readString(
  bytes: Uint8Array,
  off: number,
  len: number,
  max: number,
  field: number,
): string | null {
  const size = len - HEADER_SIZE;
  if (size <= 0 || size > max || bytes[off + len - 1] !== 0) return null;
  const start = off + HEADER_SIZE;
  let stop = start;
  let h = 0x811c9dc5;
  let high = 0;
  for (let b = bytes[stop]!; b !== 0; b = bytes[++stop]!) {
    h = Math.imul(h ^ b, 0x01000193);
    high |= b;
  }
  const n = stop - start;
  const slot = field * CACHE_SLOTS + ((h ^ (h >>> 15) ^ n) & (CACHE_SLOTS - 1));
  const at = slot * SLOT_BYTES;
  if (cacheLen[slot] === n) {
    let i = 0;
    while (i < n && cacheFlat[at + i] === bytes[start + i]) i++;
    if (i === n) return cacheStr[slot]!;
  }
  const view = bytes.subarray(start, stop);
  const s = high < 0x80
    ? String.fromCharCode.apply(null, view as unknown as number[])
    : utf8.decode(view);
  if (n < SLOT_BYTES) {
    cacheFlat.set(view, at);
    cacheLen[slot] = n;
    cacheStr[slot] = s;
  }
  return s;
}
