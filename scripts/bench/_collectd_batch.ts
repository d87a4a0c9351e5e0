/**
 * bench/collectd.ts's `--split` receiver: the intake process hands accepted plaintext to a
 * decoding process in batches, each packet framed as a big-endian uint16 length + its bytes. One
 * copy per packet (the intake's buffer is reused), none per value; one message per batch. (The
 * agent itself queues packets for the rule host in src/evaluator/_packet_queue.ts.)
 * @module
 */
import {
  createDecodeStats,
  type DecodeOptions,
  decodePacket,
  type DecodeStats,
  type PacketVisitor,
} from "../../src/collectd/mod.ts";

/** Options of {@linkcode PacketBatcher}. */
export interface PacketBatcherOptions {
  /** Flush when a batch reaches this many bytes. Default 262 144. */
  maxBytes?: number;
  /** Flush a non-empty batch at the latest this many milliseconds after its first packet. Default 20. */
  maxDelayMs?: number;
  /** Timer effects, for tests. Default setTimeout/clearTimeout. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** Collects framed packets; a full or old-enough batch goes to `onBatch` (owned by the callee). */
export class PacketBatcher {
  #buf: Uint8Array;
  #len = 0;
  #max: number;
  #delay: number;
  #timer: unknown = null;
  #onBatch: (batch: Uint8Array) => void;
  #set: (fn: () => void, ms: number) => unknown;
  #clear: (handle: unknown) => void;

  constructor(onBatch: (batch: Uint8Array) => void, options: PacketBatcherOptions = {}) {
    this.#onBatch = onBatch;
    this.#max = Math.max(options.maxBytes ?? 262_144, 65_537);
    this.#delay = options.maxDelayMs ?? 20;
    this.#set = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.#clear = options.clearTimer ??
      ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.#buf = new Uint8Array(this.#max);
  }

  /** Appends a copy of `packet` (at most 65 535 bytes). */
  add(packet: Uint8Array): void {
    if (packet.length > 0xffff) throw new RangeError(`packet of ${packet.length} bytes`);
    if (this.#len + 2 + packet.length > this.#max) this.flush();
    const b = this.#buf;
    b[this.#len] = packet.length >>> 8;
    b[this.#len + 1] = packet.length & 0xff;
    b.set(packet, this.#len + 2);
    this.#len += 2 + packet.length;
    if (this.#timer === null) this.#timer = this.#set(() => this.flush(), this.#delay);
  }

  /** Sends the batch being built, if any. */
  flush(): void {
    if (this.#timer !== null) {
      this.#clear(this.#timer);
      this.#timer = null;
    }
    if (this.#len === 0) return;
    const batch = this.#buf.subarray(0, this.#len);
    this.#buf = new Uint8Array(this.#max);
    this.#len = 0;
    this.#onBatch(batch);
  }
}

/**
 * Calls `fn` with each packet of a batch (views, no copy). Pure; a truncated frame ends the walk.
 * Returns the number of packets.
 */
export function forEachPacket(batch: Uint8Array, fn: (packet: Uint8Array) => void): number {
  let off = 0;
  let n = 0;
  while (batch.length - off >= 2) {
    const len = (batch[off]! << 8) | batch[off + 1]!;
    if (off + 2 + len > batch.length) break;
    fn(batch.subarray(off + 2, off + 2 + len));
    off += 2 + len;
    n++;
  }
  return n;
}

/** Decodes every packet of a batch (each with fresh delta state). Pure, never throws on input. */
export function decodeBatch(
  batch: Uint8Array,
  visitor: PacketVisitor,
  options: DecodeOptions = {},
): DecodeStats {
  const o = { ...options, stats: options.stats ?? createDecodeStats() };
  forEachPacket(batch, (p) => decodePacket(p, visitor, o));
  return o.stats;
}
