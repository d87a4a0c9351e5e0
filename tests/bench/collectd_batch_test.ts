import assert from "node:assert/strict";
import { decodeBatch, forEachPacket, PacketBatcher } from "../../scripts/bench/_collectd_batch.ts";
import { encodeValueList } from "../../src/collectd/mod.ts";

const vl = (host: string) =>
  encodeValueList({
    host,
    plugin: "p",
    plugin_instance: "",
    type: "gauge",
    type_instance: "",
    time: 1,
    interval: 1,
    values: [1],
    dstypes: ["gauge"],
  });

Deno.test("PacketBatcher copies packets into batches that decodeBatch() decodes in order", () => {
  const batches: Uint8Array[] = [];
  const b = new PacketBatcher((x) => batches.push(x), { setTimer: () => 1, clearTimer: () => {} });
  const reused = new Uint8Array(100);
  for (const h of ["a", "b", "c"]) {
    const p = vl(h);
    reused.set(p);
    b.add(reused.subarray(0, p.length));
    reused.fill(0xee); // the intake's buffer is overwritten by the next datagram
  }
  b.flush();
  assert.equal(batches.length, 1);
  const hosts: string[] = [];
  const stats = decodeBatch(batches[0]!, { metric: (m) => hosts.push(m.host), notification() {} });
  assert.deepEqual(hosts, ["a", "b", "c"]);
  assert.equal(stats.metrics, 3);
});

Deno.test("PacketBatcher flushes when full and when its timer fires", () => {
  const batches: Uint8Array[] = [];
  let fire: (() => void) | null = null;
  const b = new PacketBatcher((x) => batches.push(x), {
    maxBytes: 70_000,
    setTimer: (fn) => (fire = fn, 1),
    clearTimer: () => (fire = null),
  });
  const big = new Uint8Array(40_000);
  b.add(big);
  b.add(big); // does not fit: the first batch goes out
  assert.equal(batches.length, 1);
  assert.equal(forEachPacket(batches[0]!, () => {}), 1);
  fire!();
  assert.equal(batches.length, 2);
});

Deno.test("forEachPacket() stops at a truncated frame", () => {
  const batch = new Uint8Array([0, 2, 9, 9, 0, 5, 1]);
  const seen: number[][] = [];
  assert.equal(forEachPacket(batch, (p) => seen.push([...p])), 1);
  assert.deepEqual(seen, [[9, 9]]);
});
