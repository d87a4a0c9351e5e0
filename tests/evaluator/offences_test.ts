import assert from "node:assert/strict";
import { createCounters } from "../../src/model/mod.ts";
import { ruleCounters } from "../../src/evaluator/counters.ts";
import { OffencePolicy } from "../../src/evaluator/_offences.ts";
import { memoryLogger } from "./_helpers.ts";

function policy(maxOverruns = 3) {
  const log = memoryLogger();
  const counters = createCounters();
  const p = new OffencePolicy({
    dir: "/rules",
    logger: log,
    counters: ruleCounters(counters),
    maxOverruns,
  });
  return { p, log, counters };
}

Deno.test("OffencePolicy disables a handler at its maxOverruns-th offence and says what it did", () => {
  const { p, log, counters } = policy(2);
  p.offend("a.ts::metric::slow", "ran past the 50 ms budget");
  assert.equal(p.isDisabled("a.ts::metric::slow"), false);
  p.offend("a.ts::metric::slow", "ran past the 50 ms budget");
  assert.equal(p.isDisabled("a.ts::metric::slow"), true);
  assert.deepEqual(p.disabled, [
    { name: "a.ts::metric::slow", reason: "ran past the 50 ms budget (offence 2 of 2)" },
  ]);
  assert.match(log.text(), /offence 1 of 2 before it is disabled/);
  assert.match(log.text(), /rule handler a\.ts::metric::slow disabled: .* fix \/rules\/a\.ts/);
  const overruns = counters.snapshot().find((s) => s.name === "edge_agent_rules_overruns_total");
  assert.equal(overruns?.value, 2);
});

Deno.test("OffencePolicy forgives a changed file and gives back what it took when asked", () => {
  const { p } = policy(1);
  p.offend("a.ts::metric::x", "crashed the rule host");
  p.offend("b.ts::metric::y", "crashed the rule host");
  const was = p.forgive("a.ts");
  assert.equal(p.isDisabled("a.ts::metric::x"), false);
  assert.equal(p.isDisabled("b.ts::metric::y"), true, "another file keeps its state");
  p.restore(was);
  assert.equal(p.isDisabled("a.ts::metric::x"), true);
  p.clear();
  assert.deepEqual(p.disabledNames, []);
});

Deno.test("OffencePolicy lists a disabled rule file with its reason until it is forgiven", () => {
  const { p, log } = policy();
  p.disableFile("loop.ts", "did not finish loading within 5000 ms");
  assert.deepEqual([...p.disabledFiles()], [["loop.ts", "did not finish loading within 5000 ms"]]);
  assert.match(log.text(), /rule file \/rules\/loop\.ts did not finish loading .* it is disabled/);
  p.forgive("loop.ts");
  assert.deepEqual([...p.disabledFiles()], []);
});
