import type { DsType, Metric, MetricValue, Notification, Severity } from "../model/mod.ts";
import {
  DsCode,
  ENCR_HEADER_SIZE,
  HEADER_SIZE,
  HR_PER_SECOND,
  MAX_MESSAGE,
  MAX_NAME,
  NUMBER_PART_SIZE,
  Part,
  SIGN_HEADER_SIZE,
} from "./_protocol.ts";

/**
 * The whole pure collectd decoder (packet decoding, rates, types.db parsing) as ONE
 * self-contained function, so that it can be shipped as source text into a sandboxed worker
 * created from a `data:` URL ({@linkcode decoderSource}), where nothing can be imported.
 * `decode.ts`, `rates.ts` and `types_db.ts` export the members of one instance of it: there is
 * no other copy of the decoder.
 *
 * Rule for editing {@linkcode decoderRuntime}: its body references only its parameter and
 * JavaScript/web globals (DataView, TextDecoder, Map, WeakMap, BigInt, Object, Math...); no
 * imports and no module-level values (types are fine, they are erased). The worker test
 * (tests/collectd/decoder_runtime_test.ts) fails with a ReferenceError otherwise.
 * @module
 */

/** The protocol constants the decoder needs (from `_protocol.ts`), as plain JSON-able data. */
export const DECODER_PROTOCOL = {
  Part,
  DsCode,
  HEADER_SIZE,
  NUMBER_PART_SIZE,
  MAX_NAME,
  MAX_MESSAGE,
  SIGN_HEADER_SIZE,
  ENCR_HEADER_SIZE,
  HR_PER_SECOND,
} as const;
export type ProtocolConstants = typeof DECODER_PROTOCOL;

/** The decoder object {@linkcode decoderRuntime} returns (and `decoderSource()` evaluates to). */
export type DecoderRuntime = ReturnType<typeof decoderRuntime>;

/**
 * A JavaScript expression that evaluates to a {@linkcode DecoderRuntime} wherever it runs, e.g.
 * `"const collectd = " + decoderSource() + ";"` at the top of a worker's source.
 */
export function decoderSource(): string {
  return `(${decoderRuntime.toString()})(${JSON.stringify(DECODER_PROTOCOL)})`;
}

/** Why (part of) a packet was not turned into metrics/notifications. */
export type DropReason = DecoderRuntime["DROP_REASONS"][number];

/** What one or more decodePacket() calls produced and dropped. */
export interface DecodeStats {
  metrics: number;
  values: number;
  notifications: number;
  /** Unknown parts and (already handled) signature/encryption parts stepped over. */
  skippedParts: number;
  dropped: Record<DropReason, number>;
}

/** Receives what a packet holds, in packet order. */
export interface PacketVisitor {
  metric(m: Metric): void;
  notification(n: Notification): void;
}

/** Options of `decodePacket()`. */
export interface DecodeOptions {
  /** Data-source names (and value counts) per type. Without it every type is "unknown". */
  typesDb?: TypesDb;
  /** Fills `metric.rates`; without it every rate is null. */
  rates?: RateTracker;
  /** Accumulate into this object instead of a new one (no allocation per packet). */
  stats?: DecodeStats;
  /**
   * Called the first time a type missing from `typesDb` is seen (per TypesDb object); its
   * values keep positional names (`value`, or `value0`, `value1`, ...).
   */
  onUnknownType?: (type: string) => void;
}

/** Per-second rates of COUNTER and DERIVE values (see `RateTracker` in `rates.ts`). */
export type RateTracker = InstanceType<DecoderRuntime["RateTracker"]>;

/** Options of `RateTracker`. */
export interface RateTrackerOptions {
  /** Series not updated for this many seconds (of metric time) are forgotten. Default 3600. */
  expireAfter?: number;
  /**
   * Upper bound on tracked series (a hostile sender can invent series); reaching it forgets
   * every series (rates restart after one sample). Default 250 000 (about 60 MB).
   */
  maxSeries?: number;
}

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

/**
 * Builds the decoder: `decodePacket`, `createDecodeStats`, `DROP_REASONS`, `RateTracker`,
 * `parseTypesDb`. Each call has its own caches (strings, dstypes, unknown types warned about).
 * Self-contained: see the module comment before editing.
 */
