import assert from "node:assert/strict";
import { createCounters, type RuleEvent } from "../../src/model/mod.ts";
import {
  createExecutor,
  type Escalation,
  type RunOutcome,
  type ServicesConfig,
} from "../../src/executor/mod.ts";
import { createLogReporter } from "../../src/reporters/mod.ts";
import { FakeClock, fakeRunner, memoryLogger, memoryReporter } from "./_helpers.ts";

const HANDLER = "nginx.ts::metric::down";
const KEY = "web1/processes-nginx/ps_count";

const fired = (time: number, key = KEY): RuleEvent => ({
  kind: "fired",
  handler: HANDLER,
  key,
  actions: [{ service: "nginx", command: "restart" }],
  time,
});
const cleared = (time: number, key = KEY): RuleEvent => ({
  kind: "cleared",
  handler: HANDLER,
  key,
  time,
});

function setup(restart: NonNullable<ServicesConfig[string]["commands"]>[string]) {
  const { logger, events } = memoryLogger();
  const counters = createCounters();
  const reporter = memoryReporter();
  const runner = fakeRunner();
  const clock = new FakeClock();
  const escalations: Escalation[] = [];
  const executor = createExecutor({ nginx: { commands: { restart } } }, {
    logger,
    counters,
    stateDir: Deno.makeTempDirSync(),
    reporters: [reporter, createLogReporter(logger)],
    runner,
    clock,
    onEscalation: (e) => escalations.push(e),
  });
  const settle = () => executor.idle();
  const count = (name: string, labels: Record<string, string> = {}) =>
    counters.snapshot().filter((s) =>
      s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
    ).reduce((n, s) => n + s.value, 0);
  const messages = (re: RegExp) => events.filter((e) => re.test(e.msg)).map((e) => e.msg);
  /** Hands the executor a rule event and waits until what it started is done. */
  const send = async (e: RuleEvent) => {
    executor.onRuleEvent(e);
    await settle();
  };
  return { executor, events, reporter, runner, clock, escalations, settle, count, messages, send };
}

Deno.test("a trigger over MaxRuns during maintenance is held like a run, and escalates only if it still holds after maintenance", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 0, MaxRuns: 2, Window: 3600, Verify: 0 });
  await t.executor.start();
  for (let i = 0; i < 2; i++) { // two runs use up MaxRuns
    await t.send(fired(t.clock.now()));
    await t.clock.advance(1000, t.settle);
    await t.send(cleared(t.clock.now()));
    await t.clock.advance(1000, t.settle);
  }
  assert.equal(t.runner.calls.length, 2);
  t.executor.maintenance.on(600_000, { reason: "upgrade" });
  await t.send(fired(t.clock.now()));
  await t.clock.advance(300_000, t.settle);
  assert.equal(t.escalations.length, 0, "no escalation during maintenance");
  assert.deepEqual(t.messages(/REPAIR IS NOT WORKING/), []);
  assert.ok(!t.reporter.records.some((r) => r.result.code === 0x1017), "no 0x1017 reported");
  assert.ok(t.count("edge_agent_executor_suppressed_total", { reason: "maintenance" }) >= 1);
  await t.clock.advance(360_000, t.settle); // maintenance over, the condition still holds
  assert.equal(t.escalations.length, 1, "escalated once maintenance ended");
  assert.equal(t.runner.calls.length, 2, "MaxRuns still holds: no third run");
  await t.executor.stop();
});

Deno.test("a held MaxRuns escalation is dropped when the condition clears during maintenance", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 0, MaxRuns: 1, Window: 3600, Verify: 0 });
  await t.executor.start();
  await t.send(fired(t.clock.now()));
  await t.clock.advance(1000, t.settle);
  await t.send(cleared(t.clock.now()));
  t.executor.maintenance.on(600_000);
  await t.send(fired(t.clock.now()));
  await t.clock.advance(120_000, t.settle);
  await t.send(cleared(t.clock.now())); // the operator fixed it during maintenance
  await t.clock.advance(600_000, t.settle);
  assert.equal(t.escalations.length, 0);
  assert.equal(t.runner.calls.length, 1);
  await t.executor.stop();
});

