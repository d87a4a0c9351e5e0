/**
 * The footprint benchmark's traffic: the value lists a real collectd 5.12 sends on this machine
 * (captured from a collectd with the usual read plugins at Interval 1), re-encoded for many hosts
 * with moving values in collectd-sized packets, written to a file that `_replay.ts` sends.
 * File format: per packet a big-endian uint16 length, a uint16 count of values, the bytes.
 * @module
 */
import { join } from "node:path";
import { decodePacket, loadTypesDb, PacketBuilder } from "../../src/collectd/mod.ts";
import type { Metric } from "../../src/model/mod.ts";

/** Value lists from a real collectd on this machine (one Interval-1 round per plugin/series). */
export async function captureCollectd(dir: string): Promise<Metric[]> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (sock.addr as Deno.NetAddr).port;
  const conf = `BaseDir "${dir}"
PIDFile "${dir}/capture.pid"
Hostname "capture"
FQDNLookup false
TypesDB "/usr/share/collectd/types.db"
Interval 1
${
    ["cpu", "memory", "load", "interface", "df", "disk", "swap", "uptime", "users", "processes"]
      .map((p) => `LoadPlugin ${p}`).join("\n")
  }
LoadPlugin network
<Plugin network>
  Server "127.0.0.1" "${port}"
</Plugin>
`;
  await Deno.writeTextFile(join(dir, "capture.conf"), conf);
  const child = new Deno.Command("/usr/sbin/collectd", {
    args: ["-f", "-C", join(dir, "capture.conf")],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const typesDb = await loadTypesDb();
  const series = new Map<string, Metric>();
  const deadline = Date.now() + 3500;
  try {
    while (Date.now() < deadline) {
      const got = await Promise.race([
        sock.receive(),
        new Promise<null>((r) => setTimeout(() => r(null), Math.max(1, deadline - Date.now()))),
      ]);
      if (got === null) break;
      decodePacket(got[0], {
        metric(m) {
          const key = `${m.plugin}/${m.plugin_instance}/${m.type}/${m.type_instance}`;
          series.set(key, { ...m, values: [...m.values], dstypes: [...m.dstypes] });
        },
        notification() {},
      }, { typesDb });
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
    sock.close();
  }
  if (series.size === 0) {
    throw new Error("collectd sent nothing to capture (is collectd-core installed?)");
  }
  return [...series.values()];
}

/** `rounds` rounds of every captured series for `hosts` hosts, as collectd-sized packets. */
function buildTraffic(lists: Metric[], hosts: number, rounds: number) {
  const packets: Uint8Array[] = [];
  const counts: number[] = [];
  let count = 0;
  const b = new PacketBuilder((p) => {
    packets.push(p);
    counts.push(count);
    count = 0;
  }, { maxSize: 1452 });
  const t0 = Math.floor(Date.now() / 1000);
  for (let r = 0; r < rounds; r++) {
    for (let h = 0; h < hosts; h++) {
      const host = `edge-${String(h).padStart(4, "0")}.example.net`;
      for (const m of lists) {
        const values = m.values.map((v, i) =>
          m.dstypes[i] === "gauge" ? Number(v) : BigInt.asUintN(64, BigInt(v) + BigInt(r * 100))
        );
        const before = b.size;
        b.add({ ...m, host, time: t0 + r, interval: 1, values });
        if (b.size < before) count = 0;
        count += values.length;
      }
    }
  }
  b.flush();
  return { packets, counts };
}

/** Writes `rounds` rounds of `lists` for `hosts` hosts to `file`; returns packets and values. */
export async function writeTraffic(
  file: string,
  lists: Metric[],
  hosts: number,
  rounds = 3,
): Promise<{ packets: number; values: number }> {
  const { packets, counts } = buildTraffic(lists, hosts, rounds);
  const total = packets.reduce((s, p) => s + 4 + p.length, 0);
  const buf = new Uint8Array(total);
  let off = 0;
  packets.forEach((p, i) => {
    const dv = new DataView(buf.buffer, off);
    dv.setUint16(0, p.length);
    dv.setUint16(2, counts[i]!);
    buf.set(p, off + 4);
    off += 4 + p.length;
  });
  await Deno.writeFile(file, buf);
  return { packets: packets.length, values: counts.reduce((s, x) => s + x, 0) };
}

/** A traffic file's packets (views of one buffer) with their value counts. */
export function readTraffic(raw: Uint8Array): { bytes: Uint8Array; values: number }[] {
  const packets: { bytes: Uint8Array; values: number }[] = [];
  for (let off = 0; off < raw.length;) {
    const dv = new DataView(raw.buffer, raw.byteOffset + off);
    const len = dv.getUint16(0);
    packets.push({ bytes: raw.subarray(off + 4, off + 4 + len), values: dv.getUint16(2) });
    off += 4 + len;
  }
  return packets;
}

/**
 * Moves every time in `packets` forward by the span the traffic covers (last − first time, plus
 * one second), in place: called before each replay pass after the first, so a receiver never sees
 * a time twice. collectd logs "uc_update: Value too old" for every value list whose time is not
 * newer than the last, which would make the reference pay for an error path the agent's traffic
 * never takes in production.
 */
export function timeShifter(packets: { bytes: Uint8Array }[]): () => void {
  const parts: { view: DataView; at: number; hr: boolean }[] = [];
  let first = Infinity, last = -Infinity;
  for (const { bytes } of packets) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let off = 0; off + 4 <= bytes.length;) {
      const type = view.getUint16(off), len = view.getUint16(off + 2);
      if (len < 4) break;
      if ((type === 0x0001 || type === 0x0008) && len === 12) {
        const hr = type === 0x0008;
        const t = Number(view.getBigUint64(off + 4)) / (hr ? 2 ** 30 : 1);
        first = Math.min(first, t);
        last = Math.max(last, t);
        parts.push({ view, at: off + 4, hr });
      }
      off += len;
    }
  }
  const span = Math.floor(last - first) + 1;
  return () => {
    for (const { view, at, hr } of parts) {
      view.setBigUint64(at, view.getBigUint64(at) + BigInt(hr ? span * 2 ** 30 : span));
    }
  };
}