export function decoderRuntime(protocol: ProtocolConstants) {
  const {
    Part,
    DsCode,
    HEADER_SIZE,
    NUMBER_PART_SIZE,
    MAX_NAME,
    MAX_MESSAGE,
    SIGN_HEADER_SIZE,
    ENCR_HEADER_SIZE,
    HR_PER_SECOND,
  } = protocol;
  const TWO_32 = 4294967296;
  const TWO_64 = 18446744073709551616n;

  // ---- decodePacket ----------------------------------------------------------------------

  const DROP_REASONS = [
    /** A part's length runs past the end of the packet, or bytes are left over after the last part. */
    "truncated",
    /** A part's length field is below 4 (zero-length part): collectd stops there. */
    "bad_part_length",
    /** A string part without NUL, too long, or empty. */
    "bad_string",
    /** A time/interval/severity part whose length is not 12 (collectd issue #4415). */
    "bad_number",
    /** A values part whose count disagrees with its length, or with an unknown type code. */
    "bad_values",
    /** A value list without time, host, plugin or type (collectd does not dispatch it). */
    "incomplete",
    /** A notification with unknown severity, no time or an empty message. */
    "bad_notification",
    /** The number of values differs from the type's data sources in types.db. */
    "types_db_mismatch",
    /** A signature or encryption part too short to be one. */
    "bad_security_part",
  ] as const;

  /** A zeroed {@linkcode DecodeStats}. */
  function createDecodeStats(): DecodeStats {
    const dropped = {} as Record<DropReason, number>;
    for (const r of DROP_REASONS) dropped[r] = 0;
    return { metrics: 0, values: 0, notifications: 0, skippedParts: 0, dropped };
  }

  /** Field slots of the string cache and of the per-packet state. */
  const HOST = 0, PLUGIN = 1, PLUGIN_INSTANCE = 2, TYPE = 3, TYPE_INSTANCE = 4, MESSAGE = 5;
  const STRING_PART_FIELD: Record<number, number> = {
    [Part.HOST]: HOST,
    [Part.PLUGIN]: PLUGIN,
    [Part.PLUGIN_INSTANCE]: PLUGIN_INSTANCE,
    [Part.TYPE]: TYPE,
    [Part.TYPE_INSTANCE]: TYPE_INSTANCE,
    [Part.MESSAGE]: MESSAGE,
  };

  /**
   * Decodes one plaintext collectd packet (after the security stage) the way collectd 5.12's
   * `parse_packet` does: parts are applied in order with delta encoding (a part sets a field that
   * later value lists and notifications in the same packet inherit), unknown parts are skipped,
   * signature and encryption parts are stepped over (they were verified/decrypted before; the
   * plaintext they held arrives as a packet of its own). A malformed string, number or values
   * part ends the packet (what came before it stays delivered), like collectd.
   *
   * Pure (no I/O, no Deno APIs); never throws on any input; no work proportional to anything but
   * the packet length.
   */
  function decodePacket(
    bytes: Uint8Array,
    visitor: PacketVisitor,
    options: DecodeOptions = {},
  ): DecodeStats {
    const stats = options.stats ?? createDecodeStats();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = bytes.length;
    const str = ["", "", "", "", "", ""];
    let time = 0;
    let interval = 0;
    let severity = 0;
    let off = 0;
    let ok = true;
    while (end - off > HEADER_SIZE) {
      const type = view.getUint16(off);
      const len = view.getUint16(off + 2);
      const remaining = end - off;
      if (len > remaining) break; // counted as truncated below
      if (len < HEADER_SIZE) {
        stats.dropped.bad_part_length++;
        ok = false;
        break;
      }
      const field = STRING_PART_FIELD[type];
      if (field !== undefined) {
        const s = readString(bytes, off, len, field === MESSAGE ? MAX_MESSAGE : MAX_NAME, field);
        if (s === null) {
          stats.dropped.bad_string++;
          ok = false;
          break;
        }
        str[field] = s;
        if (field === MESSAGE) notify(s);
      } else if (
        type === Part.TIME || type === Part.TIME_HR || type === Part.INTERVAL ||
        type === Part.INTERVAL_HR || type === Part.SEVERITY
      ) {
        if (len !== NUMBER_PART_SIZE) {
          stats.dropped.bad_number++;
          ok = false;
          break;
        }
        const hi = view.getUint32(off + 4);
        const lo = view.getUint32(off + 8);
        if (type === Part.TIME) time = hi * TWO_32 + lo;
        else if (type === Part.TIME_HR) time = hi * 4 + lo / HR_PER_SECOND;
        else if (type === Part.INTERVAL) interval = hi * TWO_32 + lo;
        else if (type === Part.INTERVAL_HR) interval = hi * 4 + lo / HR_PER_SECOND;
        else severity = lo | 0;
      } else if (type === Part.VALUES) {
        if (!values(off, len, remaining)) {
          stats.dropped.bad_values++;
          ok = false;
          break;
        }
      } else if (type === Part.SIGN_SHA256 || type === Part.ENCR_AES256) {
        const min = type === Part.SIGN_SHA256 ? SIGN_HEADER_SIZE : ENCR_HEADER_SIZE;
        if (len <= min) {
          stats.dropped.bad_security_part++;
          ok = false;
          break;
        }
        stats.skippedParts++;
      } else {
        stats.skippedParts++;
      }
      off += len;
    }
    if (ok && off < end) stats.dropped.truncated++;
    return stats;

    function notify(message: string): void {
      if (severity !== 1 && severity !== 2 && severity !== 4) {
        stats.dropped.bad_notification++;
      } else if (time === 0 || message === "") {
        stats.dropped.bad_notification++;
      } else {
        stats.notifications++;
        visitor.notification({
          host: str[HOST]!,
          plugin: str[PLUGIN]!,
          plugin_instance: str[PLUGIN_INSTANCE]!,
          type: str[TYPE]!,
          type_instance: str[TYPE_INSTANCE]!,
          time,
          severity: severity as Severity,
          message,
        });
      }
    }

    /** Reads a values part; false when malformed (ends the packet). */
    function values(off: number, len: number, remaining: number): boolean {
      if (remaining < 15) return false;
      const n = view.getUint16(off + 4);
      const expected = 6 + 9 * n;
      if (remaining < expected || len !== expected) return false;
      if (n === 0) return stats.dropped.bad_values++, true; // collectd drops it at dispatch
      const codesAt = off + 6;
      let sig = 0;
      let hasRate = false;
      for (let i = 0; i < n; i++) {
        const c = bytes[codesAt + i]!;
        if (c > DsCode.ABSOLUTE) return false;
        if (c === DsCode.COUNTER || c === DsCode.DERIVE) hasRate = true;
        if (i < 12) sig = sig * 4 + c;
      }
      const host = str[HOST]!, plugin = str[PLUGIN]!, type = str[TYPE]!;
      if (time === 0 || host === "" || plugin === "" || type === "") {
        stats.dropped.incomplete++;
        return true;
      }
      const info = options.typesDb?.get(type);
      let dsnames: readonly string[];
      if (info === undefined) {
        dsnames = positionalNames(n);
        const db = options.typesDb ?? NO_TYPES_DB;
        let seen = warned.get(db);
        if (seen === undefined) warned.set(db, seen = new Set());
        if (!seen.has(type)) {
          if (seen.size < 10_000) seen.add(type);
          options.onUnknownType?.(type);
        }
      } else if (info.dsnames.length !== n) {
        stats.dropped.types_db_mismatch++;
        return true;
      } else {
        dsnames = info.dsnames;
      }
      const dstypes = n <= 12
        ? dsTypesFor(n, sig, bytes, codesAt)
        : buildDsTypes(n, bytes, codesAt);
      const vals: MetricValue[] = new Array(n);
      let at = codesAt + n;
      for (let i = 0; i < n; i++, at += 8) {
        const c = bytes[codesAt + i]!;
        if (c === DsCode.GAUGE) vals[i] = view.getFloat64(at, true);
        else if (c === DsCode.DERIVE) {
          const hi = view.getInt32(at);
          vals[i] = hi >= -SAFE_HI && hi < SAFE_HI
            ? hi * TWO_32 + view.getUint32(at + 4)
            : view.getBigInt64(at);
        } else {
          const hi = view.getUint32(at);
          vals[i] = hi < SAFE_HI ? hi * TWO_32 + view.getUint32(at + 4) : view.getBigUint64(at);
        }
      }
      const rates: (number | null)[] = new Array(n).fill(null);
      const m: Metric = {
        host,
        plugin,
        plugin_instance: str[PLUGIN_INSTANCE]!,
        type,
        type_instance: str[TYPE_INSTANCE]!,
        time,
        interval,
        values: vals,
        dstypes: dstypes as DsType[],
        dsnames: dsnames as string[],
        rates,
      };
      if (hasRate && options.rates !== undefined) options.rates.update(m);
      stats.metrics++;
      stats.values += n;
      visitor.metric(m);
      return true;
    }
  }

  /** A 64-bit integer whose high word is below 2^21 (in magnitude) fits in a double exactly. */
  const SAFE_HI = 0x200000;
  const NO_TYPES_DB = {};
  const warned = new WeakMap<object, Set<string>>();

  const CODE_NAMES: DsType[] = ["counter", "gauge", "derive", "absolute"];
  const dsTypeCache = new Map<number, readonly DsType[]>();

  function dsTypesFor(n: number, sig: number, bytes: Uint8Array, at: number): readonly DsType[] {
    const key = sig * 16 + n;
    let t = dsTypeCache.get(key);
    if (t === undefined) {
      t = Object.freeze(buildDsTypes(n, bytes, at));
      // bounded: hostile packets could otherwise fill it with every combination of types
      if (dsTypeCache.size < 4096) dsTypeCache.set(key, t);
    }
    return t;
  }

  function buildDsTypes(n: number, bytes: Uint8Array, at: number): DsType[] {
    const out: DsType[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = CODE_NAMES[bytes[at + i]!]!;
    return out;
  }

  const positional: (readonly string[])[] = [];
  function positionalNames(n: number): readonly string[] {
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
  const cacheFlat = new Uint8Array(6 * CACHE_SLOTS * SLOT_BYTES);
  const cacheLen = new Int32Array(6 * CACHE_SLOTS).fill(-1);
  const cacheStr: string[] = new Array(6 * CACHE_SLOTS).fill("");
  const utf8 = new TextDecoder("utf-8");

  /**
   * The string of a string part (up to its first NUL), or null when collectd would reject it:
   * length ≤ 4, payload larger than `max`, or last byte not NUL.
   */
  function readString(
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

  // ---- RateTracker -----------------------------------------------------------------------

  interface Series {
    time: number;
    values: MetricValue[];
  }
  type Level = Map<string, Map<string, unknown>>;

  /**
   * Per-second rates of COUNTER and DERIVE values, with state per series
   * (host/plugin-plugin_instance/type-type_instance, one slot per data source). Pure: time comes
   * from the metrics themselves. A COUNTER that went down wrapped: at 32 bits when the previous
   * value fit in 32 bits, else at 64 bits (collectd's `counter_diff`). DERIVE may go down
   * (negative rate). The first sample of a series, a sample not newer than the last one, GAUGE
   * and ABSOLUTE values give `null`.
   */
  class RateTracker {
    // host → plugin → plugin_instance → type → type_instance → series: lookups with the
    // decoder's cached strings (hash computed once), no key string built per value list.
    #root = new Map<string, Level>();
    #size = 0;
    #expireAfter: number;
    #maxSeries: number;
    #lastSweep = 0;

    constructor(options: RateTrackerOptions = {}) {
      this.#expireAfter = options.expireAfter ?? 3600;
      this.#maxSeries = options.maxSeries ?? 250_000;
    }

    /** Number of series tracked. */
    get size(): number {
      return this.#size;
    }

    /**
     * Fills `m.rates` (one slot per value) from the previous sample of the same series, and
     * remembers this one.
     */
    update(m: Metric): void {
      const { values, dstypes, rates, time } = m;
      const n = values.length;
      let hasRate = false;
      for (let i = 0; i < n; i++) {
        const t = dstypes[i];
        rates[i] = null;
        if (t === "counter" || t === "derive") hasRate = true;
      }
      if (!hasRate) return;
      const leaf = this.#leaf(m);
      const s = leaf.get(m.type_instance);
      if (s === undefined || s.values.length !== n) {
        if (this.#size >= this.#maxSeries) this.#trim();
        if (s === undefined) this.#size++;
        leaf.set(m.type_instance, { time, values: values.slice() });
        if (time - this.#lastSweep >= this.#expireAfter) this.#sweep(time);
        return;
      }
      const dt = time - s.time;
      if (dt > 0) {
        for (let i = 0; i < n; i++) {
          const t = dstypes[i];
          let r = NaN;
          if (t === "counter") r = counterDiff(s.values[i]!, values[i]!) / dt;
          else if (t === "derive") r = deriveDiff(s.values[i]!, values[i]!) / dt;
          if (r === r) rates[i] = r; // NaN stays null
          s.values[i] = values[i]!;
        }
        s.time = time;
      }
    }

    // Consecutive value lists of a packet usually share host/plugin/instance/type: remember the
    // last leaf map and reuse it when those four strings are the same.
    #lastKey: [string, string, string, string] = ["", "", "", ""];
    #lastLeaf: Map<string, Series> | null = null;

    #leaf(m: Metric): Map<string, Series> {
      const k = this.#lastKey;
      if (
        this.#lastLeaf !== null && k[0] === m.host && k[1] === m.plugin &&
        k[2] === m.plugin_instance && k[3] === m.type
      ) return this.#lastLeaf;
      const leaf = this.#lookup(m);
      k[0] = m.host, k[1] = m.plugin, k[2] = m.plugin_instance, k[3] = m.type;
      this.#lastLeaf = leaf;
      return leaf;
    }

    #lookup(m: Metric): Map<string, Series> {
      let a = this.#root.get(m.host);
      if (a === undefined) this.#root.set(m.host, a = new Map());
      let b = a.get(m.plugin) as Level | undefined;
      if (b === undefined) a.set(m.plugin, b = new Map());
      let c = b.get(m.plugin_instance) as Level | undefined;
      if (c === undefined) b.set(m.plugin_instance, c = new Map());
      let d = c.get(m.type) as Map<string, Series> | undefined;
      if (d === undefined) c.set(m.type, d = new Map());
      return d;
    }

    /** Forgets series older than expireAfter (walks everything; runs at most once per period). */
    #sweep(now: number): void {
      this.#lastSweep = now;
      this.#lastLeaf = null;
      const walk = (level: Map<string, unknown>, depth: number) => {
        for (const [k, v] of level) {
          if (depth === 4) {
            if (now - (v as Series).time > this.#expireAfter) level.delete(k), this.#size--;
          } else {
            walk(v as Map<string, unknown>, depth + 1);
            if ((v as Map<string, unknown>).size === 0) level.delete(k);
          }
        }
      };
      walk(this.#root, 0);
    }

    /** Over maxSeries: forget everything (simple and bounded; rates restart after one sample). */
    #trim(): void {
      this.#lastLeaf = null;
      this.#root.clear();
      this.#size = 0;
    }
  }

  // A slot that held a GAUGE before (the sender changed a type's data sources) may hold a
  // fraction or NaN: such a pair has no rate (NaN, reported as null).
  function counterDiff(prev: MetricValue, cur: MetricValue): number {
    if (typeof prev === "number" && typeof cur === "number") {
      if (cur >= prev) return cur - prev;
      if (!Number.isInteger(prev) || !Number.isInteger(cur)) return NaN;
      return prev <= TWO_32 - 1 ? TWO_32 - prev + cur : Number(TWO_64 - BigInt(prev) + BigInt(cur));
    }
    const p = big(prev);
    const c = big(cur);
    if (p === null || c === null) return NaN;
    if (c >= p) return Number(c - p);
    return p <= 4294967295n ? Number(4294967296n - p + c) : Number(TWO_64 - p + c);
  }

  function deriveDiff(prev: MetricValue, cur: MetricValue): number {
    if (typeof prev === "number" && typeof cur === "number") return cur - prev;
    const p = big(prev);
    const c = big(cur);
    return p === null || c === null ? NaN : Number(c - p);
  }

  function big(v: MetricValue): bigint | null {
    return typeof v === "bigint" ? v : Number.isInteger(v) ? BigInt(v) : null;
  }

  // ---- parseTypesDb ----------------------------------------------------------------------

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
  function parseTypesDb(text: string): TypesDb {
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

  return { decodePacket, createDecodeStats, DROP_REASONS, RateTracker, parseTypesDb };
}
