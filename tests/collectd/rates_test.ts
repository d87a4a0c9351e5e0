import assert from "node:assert/strict";
import { RateTracker } from "../../src/collectd/mod.ts";
import type { DsType, Metric, MetricValue } from "../../src/model/mod.ts";

function metric(time: number, values: MetricValue[], dstypes: DsType[], host = "h"): Metric {
  const rates: (number | null)[] = new Array(values.length);
  return {
    host,
    plugin: "p",
    plugin_instance: "",
    type: "t",
    type_instance: "",
    time,
    interval: 1,
    values,
    dstypes,
    dsnames: [],
    rates,
  };
}

function rate(t: RateTracker, time: number, values: MetricValue[], dstypes: DsType[]) {
  const m = metric(time, values, dstypes);
  t.update(m);
  return m.rates;
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
  for (let i = 0; i < 25; i++) t.update(metric(0, [i], ["counter"], `s${i}`));
  assert.ok(t.size <= 10);
  const m = metric(1, [30], ["counter"], "s24");
  t.update(m);
  assert.deepEqual(m.rates, [6]);
  const other = metric(1, [30], ["counter"], "s0");
  t.update(other);
  assert.deepEqual(other.rates, [null]);
});

Deno.test("RateTracker gives null, not an exception, when a slot changes from GAUGE to COUNTER", () => {
  const t = new RateTracker();
  rate(t, 0, [NaN, 2n ** 64n - 1n], ["gauge", "counter"]);
  assert.deepEqual(rate(t, 1, [2n ** 63n, 1.5], ["counter", "derive"]), [null, null]);
  assert.deepEqual(rate(t, 2, [2n ** 63n + 10n, 2.5], ["counter", "derive"]), [10, 1]);
});
