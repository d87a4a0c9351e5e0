import assert from "node:assert/strict";
import { createCounters, type RuleEvent } from "../../src/model/mod.ts";
import { createExecutor, type Escalation, type ServicesConfig } from "../../src/executor/mod.ts";
import { FakeClock, fakeRunner, memoryLogger, memoryReporter } from "./_helpers.ts";

const HANDLER = "nginx.ts::metric::down";
const KEY = "web1/processes-nginx/ps_count";

function fired(time: number): RuleEvent {
  return {
    kind: "fired",
    handler: HANDLER,
    key: KEY,
    actions: [{ service: "nginx", command: "restart" }],
    time,
  };
}
const cleared = (time: number): RuleEvent => ({
  kind: "cleared",
  handler: HANDLER,
  key: KEY,
  time,
});

function setup(
  restart: NonNullable<ServicesConfig[string]["commands"]>[string],
  stateDir = Deno.makeTempDirSync(),
  clock = new FakeClock(),
) {
  const { logger, events } = memoryLogger();
  const counters = createCounters();
  const reporter = memoryReporter();
  const runner = fakeRunner();
  const escalations: Escalation[] = [];
  const executor = createExecutor({ nginx: { commands: { restart } } }, {
    logger,
    counters,
    stateDir,
    reporters: [reporter],
    runner,
    clock,
    onEscalation: (e) => escalations.push(e),
  });
  const settle = () => executor.idle();
  /** Fires the handler once a second for `seconds` seconds. */
  const fireEverySecond = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      executor.onRuleEvent(fired(clock.now()));
      await settle();
      await clock.advance(1000, settle);
    }
  };
  const count = (name: string, labels: Record<string, string> = {}) =>
    counters.snapshot().filter((s) =>
      s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
    ).reduce((n, s) => n + s.value, 0);
  return {
    executor,
    events,
    counters,
    reporter,
    runner,
    clock,
    stateDir,
    escalations,
    settle,
    fireEverySecond,
    count,
  };
}

Deno.test("a rule firing and clearing every second runs its command once per cooldown", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 60, MaxRuns: 10, Window: 3600, Verify: 30 });
  await t.executor.start();
  for (let i = 0; i < 300; i++) { // the rule engine reports each activation once: fired, cleared
    t.executor.onRuleEvent(i % 2 === 0 ? fired(t.clock.now()) : cleared(t.clock.now()));
    await t.settle();
    await t.clock.advance(1000, t.settle);
  }
  assert.equal(t.runner.calls.length, 5, "runs at t=0, 60, 120, 180 and 240 s only");
  assert.equal(t.count("edge_agent_executor_suppressed_total", { reason: "cooldown" }), 145);
  assert.equal(t.count("edge_agent_executor_repairs_verified_total"), 5);
  await t.executor.stop();
});

Deno.test("a trigger held back by the cooldown runs when it ends if the condition still holds", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 60, Verify: 30 });
  await t.executor.start();
  t.executor.onRuleEvent(fired(t.clock.now()));
  await t.clock.advance(5000, t.settle);
  t.executor.onRuleEvent(cleared(t.clock.now())); // the first repair worked
  await t.clock.advance(5000, t.settle);
  t.executor.onRuleEvent(fired(t.clock.now())); // t=10: it breaks again, within the cooldown
  await t.clock.advance(49_000, t.settle);
  assert.equal(t.runner.calls.length, 1, "held back until t=60");
  await t.clock.advance(2000, t.settle);
  assert.equal(t.runner.calls.length, 2, "run at t=60, no new fired event needed");
  await t.executor.stop();
});

