import assert from "node:assert/strict";
import {
  decodePacket,
  encryptPacket,
  PacketBuilder,
  signPacket,
} from "../../../src/collectd/mod.ts";
import { createHostReader, createMetricsProbe } from "../../../src/collectd_conf/replace/probe.ts";

const GOLDEN = new URL("../../testdata/collectd/", import.meta.url);

/** Every golden packet, packets of several hosts (one value list each, and delta-encoded). */
function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const e of Deno.readDirSync(GOLDEN)) {
    if (!e.isDirectory) continue;
    try {
      out.push(Deno.readFileSync(new URL(`${e.name}/packet.bin`, GOLDEN)));
    } catch { /* no packet in this folder */ }
  }
  const b = new PacketBuilder(
    (p) => out.push(p, signPacket(p, "a", "s"), encryptPacket(p, "a", "s")),
    {
      maxSize: 600,
    },
  );
  for (let i = 0; i < 400; i++) {
    b.add({
      // more hosts than the reader caches, so its cache slots are taken over
      host: i % 7 === 0 ? "ünïcode-host" : i < 60 ? `h${i % 4}` : `host-${i % 131}`,
      plugin: "cpu",
      plugin_instance: String(i % 3),
      type: "cpu",
      type_instance: i % 2 ? "user" : "",
      time: 1795440000 + i,
      interval: 1,
      values: [i],
      dstypes: ["derive"],
    });
  }
  b.flush();
  return out;
}

/** xorshift32. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

function mutate(r: () => number, seed: Uint8Array): Uint8Array {
  const p = seed.slice();
  for (let i = 1 + r() % 3; i > 0 && p.length > 0; i--) {
    const at = r() % p.length;
    const how = r() % 4;
    if (how === 0) p[at] = r();
    else if (how === 1) p[at] = 0;
    else if (how === 2 && at + 3 < p.length) new DataView(p.buffer).setUint16(at + 2, r() % 70);
    else p[at]! ^= 1 << (r() % 8);
  }
  return r() % 4 === 0 ? p.subarray(0, r() % (p.length + 1)) : p;
}

function hostsByDecoder(packet: Uint8Array): string[] {
  const hosts: string[] = [];
  decodePacket(packet, { metric: (m) => void hosts.push(m.host), notification() {} });
  return hosts;
}

function hostsByProbe(read: ReturnType<typeof createHostReader>, packet: Uint8Array): string[] {
  const hosts: string[] = [];
  read(packet, (h) => void hosts.push(h));
  return hosts;
}

Deno.test("the probe's host reader sees exactly the value lists decodePacket delivers, golden and mutated packets alike", () => {
  const read = createHostReader();
  const pool = seeds();
  for (const packet of pool) {
    assert.deepEqual(hostsByProbe(read, packet), hostsByDecoder(packet));
  }
  const r = rng(19);
  let delivered = 0;
  for (let i = 0; i < 30_000; i++) {
    const packet = mutate(r, pool[r() % pool.length]!);
    const expected = hostsByDecoder(packet);
    delivered += expected.length;
    assert.deepEqual(hostsByProbe(read, packet), expected, `mutation ${i}`);
  }
  assert.ok(delivered > 10_000, `the mutations still deliver value lists (${delivered})`);
});

Deno.test("createMetricsProbe() reads offered packets only while a replacement watches", async () => {
  let now = 1000;
  const probe = createMetricsProbe(() => now);
  let packet: Uint8Array | undefined;
  const b = new PacketBuilder((p) => packet = p);
  b.add({
    host: "web1",
    plugin: "load",
    plugin_instance: "",
    type: "load",
    type_instance: "",
    time: 1795440000,
    interval: 10,
    values: [0.5, 0.4, 0.3],
    dstypes: ["gauge", "gauge", "gauge"],
  });
  b.flush();
  probe.offer(packet!);
  assert.equal(await probe.seen(0), false, "not read outside watch()");
  await probe.watch(() => {
    now = 2000;
    probe.offer(packet!);
    return Promise.resolve();
  });
  assert.equal(await probe.seen(1500, "web1"), true);
  assert.equal(await probe.seen(1500, "web2"), false);
  now = 3000;
  probe.offer(packet!);
  assert.equal(await probe.seen(2500), false, "not read once the watch ended");
});

Deno.test("createMetricsProbe() tells metrics since a time apart per host", async () => {
  let now = 1000;
  const probe = createMetricsProbe(() => now);
  assert.equal(await probe.seen(0), false);
  probe.saw("hostA");
  now = 2000;
  probe.saw("hostB");
  assert.equal(await probe.seen(1500), true);
  assert.equal(await probe.seen(1500, "hostB"), true);
  assert.equal(await probe.seen(1500, "hostA"), false);
  assert.equal(await probe.seen(500, "hostC"), false);
});
