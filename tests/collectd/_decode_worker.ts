/// <reference lib="deno.worker" />
// Decodes packets posted to it (a Worker created with `permissions: "none"` by purity_test.ts).
import { decodePacket, parseTypesDb, RateTracker } from "../../src/collectd/mod.ts";
import type { Metric } from "../../src/model/mod.ts";

self.onmessage = (e: MessageEvent<{ typesDb: string; packet: Uint8Array }>) => {
  const metrics: Metric[] = [];
  const typesDb = parseTypesDb(e.data.typesDb);
  const stats = decodePacket(e.data.packet, { metric: (m) => metrics.push(m), notification() {} }, {
    typesDb,
    rates: new RateTracker(),
  });
  let denied = false;
  try {
    Deno.readTextFileSync("/etc/hostname");
  } catch {
    denied = true;
  }
  self.postMessage({ metrics, values: stats.values, denied });
};