Deno.test("a rule firing every second stops at MaxRuns with a loud escalation, until it clears", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 60, MaxRuns: 3, Window: 600, Verify: 0 });
  await t.executor.start();
  await t.fireEverySecond(300);
  assert.equal(t.runner.calls.length, 3, "runs at t=0, 60 s and 120 s only");
  assert.equal(t.count("edge_agent_executor_suppressed_total", { reason: "cooldown" }), 2);
  assert.equal(t.count("edge_agent_executor_suppressed_total", { reason: "max_runs" }), 1);
  assert.equal(t.count("edge_agent_executor_suppressed_total", { reason: "escalated" }), 179);
  const loud = t.events.filter((e) => e.level === "error" && /REPAIR IS NOT WORKING/.test(e.msg));
  assert.equal(loud.length, 1);
  assert.equal(t.escalations.length, 1);
  assert.deepEqual(t.reporter.records.map((r) => r.result.code), [0, 0, 0, 0x1017]);
  assert.deepEqual(t.reporter.records[0]!.trigger, { kind: "rule", handler: HANDLER });
  await t.clock.advance(600_000, t.settle);
  await t.fireEverySecond(1);
  assert.equal(t.runner.calls.length, 3, "still given up: the condition never cleared");
  t.executor.onRuleEvent(cleared(t.clock.now()));
  await t.fireEverySecond(1);
  assert.equal(t.runner.calls.length, 4, "a clear re-arms it (the window has slid)");
  await t.executor.stop();
});

Deno.test("the closed loop counts a repair as verified when the handler clears within Verify", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 0, Verify: 30, Retries: 2, Backoff: 10 });
  await t.executor.start();
  await t.fireEverySecond(5);
  t.executor.onRuleEvent(cleared(t.clock.now()));
  await t.clock.advance(3_600_000, t.settle);
  assert.equal(t.runner.calls.length, 1);
  assert.equal(t.count("edge_agent_executor_repairs_verified_total"), 1);
  assert.equal(t.count("edge_agent_executor_suppressed_total", { reason: "verifying" }), 4);
  assert.ok(t.events.some((e) => /repair verified/.test(e.msg)));
  await t.executor.stop();
});

Deno.test("the closed loop retries with exponential backoff, then escalates and stops running", async () => {
  const t = setup({
    Argv: ["/bin/true"],
    Cooldown: 0,
    MaxRuns: 10,
    Verify: 30,
    Retries: 2,
    Backoff: 10,
  });
  const t0 = t.clock.now();
  const runTimes: number[] = [];
  const inner = t.runner.run.bind(t.runner);
  t.runner.run = (spec, onSpawn) => {
    runTimes.push((t.clock.now() - t0) / 1000);
    return inner(spec, onSpawn);
  };
  await t.executor.start();
  await t.fireEverySecond(400);
  // run 1 at 0; no clear by 30 → retry 10 s later (40); watch to 70 → retry 20 s later (90);
  // watch to 120 → give up.
  assert.deepEqual(runTimes, [0, 40, 90]);
  assert.equal(t.escalations.length, 1);
  const e = t.escalations[0]!;
  assert.equal(e.attempts, 3);
  assert.equal(e.record.result.code, 0x1017);
  assert.match(e.record.result.message, /repair did not work/);
  assert.equal(t.reporter.records.at(-1)?.result.code, 0x1017, "reporters got the escalation");
  assert.ok(t.events.some((ev) => ev.level === "error" && /repair did not work/.test(ev.msg)));
  assert.ok(t.count("edge_agent_executor_suppressed_total", { reason: "escalated" }) > 200);
  t.executor.onRuleEvent(cleared(t.clock.now()));
  await t.fireEverySecond(1);
  assert.equal(t.runner.calls.length, 4, "a clear re-arms the loop");
  await t.executor.stop();
});

Deno.test("closed-loop and storm counters survive an agent restart", async () => {
  const stateDir = Deno.makeTempDirSync();
  const clock = new FakeClock();
  const spec = {
    Argv: ["/bin/true"],
    Cooldown: 0,
    MaxRuns: 10,
    Verify: 30,
    Retries: 1,
    Backoff: 10,
  };
  const a = setup(spec, stateDir, clock);
  await a.executor.start();
  await a.fireEverySecond(35); // run at 0; at 30 the repair is not confirmed; retry due at 40
  await a.executor.stop();
  assert.equal(a.runner.calls.length, 1);
  const b = setup(spec, stateDir, clock);
  await b.executor.start();
  await b.fireEverySecond(5); // t = 35..40: the restored loop retries at 40
  assert.equal(b.runner.calls.length, 1, "the retry happened after the restart");
  await b.fireEverySecond(40); // watch 40..70, no clear → escalate (Retries 1)
  assert.equal(b.escalations.length, 1);
  assert.equal(b.escalations[0]!.attempts, 2, "the attempt count came from the state file");
  await b.executor.stop();
});

