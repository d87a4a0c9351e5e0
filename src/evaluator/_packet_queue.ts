/** Packets taken out of the queue as one request body: bytes, end offsets, arrival times. */
export interface PacketBatch {
  data: Uint8Array;
  ends: Uint32Array;
  /** performance.now() at each packet's arrival (empty unless timing is on). */
  arrivals: Float64Array;
}

const INITIAL_BYTES = 1 << 20;

/**
 * Packets waiting for the rule host: one growing byte buffer plus end offsets, so holding a
 * packet allocates nothing (the caller may reuse its buffer right after `push`).
 */
export class PacketQueue {
  #bytes = new Uint8Array(INITIAL_BYTES);
  #length = 0;
  #ends = new Uint32Array(1024);
  #arrivals: Float64Array;
  #count = 0;
  readonly #timed: boolean;

  /** With `timed`, each packet's arrival time is kept for latency figures. */
  constructor(timed = false) {
    this.#timed = timed;
    this.#arrivals = new Float64Array(timed ? 1024 : 0);
  }

  /** Packets waiting. */
  get count(): number {
    return this.#count;
  }

  /** Bytes of the packets waiting. */
  get bytes(): number {
    return this.#length;
  }

  /** Copies `packet` in. */
  push(packet: Uint8Array): void {
    if (this.#length + packet.length > this.#bytes.length) {
      const bigger = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + packet.length));
      bigger.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = bigger;
    }
    if (this.#count === this.#ends.length) {
      const more = new Uint32Array(this.#ends.length * 2);
      more.set(this.#ends);
      this.#ends = more;
      if (this.#timed) {
        const later = new Float64Array(this.#arrivals.length * 2);
        later.set(this.#arrivals);
        this.#arrivals = later;
      }
    }
    this.#bytes.set(packet, this.#length);
    this.#length += packet.length;
    if (this.#timed) this.#arrivals[this.#count] = performance.now();
    this.#ends[this.#count++] = this.#length;
  }

  /**
   * Takes up to `max` of the oldest packets (copies) holding at most `maxBytes` (but always at
   * least one packet), or null when empty.
   */
  take(max: number, maxBytes = Infinity): PacketBatch | null {
    const count = this.#count;
    if (count === 0) return null;
    let n = Math.min(count, max);
    while (n > 1 && this.#ends[n - 1]! > maxBytes) n--;
    const bytes = this.#ends[n - 1]!;
    const batch = {
      data: this.#bytes.slice(0, bytes),
      ends: this.#ends.slice(0, n),
      arrivals: this.#arrivals.slice(0, this.#timed ? n : 0),
    };
    if (n === count) {
      this.#length = 0;
      this.#count = 0;
      // A backlog grew the buffer: give the memory back once it has drained.
      if (this.#bytes.length > INITIAL_BYTES) this.#bytes = new Uint8Array(INITIAL_BYTES);
      return batch;
    }
    this.#bytes.copyWithin(0, bytes, this.#length);
    this.#length -= bytes;
    for (let i = n; i < count; i++) this.#ends[i - n] = this.#ends[i]! - bytes;
    if (this.#timed) this.#arrivals.copyWithin(0, n, count);
    this.#count -= n;
    return batch;
  }
}