Deno.test("the closed loop's give-up during maintenance is held until maintenance ends", async () => {
  const t = setup({
    Argv: ["/bin/true"],
    Cooldown: 0,
    MaxRuns: 10,
    Verify: 30,
    Retries: 0,
  });
  await t.executor.start();
  await t.send(fired(t.clock.now())); // run at 0, verify until 30
  await t.clock.advance(10_000, t.settle);
  t.executor.maintenance.on(300_000);
  await t.clock.advance(200_000, t.settle);
  assert.equal(t.escalations.length, 0, "no escalation during maintenance");
  assert.deepEqual(t.messages(/repair did not work|REPAIR IS NOT WORKING/), []);
  await t.clock.advance(200_000, t.settle);
  assert.equal(t.escalations.length, 1, "escalated after maintenance: the condition held");
  await t.executor.stop();
});

Deno.test("the MaxRuns escalation says how often the command ran and that this condition got no run", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 0, MaxRuns: 2, Window: 600, Verify: 0 });
  await t.executor.start();
  for (const key of ["a/x/y", "b/x/y"]) await t.send(fired(t.clock.now(), key));
  await t.clock.advance(1000, t.settle);
  await t.send(fired(t.clock.now(), "c/x/y"));
  await t.settle();
  assert.equal(t.escalations.length, 1);
  const msg = t.escalations[0]!.record.result.message;
  assert.match(msg, /^REPAIR IS NOT WORKING: nginx\/restart already ran 2 times in the last 600 s/);
  assert.match(msg, /not run for nginx\.ts::metric::down on c\/x\/y/);
  assert.doesNotMatch(msg, /after 0 run\(s\)/);
  assert.doesNotMatch(msg, /repair did not work/, "no run of this condition failed to repair it");
  await t.executor.stop();
});

Deno.test("repair verified is measured from the run, not from the trigger held back before it", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 60, Verify: 120 });
  await t.executor.start();
  await t.send(fired(t.clock.now(), "a/x/y")); // runs at 0
  await t.clock.advance(10_000, t.settle);
  await t.send(fired(t.clock.now(), "b/x/y")); // t=10: held by the cooldown until 60
  await t.clock.advance(51_000, t.settle);
  assert.equal(t.runner.calls.length, 2, "the held trigger ran at 60");
  await t.send(cleared(t.clock.now(), "b/x/y")); // t=61
  await t.settle();
  const [line] = t.messages(/repair verified/);
  assert.match(line ?? "(no line)", /cleared 1 s after nginx\/restart ran/);
  await t.executor.stop();
});

/** A runner whose one run ends when the test says so. */
function heldRunner(t: ReturnType<typeof setup>) {
  const { promise: exited, resolve } = Promise.withResolvers<RunOutcome>();
  t.runner.run = () => exited;
  return (durationMs: number) =>
    resolve({
      kind: "exited",
      code: 0,
      output: "",
      outputBytes: 0,
      truncated: false,
      timedOut: false,
      stopped: false,
      signals: [],
      durationMs,
    });
}

Deno.test("no repair is claimed verified when Verify is 0, also when the condition clears during the run", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 0, Verify: 0 });
  const exit = heldRunner(t);
  await t.executor.start();
  t.executor.onRuleEvent(fired(t.clock.now()));
  await t.clock.advance(1000, () => Promise.resolve());
  t.executor.onRuleEvent(cleared(t.clock.now())); // the restart is still running
  exit(1000);
  await t.settle();
  await t.send(fired(t.clock.now()));
  await t.clock.advance(1000, t.settle);
  await t.send(cleared(t.clock.now())); // after the run
  assert.equal(t.runner.calls.length, 0, "the held runner replaced the recording one");
  assert.deepEqual(t.messages(/repair verified/), []);
  assert.equal(t.count("edge_agent_executor_repairs_verified_total"), 0);
  await t.executor.stop();
});

Deno.test("a condition that clears while its repair runs is verified after the run's own result line", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 0, Verify: 30 });
  const exit = heldRunner(t);
  await t.executor.start();
  t.executor.onRuleEvent(fired(t.clock.now()));
  await t.clock.advance(2000, () => Promise.resolve());
  t.executor.onRuleEvent(cleared(t.clock.now())); // the restart is still running
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(t.messages(/verified/), [], "nothing claimed before the run ended");
  exit(2500);
  await t.settle();
  const order = t.events.map((e) => e.msg).filter((m) => /succeeded|verified/.test(m));
  assert.equal(order.length, 2, order.join("\n"));
  assert.match(order[0]!, /nginx\/restart succeeded/);
  assert.match(order[1]!, /repair verified: the condition cleared 2 s after nginx\/restart ran/);
  assert.equal(t.count("edge_agent_executor_repairs_verified_total"), 1);
  await t.executor.stop();
});