Deno.test("maintenance holds rule-triggered runs back but not remote commands, until it ends", async () => {
  const t = setup({ Argv: ["/bin/true"], Cooldown: 0, Verify: 0 });
  await t.executor.start();
  t.executor.maintenance.on(3_600_000, { reason: "planned work", by: "test" });
  assert.equal(t.executor.maintenance.status()?.reason, "planned work");
  await t.fireEverySecond(10);
  assert.equal(t.runner.calls.length, 0);
  assert.equal(t.count("edge_agent_executor_suppressed_total", { reason: "maintenance" }), 1);
  assert.equal(t.count("edge_agent_executor_suppressed_total", { reason: "pending" }), 9);
  const rec = await t.executor.run({
    service: "nginx",
    command: "restart",
    trigger: { kind: "remote", task_id: 7, sender: "ops" },
  });
  assert.equal(rec.result.code, 0);
  assert.equal(rec.result.task_id, 7);
  await t.clock.advance(20 * 60_000, t.settle);
  assert.equal(t.runner.calls.length, 1, "still held during maintenance (re-checked each minute)");
  t.executor.maintenance.off();
  await t.clock.advance(60_000, t.settle);
  assert.equal(t.runner.calls.length, 2, "the held-back trigger ran within a minute of `off`");
  await t.executor.stop();
});

Deno.test("run() answers unknown services and commands with lua-collectd-monitor's codes", async () => {
  const t = setup("/bin/true");
  await t.executor.start();
  const trigger = { kind: "remote" as const, task_id: "a1" };
  const noService = await t.executor.run({ service: "mysql", command: "restart", trigger });
  assert.equal(noService.result.code, 0x1002);
  assert.match(noService.result.message, /no such service: "mysql"/);
  const noCommand = await t.executor.run({ service: "nginx", command: "reload", trigger });
  assert.equal(noCommand.result.code, 0x1003);
  assert.equal(t.runner.calls.length, 0);
  assert.equal(t.reporter.records.length, 2, "refusals are reported too");
  await t.executor.stop();
  const late = await t.executor.run({ service: "nginx", command: "restart", trigger });
  assert.equal(late.result.code, 0x1016);
});

Deno.test("the audit reporter is awaited before any other reporter sees the record", async () => {
  const order: string[] = [];
  const slowAudit = {
    name: "audit",
    report: async () => {
      await new Promise((r) => setTimeout(r, 30));
      order.push("audit");
    },
  };
  const other = { name: "log", report: () => (order.push("log"), Promise.resolve()) };
  const { logger } = memoryLogger();
  const executor = createExecutor({ s: { commands: { c: "/bin/true" } } }, {
    logger,
    counters: createCounters(),
    stateDir: Deno.makeTempDirSync(),
    audit: slowAudit,
    reporters: [other],
    runner: fakeRunner(),
  });
  await executor.run({ service: "s", command: "c", trigger: { kind: "cli" } });
  assert.deepEqual(order, ["audit", "log"]);
  await executor.stop();
});

Deno.test("runs asking for services the config does not define share one _unknown series", async () => {
  const t = setup("/bin/true");
  await t.executor.run({ service: "nginx", command: "restart", trigger: { kind: "cli" } });
  for (let i = 0; i < 50; i++) {
    await t.executor.run({ service: `made-up-${i}`, command: "x", trigger: { kind: "cli" } });
  }
  const series = t.counters.snapshot().filter((s) => s.name === "edge_agent_executor_runs_total");
  assert.deepEqual(series.map((s) => s.labels.service), ["nginx", "_unknown"]);
  assert.equal(series[1]?.value, 50);
});
