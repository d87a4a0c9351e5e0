/** The evaluator's read-only view for `agent status` (real rule host, real rule files). */
import assert from "node:assert/strict";
import { createEvaluator } from "../../src/evaluator/mod.ts";
import type { RuleEvent } from "../../src/model/mod.ts";
import { memoryLogger, metric, rulesDir, testHostCommand } from "./_helpers.ts";

const SERVICES = { web: { commands: { restart: "/bin/true" } } };

async function started(files: Record<string, string>) {
  const dir = await rulesDir(files);
  const events: RuleEvent[] = [];
  const ev = createEvaluator({
    rulesDir: dir,
    typesDbText: "",
    services: SERVICES,
    logger: memoryLogger(),
    onEvent: (e) => events.push(e),
    hostCommand: testHostCommand(),
    watch: false,
    maxOverruns: 1,
    budgetMs: 50,
  });
  await ev.start();
  return {
    ev,
    events,
    async [Symbol.asyncDispose]() {
      await ev.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("inspect() lists a condition while it is fired, since the sample that fired it, and drops it once cleared", async () => {
  await using s = await started({
    "low.ts": `export const metrics = { low(m: { values: number[] }) {
  if (m.values[0]! < 100) return { service: "web", command: "restart" };
} };\n`,
  });
  await s.ev.evaluate([metric({ values: [5], time: 1_700_000_000 })]);
  assert.deepEqual(s.ev.inspect().firing, [{
    handler: "low.ts::metric::low",
    key: "web1/memory/memory-free",
    since: 1_700_000_000_000,
  }]);
  // still firing: the first sample's time stays
  await s.ev.evaluate([metric({ values: [6], time: 1_700_000_010 })]);
  assert.equal(s.ev.inspect().firing[0]?.since, 1_700_000_000_000);
  await s.ev.evaluate([metric({ values: [500], time: 1_700_000_020 })]);
  assert.deepEqual(s.ev.inspect().firing, []);
  assert.deepEqual(s.ev.inspect().files, ["low.ts"]);
});

Deno.test("inspect() lists a handler disabled for looping, with what it did; a reload re-enables it", async () => {
  await using s = await started({
    "spin.ts": `export const metrics = { spin(m: { values: number[] }) {
  if (m.values[0] === 13) for (;;) { /* spin */ }
} };\n`,
  });
  await s.ev.evaluate([metric({ values: [13] })]);
  const { disabled } = s.ev.inspect();
  assert.equal(disabled.length, 1);
  assert.equal(disabled[0]!.name, "spin.ts::metric::spin");
  assert.equal(disabled[0]!.kind, "handler");
  assert.match(disabled[0]!.reason, /ran past the 50 ms budget .*\(offence 1 of 1\)/);
  await s.ev.reload();
  assert.deepEqual(s.ev.inspect().disabled, []);
});

Deno.test("inspect() lists a rule file disabled for looping at load, with what it did", async () => {
  const dir = await rulesDir({
    "hang.ts": "for (;;) { /* never loads */ }\nexport const metrics = {};\n",
    "ok.ts": "export const metrics = { ok() {} };\n",
  });
  const ev = createEvaluator({
    rulesDir: dir,
    typesDbText: "",
    services: SERVICES,
    logger: memoryLogger(),
    onEvent: () => {},
    hostCommand: testHostCommand(),
    watch: false,
    loadBudgetMs: 300,
  });
  try {
    await ev.start();
    assert.deepEqual(ev.inspect().disabled, [{
      name: "hang.ts",
      kind: "file",
      reason: "did not finish loading within 300 ms (endless loop in its top-level code?)",
    }]);
    assert.deepEqual(ev.handlers, ["ok.ts::metric::ok"]);
  } finally {
    await ev.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
