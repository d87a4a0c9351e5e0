/**
 * The fuzz loop shared by tests/collectd/fuzz_test.ts (CI-sized) and scripts/fuzz_collectd.ts
 * (long runs): random and mutated datagrams through the intake's security/validation walk and
 * the pure decoder, checking that nothing throws and every output is well-formed.
 */
import {
  createDecodeStats,
  decodePacket,
  encodeNotification,
  encryptPacket,
  PacketBuilder,
  parseAuthFile,
  parseTypesDb,
  RateTracker,
  type SecurityLevel,
  signPacket,
  unwrapPacket,
} from "../../src/collectd/mod.ts";
import type { Metric, Notification } from "../../src/model/mod.ts";

export interface FuzzResult {
  packets: number;
  metrics: number;
  notifications: number;
  segments: number;
  drops: number;
  seconds: number;
}

/** xorshift32: deterministic per seed, so a failure can be replayed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const dir = new URL("../testdata/collectd/", import.meta.url);
  for (const e of Deno.readDirSync(dir)) {
    if (!e.isDirectory) continue;
    try {
      out.push(Deno.readFileSync(new URL(`${e.name}/packet.bin`, dir)));
    } catch { /* no packet in this folder */ }
  }
  const b = new PacketBuilder((p) => {
    out.push(p);
    out.push(signPacket(p, "alice", "secret"));
    out.push(encryptPacket(p, "alice", "secret"));
  }, { maxSize: 1400 });
  for (let i = 0; i < 200; i++) {
    b.add({
      host: `h${i % 5}`,
      plugin: i % 2 ? "cpu" : "interface",
      plugin_instance: String(i % 3),
      type: i % 2 ? "cpu" : "if_octets",
      type_instance: i % 2 ? "user" : "",
      time: 1795440000 + i,
      interval: 1,
      values: i % 2 ? [i] : [i, 2n ** 63n + BigInt(i)],
      dstypes: i % 2 ? ["derive"] : ["counter", "counter"],
    });
  }
  b.flush();
  out.push(encodeNotification({
    host: "h",
    plugin: "p",
    plugin_instance: "",
    type: "t",
    type_instance: "",
    time: 1,
    severity: 1,
    message: "m",
  }));
  return out;
}

const PART_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x100, 0x101, 0x200, 0x210, 0x7777];

/** One random or mutated datagram. */
function next(r: () => number, pool: Uint8Array[]): Uint8Array {
  const kind = r() % 8;
  if (kind === 0) { // pure noise
    const p = new Uint8Array(r() % 200);
    for (let i = 0; i < p.length; i++) p[i] = r();
    return p;
  }
  if (kind === 1) { // random well-framed parts with random contents and lengths
    const parts = 1 + r() % 8;
    const p = new Uint8Array(1500);
    const v = new DataView(p.buffer);
    let o = 0;
    for (let i = 0; i < parts && o + 4 < p.length; i++) {
      const len = r() % 3 === 0 ? r() % 65536 : r() % 64;
      v.setUint16(o, PART_TYPES[r() % PART_TYPES.length]!);
      v.setUint16(o + 2, len);
      for (let j = o + 4; j < Math.min(o + len, p.length); j++) p[j] = r() % 4 === 0 ? 0 : r();
      o += Math.max(4, Math.min(len, p.length - o));
    }
    return p.subarray(0, Math.min(o, p.length));
  }
  const seed = pool[r() % pool.length]!;
  const p = seed.slice();
  const flips = 1 + r() % 4;
  for (let i = 0; i < flips && p.length > 0; i++) {
    const at = r() % p.length;
    switch (r() % 5) {
      case 0:
        p[at] = r();
        break;
      case 1:
        p[at]! ^= 1 << (r() % 8);
        break;
      case 2: // a length field of some part-like offset
        if (at + 3 < p.length) new DataView(p.buffer).setUint16(at + 2, r() % 70);
        break;
      case 3:
        p[at] = 0;
        break;
      default:
        p[at] = 0xff;
    }
  }
  return r() % 4 === 0 ? p.subarray(0, r() % (p.length + 1)) : p;
}

function checkMetric(m: Metric): void {
  if (m.values.length === 0) throw new Error("metric without values");
  if (m.values.length !== m.dstypes.length || m.values.length !== m.dsnames.length) {
    throw new Error(`inconsistent metric ${m.type}: ${m.values.length} values`);
  }
  if (m.rates.length !== m.values.length) throw new Error("rates length");
  if (!m.host || !m.plugin || !m.type || m.time === 0) throw new Error("incomplete metric");
}

function checkNotification(n: Notification): void {
  if (n.severity !== 1 && n.severity !== 2 && n.severity !== 4) throw new Error("severity");
  if (n.message === "" || n.time === 0) throw new Error("bad notification");
}

/** Runs `count` datagrams (or until `seconds` passed) from `seed`. Throws on any violation. */
export function fuzz(count: number, seed = 1, seconds = Infinity): FuzzResult {
  const r = rng(seed);
  const pool = seeds();
  const typesDb = parseTypesDb(
    Deno.readTextFileSync(new URL("../testdata/collectd/types.db", import.meta.url)),
  );
  const users = parseAuthFile("alice: secret\n");
  const rates = new RateTracker({ maxSeries: 10_000 });
  const stats = createDecodeStats();
  const scratch: Uint8Array[] = [];
  const result: FuzzResult = {
    packets: 0,
    metrics: 0,
    notifications: 0,
    segments: 0,
    drops: 0,
    seconds: 0,
  };
  const visitor = {
    metric(m: Metric) {
      checkMetric(m);
      result.metrics++;
    },
    notification(n: Notification) {
      checkNotification(n);
      result.notifications++;
    },
  };
  const opts = { typesDb, rates, stats };
  const sink = {
    segment(plain: Uint8Array) {
      result.segments++;
      decodePacket(plain, visitor, opts);
    },
    drop() {
      result.drops++;
    },
  };
  const levels: SecurityLevel[] = ["None", "Sign", "Encrypt"];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const p = next(r, pool);
    const which = r() % 4;
    try {
      // the decoder alone (as the rule host gets it) and the whole intake walk
      decodePacket(p, visitor, opts);
      unwrapPacket(p, levels[which % 3]!, which === 3 ? null : users, sink, scratch);
    } catch (e) {
      const hex = [...p].map((b) => b.toString(16).padStart(2, "0")).join("");
      throw new Error(`fuzz seed ${seed}, packet ${i} (${hex}): ${(e as Error).message}`, {
        cause: e,
      });
    }
    result.packets++;
    if ((i & 0xfff) === 0 && (performance.now() - t0) / 1000 > seconds) break;
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
