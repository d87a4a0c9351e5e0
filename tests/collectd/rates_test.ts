import assert from "node:assert/strict";
import { RateTracker } from "../../src/collectd/mod.ts";
import type { DsType, MetricValue } from "../../src/model/mod.ts";

function rate(t: RateTracker, time: number, values: MetricValue[], dstypes: DsType[]) {
  const rates: (number | null)[] = new Array(values.length);
  t.update("h/p/t", time, values, dstypes, rates);
  return rates;
}

Deno.test("RateTracker gives null for a series' first sample and per-second rates after", () => {
  const t = new RateTracker();
  assert.deepEqual(rate(t, 100, [1000, 5, 1], ["derive", "gauge", "counter"]), [null, null, null]);
  assert.deepEqual(rate(t, 110, [3000, 6, 11], ["derive", "gauge", "counter"]), [200, null, 1]);
});

Deno.test("RateTracker handles a 32-bit counter wrap", () => {
  const t = new RateTracker();
  rate(t, 0, [4294967290], ["counter"]);
  assert.deepEqual(rate(t, 1, [4], ["counter"]), [10]);
});

Deno.test("RateTracker handles a 64-bit counter wrap with bigint values", () => {
  const t = new RateTracker();
  rate(t, 0, [2n ** 64n - 6n], ["counter"]);
  assert.deepEqual(rate(t, 2, [4], ["counter"]), [5]);
});

Deno.test("RateTracker lets a DERIVE go down (negative rate)", () => {
  const t = new RateTracker();
  rate(t, 0, [100], ["derive"]);
  assert.deepEqual(rate(t, 4, [60], ["derive"]), [-10]);
});

Deno.test("RateTracker gives null for a sample not newer than the last one", () => {
  const t = new RateTracker();
  rate(t, 10, [100], ["derive"]);
  assert.deepEqual(rate(t, 10, [200], ["derive"]), [null]);
  assert.deepEqual(rate(t, 11, [300], ["derive"]), [200]);
});

Deno.test("RateTracker keeps separate state per series and bounds the number of series", () => {
  const t = new RateTracker({ maxSeries: 10 });
  const r: (number | null)[] = [null];
  for (let i = 0; i < 25; i++) t.update(`s${i}`, 0, [i], ["counter"], r);
  assert.ok(t.size <= 10);
  t.update("s24", 1, [30], ["counter"], r);
  assert.deepEqual(r, [6]);
});
