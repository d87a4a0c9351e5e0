import assert from "node:assert/strict";
import { createCounters } from "../../src/model/mod.ts";
import { createSampler, readTotals } from "../../src/status/_sampler.ts";

function setup() {
  const counters = createCounters();
  const packets = counters.counter("edge_agent_collectd_packets_total", "");
  const values = counters.counter("edge_agent_collectd_values_total", "");
  const badSig = counters.counter("edge_agent_collectd_dropped_total", "", {
    reason: "bad_signature",
  });
  let t = Date.UTC(2026, 10, 23, 12);
  const sampler = createSampler(counters, { now: () => t });
  /** One second passes with `n` packets of 8 values each, then the 1-s tick. */
  const second = (n: number) => {
    packets.inc(n);
    values.inc(8 * n);
    t += 1000;
    sampler.tick();
  };
  return { counters, sampler, second, badSig, advance: (ms: number) => (t += ms) };
}

Deno.test("the sampler's rates cover the last minute once the agent has run that long", () => {
  const s = setup();
  s.sampler.tick();
  for (let i = 0; i < 30; i++) s.second(1); // 30 s at 1 packet/s
  for (let i = 0; i < 60; i++) s.second(3); // then a minute at 3/s
  const r = s.sampler.rates();
  assert.equal(r.windowS, 60);
  assert.equal(r.packetsPerS, 3);
  assert.equal(r.valuesPerS, 24);
  assert.equal(r.now.packets, 30 + 180);
});

Deno.test("the sampler's window is shorter just after the start, and empty before the first tick", () => {
  const s = setup();
  assert.deepEqual([s.sampler.rates().windowS, s.sampler.rates().packetsPerS], [0, 0]);
  s.sampler.tick();
  for (let i = 0; i < 5; i++) s.second(2);
  assert.deepEqual([s.sampler.rates().windowS, s.sampler.rates().packetsPerS], [5, 2]);
});

Deno.test("the last packet's age is told to the second from the tick at which the counter moved", () => {
  const s = setup();
  s.sampler.tick();
  assert.equal(s.sampler.rates().lastPacketAgeS, null, "none since the start");
  s.second(1);
  for (let i = 0; i < 9; i++) s.second(0);
  assert.equal(s.sampler.rates().lastPacketAgeS, 9);
  s.advance(400);
  s.counters.counter("edge_agent_collectd_packets_total", "").inc(); // after the last tick
  assert.equal(s.sampler.rates().lastPacketAgeS, 0);
});

Deno.test("drops are counted per stage and reason, in all and within the window", () => {
  const s = setup();
  s.badSig.inc(5);
  s.sampler.tick();
  for (let i = 0; i < 61; i++) s.second(0);
  s.badSig.inc(2);
  s.counters.counter("edge_agent_rules_dropped_packets_total", "").inc(4);
  const r = s.sampler.rates();
  assert.equal(r.now.drops.get("intake/bad_signature"), 7);
  assert.equal(r.dropsInWindow.get("intake/bad_signature"), 2);
  assert.equal(r.dropsInWindow.get("rules/queue"), 4);
});

Deno.test("readTotals() sums the rule host restarts and every spool's entries", () => {
  const counters = createCounters();
  counters.counter("edge_agent_rules_host_restarts_total", "").inc(2);
  counters.gauge("edge_agent_mqtt_spool_entries", "").set(3);
  const t = readTotals(counters);
  assert.deepEqual([t.hostRestarts, t.spool, t.packets], [2, 3, 0]);
});
