import assert from "node:assert/strict";
import {
  decodePacket,
  encodeNotification,
  encodeValueList,
  PacketBuilder,
  parseTypesDb,
} from "../../src/collectd/mod.ts";
import type { Metric, Notification } from "../../src/model/mod.ts";

const typesDb = parseTypesDb(
  "x4 c:COUNTER:U:U, g:GAUGE:U:U, d:DERIVE:U:U, a:ABSOLUTE:U:U\nload shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000\n",
);

function decodeAll(bytes: Uint8Array) {
  const metrics: Metric[] = [];
  const notifications: Notification[] = [];
  const stats = decodePacket(bytes, {
    metric: (m) => metrics.push(m),
    notification: (n) => notifications.push(n),
  }, { typesDb });
  return { metrics, notifications, stats };
}

const metric = {
  host: "host.example",
  plugin: "test",
  plugin_instance: "a-1",
  type: "x4",
  type_instance: "ünïcode",
  time: 1795440000.123456,
  interval: 2.5,
  values: [42, 3.25, -7, 99] as Metric["values"],
  dstypes: ["counter", "gauge", "derive", "absolute"] as Metric["dstypes"],
};

Deno.test("encodeValueList() then decodePacket() gives back every field and value type (hr time)", () => {
  const { metrics, stats } = decodeAll(encodeValueList(metric));
  assert.equal(stats.metrics, 1);
  assert.deepEqual(metrics[0], {
    ...metric,
    dsnames: ["c", "g", "d", "a"],
    rates: [null, null, null, null],
  });
});

Deno.test("encodeValueList() with seconds parts round-trips whole-second time and interval", () => {
  const m = { ...metric, time: 1795440000, interval: 10 };
  const { metrics } = decodeAll(encodeValueList(m, { timeForm: "seconds" }));
  assert.equal(metrics[0]!.time, 1795440000);
  assert.equal(metrics[0]!.interval, 10);
});

Deno.test("64-bit extremes round-trip as bigint, safe integers as number", () => {
  const values = [2n ** 64n - 1n, Number.NaN, -(2n ** 63n), 2n ** 53n + 1n];
  const { metrics } = decodeAll(encodeValueList({ ...metric, values }));
  assert.deepEqual(metrics[0]!.values.slice(2), [-(2n ** 63n), 2n ** 53n + 1n]);
  assert.equal(metrics[0]!.values[0], 2n ** 64n - 1n);
  assert.ok(Number.isNaN(metrics[0]!.values[1] as number));
  const safe = decodeAll(
    encodeValueList({ ...metric, values: [2 ** 53 - 1, 0, -(2 ** 53 - 1), 0] }),
  );
  assert.deepEqual(safe.metrics[0]!.values, [2 ** 53 - 1, 0, -(2 ** 53 - 1), 0]);
});

Deno.test("encodeNotification() then decodePacket() gives back the notification, message last", () => {
  const n: Notification = {
    host: "h",
    plugin: "edge-agent",
    plugin_instance: "",
    type: "result",
    type_instance: "nginx/restart",
    time: 1795440000.5,
    severity: 4,
    message: "code=0 ok",
  };
  const bytes = encodeNotification(n);
  const tail = new TextDecoder().decode(bytes.subarray(bytes.length - 10));
  assert.equal(tail, "code=0 ok\0");
  assert.deepEqual(decodeAll(bytes).notifications, [n]);
});

Deno.test("PacketBuilder delta-encodes, keeps packets within maxSize and loses nothing", () => {
  const packets: Uint8Array[] = [];
  const b = new PacketBuilder((p) => packets.push(p), { maxSize: 1452 });
  const sent: Metric["values"][] = [];
  for (let i = 0; i < 500; i++) {
    const values = [i * 0.5, i / 3, i * 0.25];
    sent.push(values);
    b.add({
      host: `host${i % 7}`,
      plugin: "load",
      plugin_instance: "",
      type: "load",
      type_instance: "",
      time: 1795440000 + (i % 3),
      interval: 1,
      values,
      dstypes: ["gauge", "gauge", "gauge"],
    });
  }
  b.flush();
  assert.ok(packets.length > 5);
  for (const p of packets) assert.ok(p.length <= 1452, `packet of ${p.length} bytes`);
  const got = packets.flatMap((p) => decodeAll(p).metrics);
  assert.equal(got.length, 500);
  assert.deepEqual(got.map((m) => m.values), sent);
  assert.equal(got[8]!.host, "host1");
  assert.deepEqual(got[0]!.dsnames, ["shortterm", "midterm", "longterm"]);
  // delta encoding: far fewer bytes than one full value list each
  const full = encodeValueList({ ...metric, plugin: "load", type: "load" }).length;
  assert.ok(packets.reduce((n, p) => n + p.length, 0) < 500 * full * 0.8);
});

Deno.test("encodeValueList() refuses values and dstypes of different lengths", () => {
  assert.throws(() => encodeValueList({ ...metric, dstypes: ["gauge"] }), RangeError);
});

Deno.test("string parts decode right whatever their length and however many share a cache slot", () => {
  const long = "h".repeat(63) + ".example.net"; // longer than a cache slot: decoded every time
  const hosts = [long, ...Array.from({ length: 3000 }, (_, i) => `edge${i}.example.net`), long];
  for (const round of [1, 2]) {
    for (const host of hosts) {
      const { metrics } = decodeAll(encodeValueList({ ...metric, host, type_instance: "é" }));
      assert.equal(metrics[0]?.host, host, `round ${round}`);
      assert.equal(metrics[0]?.type_instance, "é");
    }
  }
});
