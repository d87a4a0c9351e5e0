import type { Metric, MetricValue, Notification } from "../model/mod.ts";
import { DEFAULT_MAX_PACKET, DsCode, HR_PER_SECOND, Part } from "./_protocol.ts";

/** Options of the encoders. */
export interface EncodeOptions {
  /**
   * Time/interval form: `"hr"` (time_hr/interval_hr, 2^-30 s, what collectd 5 sends) or
   * `"seconds"` (the old whole-second parts). Default "hr".
   */
  timeForm?: "hr" | "seconds";
}

const encoder = new TextEncoder();
const CODE = {
  counter: DsCode.COUNTER,
  gauge: DsCode.GAUGE,
  derive: DsCode.DERIVE,
  absolute: DsCode.ABSOLUTE,
};

/** Appends parts to a growing byte array. */
class Writer {
  bytes = new Uint8Array(256);
  view = new DataView(this.bytes.buffer);
  length = 0;

  reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  string(type: number, s: string): void {
    const b = encoder.encode(s);
    this.reserve(5 + b.length);
    this.view.setUint16(this.length, type);
    this.view.setUint16(this.length + 2, 5 + b.length);
    this.bytes.set(b, this.length + 4);
    this.bytes[this.length + 4 + b.length] = 0;
    this.length += 5 + b.length;
  }

  number(type: number, v: bigint): void {
    this.reserve(12);
    this.view.setUint16(this.length, type);
    this.view.setUint16(this.length + 2, 12);
    this.view.setBigUint64(this.length + 4, BigInt.asUintN(64, v));
    this.length += 12;
  }

  time(type: "time" | "interval", seconds: number, form: "hr" | "seconds"): void {
    if (form === "hr") {
      const t = BigInt(Math.round(seconds * HR_PER_SECOND));
      this.number(type === "time" ? Part.TIME_HR : Part.INTERVAL_HR, t);
    } else {
      this.number(type === "time" ? Part.TIME : Part.INTERVAL, BigInt(Math.round(seconds)));
    }
  }

  values(m: Pick<Metric, "values" | "dstypes">): void {
    const n = m.values.length;
    if (n !== m.dstypes.length) {
      throw new RangeError(
        `Cannot encode a value list with ${n} values and ${m.dstypes.length} dstypes`,
      );
    }
    if (n > 7000) throw new RangeError(`Cannot encode ${n} values in one part (at most 7000)`);
    this.reserve(6 + 9 * n);
    const at = this.length;
    this.view.setUint16(at, Part.VALUES);
    this.view.setUint16(at + 2, 6 + 9 * n);
    this.view.setUint16(at + 4, n);
    for (let i = 0; i < n; i++) {
      const t = m.dstypes[i]!;
      const v = m.values[i]!;
      this.bytes[at + 6 + i] = CODE[t];
      const p = at + 6 + n + 8 * i;
      if (t === "gauge") this.view.setFloat64(p, Number(v), true);
      else if (t === "derive") this.view.setBigInt64(p, BigInt.asIntN(64, toBig(v)));
      else this.view.setBigUint64(p, BigInt.asUintN(64, toBig(v)));
    }
    this.length += 6 + 9 * n;
  }

  take(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

function toBig(v: MetricValue): bigint {
  return typeof v === "bigint" ? v : BigInt(Math.trunc(v));
}

/** The identity and time fields every value list and notification carries. */
type Identity = Pick<
  Metric,
  "host" | "plugin" | "plugin_instance" | "type" | "type_instance" | "time"
>;

/** Encodes one value list with every part present (no delta encoding). */
export function encodeValueList(
  m: Identity & Pick<Metric, "interval" | "values" | "dstypes">,
  options: EncodeOptions = {},
): Uint8Array {
  const w = new Writer();
  const form = options.timeForm ?? "hr";
  w.string(Part.HOST, m.host);
  w.time("time", m.time, form);
  w.time("interval", m.interval, form);
  w.string(Part.PLUGIN, m.plugin);
  w.string(Part.PLUGIN_INSTANCE, m.plugin_instance);
  w.string(Part.TYPE, m.type);
  w.string(Part.TYPE_INSTANCE, m.type_instance);
  w.values(m);
  return w.take();
}

/**
 * Encodes one notification as collectd sends it (its own datagram, message part last).
 */
export function encodeNotification(n: Notification, options: EncodeOptions = {}): Uint8Array {
  const w = new Writer();
  w.string(Part.HOST, n.host);
  w.time("time", n.time, options.timeForm ?? "hr");
  w.number(Part.SEVERITY, BigInt(n.severity));
  w.string(Part.PLUGIN, n.plugin);
  w.string(Part.PLUGIN_INSTANCE, n.plugin_instance);
  w.string(Part.TYPE, n.type);
  w.string(Part.TYPE_INSTANCE, n.type_instance);
  w.string(Part.MESSAGE, n.message);
  return w.take();
}

/** Options of {@linkcode PacketBuilder}. */
export interface PacketBuilderOptions extends EncodeOptions {
  /**
   * Largest packet in bytes, before any signature/encryption overhead is added. Default 1452
   * (collectd's MaxPacketSize); pass 1452 - overhead to leave room for signing/encryption.
   */
  maxSize?: number;
}

/**
 * Batches value lists into packets the way collectd's network plugin does: a part is written
 * only when its field differs from the previous value list in the same packet (delta
 * encoding). A full packet goes to `onPacket` (a fresh copy each time).
 */
export class PacketBuilder {
  #w = new Writer();
  #max: number;
  #form: "hr" | "seconds";
  #onPacket: (packet: Uint8Array) => void;
  #last: (string | number | null)[] = [];

  constructor(onPacket: (packet: Uint8Array) => void, options: PacketBuilderOptions = {}) {
    this.#onPacket = onPacket;
    this.#max = options.maxSize ?? DEFAULT_MAX_PACKET;
    this.#form = options.timeForm ?? "hr";
  }

  /** Bytes in the packet being built. */
  get size(): number {
    return this.#w.length;
  }

  /** Adds a value list; flushes first when it would not fit. */
  add(m: Identity & Pick<Metric, "interval" | "values" | "dstypes">): void {
    const before = this.#w.length;
    const last = this.#last.slice();
    this.#write(m);
    if (this.#w.length > this.#max && before > 0) {
      this.#w.length = before;
      this.#last = last;
      this.flush();
      this.#write(m);
    }
  }

  /** Sends the packet being built, if any. */
  flush(): void {
    if (this.#w.length === 0) return;
    this.#onPacket(this.#w.take());
    this.#w.length = 0;
    this.#last = [];
  }

  #write(m: Identity & Pick<Metric, "interval" | "values" | "dstypes">): void {
    const w = this.#w;
    const last = this.#last;
    const str = (slot: number, type: number, s: string) => {
      if (last[slot] !== s) w.string(type, s), last[slot] = s;
    };
    str(0, Part.HOST, m.host);
    if (last[1] !== m.time) w.time("time", m.time, this.#form), last[1] = m.time;
    if (last[2] !== m.interval) w.time("interval", m.interval, this.#form), last[2] = m.interval;
    str(3, Part.PLUGIN, m.plugin);
    str(4, Part.PLUGIN_INSTANCE, m.plugin_instance);
    str(5, Part.TYPE, m.type);
    str(6, Part.TYPE_INSTANCE, m.type_instance);
    w.values(m);
  }
}
