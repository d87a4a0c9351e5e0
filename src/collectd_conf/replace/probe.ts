import type { MetricsSeen } from "./_restart.ts";

/** The replacer's "collectd is sending metrics again" probe, fed by the collectd intake. */
export interface MetricsProbe {
  /** Records that a value list from `host` arrived now. */
  saw(host: string): void;
  /** For the replacer's `metricsSeen`: whether metrics (from `host`) came at or after `sinceMs`. */
  seen: MetricsSeen;
  /**
   * Offers one plaintext collectd packet (after the intake's security stage). Read only while
   * a `watch` is running, and then only for the host of each value list: nothing is decoded
   * into metrics and nothing is allocated but a host name that changed.
   */
  offer(packet: Uint8Array): void;
  /** Runs `f` (a replacement, which may wait for collectd's metrics) with the probe reading. */
  watch<T>(f: () => Promise<T>): Promise<T>;
}

/** A {@linkcode MetricsProbe} (`now`: the clock of `saw`, epoch ms). */
export function createMetricsProbe(now: () => number = Date.now): MetricsProbe {
  const last = new Map<string, number>();
  let any = -Infinity;
  let watching = 0;
  const hosts = createHostReader();
  const saw = (host: string) => {
    any = now();
    last.set(host, any);
  };
  return {
    saw,
    seen: (sinceMs, host) =>
      Promise.resolve((host === undefined ? any : last.get(host) ?? -Infinity) >= sinceMs),
    offer(packet) {
      if (watching > 0) hosts(packet, saw);
    },
    async watch(f) {
      watching++;
      try {
        return await f();
      } finally {
        watching--;
      }
    },
  };
}

// collectd's network protocol (collectd 5.x src/network.h), as far as the probe reads it.
const HOST = 0x0000, TIME = 0x0001, PLUGIN = 0x0002, PLUGIN_INSTANCE = 0x0003, TYPE = 0x0004;
const TYPE_INSTANCE = 0x0005, VALUES = 0x0006, INTERVAL = 0x0007, TIME_HR = 0x0008;
const INTERVAL_HR = 0x0009, MESSAGE = 0x0100, SEVERITY = 0x0101;
const SIGN_SHA256 = 0x0200, ENCR_AES256 = 0x0210;

/**
 * Calls `visit(host)` for each value list of a packet that collectd's decoder (decodePacket)
 * would deliver as a metric, in the same walk: delta-encoded host, plugin, type and time; a
 * malformed part ends the packet; a value list without time, host, plugin or type, or with no
 * values, is skipped. tests/collectd_conf/replace/probe_test.ts holds it to decodePacket.
 */
export function createHostReader(): (packet: Uint8Array, visit: (host: string) => void) => void {
  const utf8 = new TextDecoder("utf-8");
  // Host names repeat: a direct-mapped cache (hash of the bytes → bytes and string) returns the
  // same string for the same bytes without allocating. A name is at most 127 bytes.
  const SLOTS = 64, SLOT_BYTES = 128;
  const cacheBytes = new Uint8Array(SLOTS * SLOT_BYTES);
  const cacheLength = new Int16Array(SLOTS).fill(-1);
  const cacheText: string[] = new Array(SLOTS).fill("");
  /** The host string at `start` (`length` bytes before its NUL). */
  const hostAt = (bytes: Uint8Array, start: number, length: number): string => {
    let h = 0x811c9dc5;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ bytes[start + i]!, 0x01000193);
    const slot = (h ^ (h >>> 15)) & (SLOTS - 1);
    const at = slot * SLOT_BYTES;
    if (cacheLength[slot] === length) {
      let i = 0;
      while (i < length && cacheBytes[at + i] === bytes[start + i]) i++;
      if (i === length) return cacheText[slot]!;
    }
    const view = bytes.subarray(start, start + length);
    cacheBytes.set(view, at);
    cacheLength[slot] = length;
    return cacheText[slot] = utf8.decode(view);
  };
  return (bytes, visit) => {
    const end = bytes.length;
    let host = "", plugin = false, type = false, time = false;
    for (let off = 0; end - off > 4;) {
      const part = u16(bytes, off);
      const len = u16(bytes, off + 2);
      const remaining = end - off;
      if (len > remaining || len < 4) return;
      if (
        part === HOST || part === PLUGIN || part === PLUGIN_INSTANCE || part === TYPE ||
        part === TYPE_INSTANCE || part === MESSAGE
      ) {
        const max = part === MESSAGE ? 256 : 128;
        if (len - 4 > max || len === 4 || bytes[off + len - 1] !== 0) return;
        const empty = bytes[off + 4] === 0;
        if (part === HOST) {
          host = empty ? "" : hostAt(bytes, off + 4, bytes.indexOf(0, off + 4) - off - 4);
        } else if (part === PLUGIN) plugin = !empty;
        else if (part === TYPE) type = !empty;
      } else if (
        part === TIME || part === TIME_HR || part === INTERVAL || part === INTERVAL_HR ||
        part === SEVERITY
      ) {
        if (len !== 12) return;
        if (part === TIME || part === TIME_HR) {
          let bits = 0;
          for (let i = off + 4; i < off + 12; i++) bits |= bytes[i]!;
          time = bits !== 0;
        }
      } else if (part === VALUES) {
        if (remaining < 15) return;
        const n = u16(bytes, off + 4);
        if (remaining < 6 + 9 * n || len !== 6 + 9 * n) return;
        for (let i = 0; i < n; i++) if (bytes[off + 6 + i]! > 3) return;
        if (n > 0 && time && host !== "" && plugin && type) visit(host);
      } else if (part === SIGN_SHA256 || part === ENCR_AES256) {
        if (len <= (part === SIGN_SHA256 ? 36 : 42)) return;
      }
      off += len;
    }
  };
}

/** The big-endian uint16 at `at`. */
function u16(bytes: Uint8Array, at: number): number {
  return bytes[at]! << 8 | bytes[at + 1]!;
}
