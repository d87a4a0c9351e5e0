import assert from "node:assert/strict";
import { createCounters } from "../../src/model/mod.ts";
import {
  activityCheck,
  combineChecks,
  quietCheck,
  stallCheck,
  totalOf,
} from "../../src/telemetry/health.ts";

Deno.test("activityCheck() passes during the start-up window, then fails until the value moves", () => {
  let t = 0;
  let v = 0;
  const check = activityCheck(() => v, {
    windowMs: 10_000,
    what: "collectd packets",
    now: () => t,
  });
  assert.deepEqual(check(), { ok: true, detail: "collectd packets: starting" });
  t = 10_001;
  const down = check();
  assert.equal(down.ok, false);
  assert.equal(down.detail, "no collectd packets for 10.0 s (limit 10 s)");
  v = 5;
  t = 12_000;
  assert.deepEqual(check(), { ok: true, detail: "collectd packets: last seen 0.0 s ago" });
  t = 21_000;
  assert.equal(check().ok, true);
  t = 22_001;
  assert.equal(check().ok, false);
});

Deno.test("combineChecks() is healthy only when every check is, and a throwing check fails", () => {
  const good = () => ({ ok: true, detail: "fine" });
  assert.equal(combineChecks({ a: good, b: good })().ok, true);
  const report = combineChecks({
    a: good,
    b: () => {
      throw new Error("evaluator gone");
    },
  })();
  assert.equal(report.ok, false);
  assert.deepEqual(report.checks.b, { ok: false, detail: "check failed: evaluator gone" });
  assert.deepEqual(report.checks.a, { ok: true, detail: "fine" });
});

Deno.test("totalOf() sums every label combination of one name", () => {
  const c = createCounters();
  c.counter("p_total", "", { listener: "0" }).inc(2);
  c.counter("p_total", "", { listener: "1" }).inc(3);
  c.counter("other_total", "").inc(100);
  assert.equal(totalOf(c, "p_total"), 5);
  assert.equal(totalOf(c, "missing"), 0);
});

Deno.test("stallCheck() fails when input keeps arriving but the work stopped for the window", () => {
  let t = 0, input = 0, output = 0, handlers = 1;
  const check = stallCheck(() => input, () => output, {
    windowMs: 5000,
    what: "rule evaluations",
    active: () => handlers > 0,
    now: () => t,
  });
  assert.equal(check().ok, true, "nothing arrives: fine");
  for (t = 1000; t <= 4000; t += 1000) {
    input += 10;
    output += 10;
    assert.equal(check().ok, true);
  }
  for (; t <= 10000; t += 1000) {
    input += 10; // evaluations stopped at 4 s
    check();
  }
  const down = check();
  assert.equal(down.ok, false);
  assert.equal(down.detail, "input keeps arriving but no rule evaluations for 7.0 s");
  handlers = 0;
  assert.deepEqual(check(), { ok: true, detail: "rule evaluations: nothing to run" });
  handlers = 1;
  output += 1;
  assert.equal(check().ok, true, "work resumed");
});

Deno.test("stallCheck() does not count the time with nothing to run as a stall", () => {
  let t = 0, input = 0, handlers = 0;
  const output = 0;
  const check = stallCheck(() => input, () => output, {
    windowMs: 5000,
    what: "rule evaluations",
    active: () => handlers > 0,
    now: () => t,
  });
  for (t = 1000; t <= 12000; t += 1000) {
    input += 10; // values arrive while every handler is disabled
    assert.equal(check().ok, true);
  }
  handlers = 1; // a fixed rule file loads; its first call comes with the next packet
  input += 10;
  assert.equal(check().ok, true, "not a stall the moment work returns");
});

Deno.test("quietCheck() fails while a drop counter moved within the window, then recovers", () => {
  let t = 0, drops = 0;
  const check = quietCheck(() => drops, {
    windowMs: 5000,
    what: "packets dropped: last",
    now: () => t,
  });
  assert.equal(check().ok, true);
  t = 1000;
  drops = 3;
  assert.deepEqual(check(), { ok: false, detail: "packets dropped: last 0.0 s ago" });
  t = 6000;
  assert.equal(check().ok, false);
  t = 6001;
  assert.equal(check().ok, true);
});
