/**
 * The pure collectd packet decoder: one switch over the part types of collectd's binary network
 * protocol (see `_protocol.ts`). No I/O and no Deno APIs: the rule worker runs this module as is
 * (bundled into its source by `scripts/build_sandbox.ts`), and the agent's own tools use it too.
 * @module
 */
import type { DsType, Metric, MetricValue, Notification, Severity } from "../model/mod.ts";
import { buildDsTypes, dsTypesFor, positionalNames, readString } from "./_decode_cache.ts";
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
import type { RateTracker } from "./rates.ts";
import type { TypesDb } from "./types_db.ts";

/** Why (part of) a packet was not turned into metrics/notifications. */
export type DropReason = typeof DROP_REASONS[number];

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

const TWO_32 = 4294967296;
/** A 64-bit integer whose high word is below 2^21 (in magnitude) fits in a double exactly. */
const SAFE_HI = 0x200000;
/** The unknown types already reported, per TypesDb object (NO_TYPES_DB without one). */
const NO_TYPES_DB = {};
const warned = new WeakMap<object, Set<string>>();

/** Why (part of) a packet was not turned into metrics/notifications (see `DropReason`). */
export const DROP_REASONS = [
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
export function createDecodeStats(): DecodeStats {
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
 * One packet being decoded: its bytes, where the output goes, and the fields the parts read so
 * far set (delta encoding: later value lists and notifications of the packet inherit them).
 */
interface Packet {
  bytes: Uint8Array;
  view: DataView;
  visitor: PacketVisitor;
  options: DecodeOptions;
  stats: DecodeStats;
  /** String fields by slot (HOST ... MESSAGE). */
  str: string[];
  time: number;
  interval: number;
  severity: number;
}

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
export function decodePacket(
  bytes: Uint8Array,
  visitor: PacketVisitor,
  options: DecodeOptions = {},
): DecodeStats {
  const stats = options.stats ?? createDecodeStats();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const p: Packet = {
    bytes,
    view,
    visitor,
    options,
    stats,
    str: ["", "", "", "", "", ""],
    time: 0,
    interval: 0,
    severity: 0,
  };
  const end = bytes.length;
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
      p.str[field] = s;
      if (field === MESSAGE) notify(p, s);
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
      if (type === Part.TIME) p.time = hi * TWO_32 + lo;
      else if (type === Part.TIME_HR) p.time = hi * 4 + lo / HR_PER_SECOND;
      else if (type === Part.INTERVAL) p.interval = hi * TWO_32 + lo;
      else if (type === Part.INTERVAL_HR) p.interval = hi * 4 + lo / HR_PER_SECOND;
      else p.severity = lo | 0;
    } else if (type === Part.VALUES) {
      if (!readValues(p, off, len, remaining)) {
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
}

/** A message part: the notification it completes, or a drop. */
function notify(p: Packet, message: string): void {
  const { stats, str, time, severity } = p;
  if (severity !== 1 && severity !== 2 && severity !== 4) {
    stats.dropped.bad_notification++;
  } else if (time === 0 || message === "") {
    stats.dropped.bad_notification++;
  } else {
    stats.notifications++;
    p.visitor.notification({
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
function readValues(p: Packet, off: number, len: number, remaining: number): boolean {
  const { bytes, view, stats, str, time, options } = p;
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
  const dsnames = dsNames(options, type, n);
  if (dsnames === null) {
    stats.dropped.types_db_mismatch++;
    return true;
  }
  const dstypes = n <= 12 ? dsTypesFor(n, sig, bytes, codesAt) : buildDsTypes(n, bytes, codesAt);
  const m: Metric = {
    host,
    plugin,
    plugin_instance: str[PLUGIN_INSTANCE]!,
    type,
    type_instance: str[TYPE_INSTANCE]!,
    time,
    interval: p.interval,
    values: readNumbers(p, codesAt, n),
    dstypes: dstypes as DsType[],
    dsnames: dsnames as string[],
    rates: new Array(n).fill(null),
  };
  if (hasRate && options.rates !== undefined) options.rates.update(m);
  stats.metrics++;
  stats.values += n;
  p.visitor.metric(m);
  return true;
}

/**
 * The data-source names of `n` values of `type`: from types.db, or positional names for a type
 * it lacks (reported once per TypesDb); null when types.db gives the type another count.
 */
function dsNames(options: DecodeOptions, type: string, n: number): readonly string[] | null {
  const info = options.typesDb?.get(type);
  if (info !== undefined) return info.dsnames.length === n ? info.dsnames : null;
  const db = options.typesDb ?? NO_TYPES_DB;
  let seen = warned.get(db);
  if (seen === undefined) warned.set(db, seen = new Set());
  if (!seen.has(type)) {
    if (seen.size < 10_000) seen.add(type);
    options.onUnknownType?.(type);
  }
  return positionalNames(n);
}

/** The `n` values after the type codes at `codesAt` (GAUGE little-endian, others big-endian). */
function readNumbers(p: Packet, codesAt: number, n: number): MetricValue[] {
  const { bytes, view } = p;
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
  return vals;
}
