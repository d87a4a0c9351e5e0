import assert from "node:assert/strict";
import { createCounters, type RuleEvent } from "../../src/model/mod.ts";
import {
  createExecutor,
  type Runner,
  type RunOutcome,
  type ServicesConfig,
} from "../../src/executor/mod.ts";
import { FakeClock, fakeRunner, memoryLogger, memoryReporter } from "./_helpers.ts";

const H = "nginx.ts::metric::down";
const fired = (key: string, time = 0): RuleEvent => ({
  kind: "fired",
  handler: H,
  key,
  actions: [{ service: "nginx", command: "restart" }],
  time,
});
const cleared = (key: string): RuleEvent => ({ kind: "cleared", handler: H, key, time: 0 });

function setup(restart: NonNullable<ServicesConfig[string]["commands"]>[string], runner?: Runner) {
  const clock = new FakeClock();
  const stateDir = Deno.makeTempDirSync();
  const executor = createExecutor({ nginx: { commands: { restart } } }, {
    logger: memoryLogger().logger,
    counters: createCounters(),
    stateDir,
    reporters: [memoryReporter()],
    runner: runner ?? fakeRunner(),
    clock,
  });
  const states = () => executor.inspect().loops.map((l) => `${l.key} ${l.state} ${l.attempt}`);
  return { executor, clock, stateDir, states };
}

Deno.test("inspect() names what holds each rule-triggered repair: cooldown, verifying, then nothing once cleared", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 60, Verify: 30 });
  t.executor.onRuleEvent(fired("a"));
  await t.executor.idle();
  t.executor.onRuleEvent(fired("b"));
  assert.deepEqual(t.states(), ["a verifying 1", "b cooldown 0"]);
  const held = t.executor.inspect().loops.find((l) => l.key === "b")!;
  assert.equal(held.at, t.clock.now() + 60_000, "held until the cooldown ends");
  t.executor.onRuleEvent(cleared("a"));
  t.executor.onRuleEvent(cleared("b"));
  assert.deepEqual(t.states(), []);
  await t.executor.stop();
});

Deno.test("inspect() shows a trigger held by maintenance, and the repair as escalated once the loop gives up", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 0, Verify: 10, Retries: 0 });
  t.executor.maintenance.on(60_000, { reason: "upgrade" });
  t.executor.onRuleEvent(fired("a"));
  assert.deepEqual(t.states(), ["a maintenance 0"]);
  t.executor.maintenance.off();
  await t.clock.advance(60_000, () => t.executor.idle());
  assert.deepEqual(t.states(), ["a verifying 1"]);
  await t.clock.advance(10_000, () => t.executor.idle());
  assert.deepEqual(t.states(), ["a escalated 1"]);
  await t.executor.stop();
});

Deno.test("inspect() lists a command while it runs, with its trigger and start, and not after", async () => {
  const gate = Promise.withResolvers<void>();
  const runner: Runner = {
    async run() {
      await gate.promise;
      const o: RunOutcome = {
        kind: "exited",
        code: 0,
        output: "",
        outputBytes: 0,
        truncated: false,
        timedOut: false,
        stopped: false,
        signals: [],
        durationMs: 1,
      };
      return o;
    },
  };
  const t = setup({ Argv: ["/bin/true"] }, runner);
  const done = t.executor.run({ service: "nginx", command: "restart", trigger: { kind: "cli" } });
  const running = t.executor.inspect().running;
  assert.deepEqual(running, [{
    service: "nginx",
    command: "restart",
    trigger: { kind: "cli" },
    since: t.clock.now(),
  }]);
  running[0]!.service = "changed"; // a copy: the executor's own entry is not touched
  assert.equal(t.executor.inspect().running[0]!.service, "nginx");
  gate.resolve();
  await done;
  assert.deepEqual(t.executor.inspect().running, []);
  await t.executor.stop();
});
