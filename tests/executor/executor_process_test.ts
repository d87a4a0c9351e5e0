import assert from "node:assert/strict";
import { createCounters, type Trigger } from "../../src/model/mod.ts";
import { checkServices, createExecutor, type ServicesConfig } from "../../src/executor/mod.ts";
import { memoryLogger, memoryReporter } from "./_helpers.ts";

const cli: Trigger = { kind: "cli" };

function executorFor(services: ServicesConfig, maxParallel = 4) {
  const reporter = memoryReporter();
  const executor = createExecutor(services, {
    logger: memoryLogger().logger,
    counters: createCounters(),
    stateDir: Deno.makeTempDirSync(),
    reporters: [reporter],
    maxParallel,
  });
  return { executor, reporter };
}

Deno.test("real processes: success, non-zero exit, timeout and big output give the documented results", async () => {
  const { executor, reporter } = executorFor({
    hello: { commands: { exec: '/bin/echo "Hello World!" 2>&1' } },
    fail: { commands: { exit3: { Argv: ["/bin/sh", "-c", "echo broken >&2; exit 3"] } } },
    hang: { commands: { sleep: { Argv: ["/bin/sleep", "30"], Timeout: 0.2 } } },
    big: { commands: { dump: { Argv: ["/usr/bin/head", "-c", "100000", "/dev/zero"] } } },
  });
  await executor.start();
  try {
    const ok = await executor.run({ service: "hello", command: "exec", trigger: cli });
    assert.deepEqual([ok.result.code, ok.result.message], [0, "Hello World!\n"]);
    assert.deepEqual(ok.argv, ["/bin/echo", "Hello World!"]);
    assert.match(
      ok.result.timestamp,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      "lua-collectd-monitor's form",
    );

    const bad = await executor.run({ service: "fail", command: "exit3", trigger: cli });
    assert.deepEqual([bad.result.code, bad.result.message], [3, "broken\n"]);

    const slow = await executor.run({ service: "hang", command: "sleep", trigger: cli });
    assert.equal(slow.result.code, 0x1010);
    assert.equal(slow.timedOut, true);
    assert.match(slow.result.message, /timed out after 0.2 s/);

    const big = await executor.run({ service: "big", command: "dump", trigger: cli });
    assert.equal(big.result.code, 0);
    assert.equal(big.truncated, true);
    assert.equal(big.outputBytes, 100_000);
    assert.match(big.result.message, /output truncated: 100000 bytes, first 65536 kept/);
    assert.equal(reporter.records.length, 4);
  } finally {
    await executor.stop();
  }
});

Deno.test("a second request for a busy service is refused with BUSY (0x1011), not queued", async () => {
  const { executor } = executorFor({
    db: { commands: { slow: "/bin/sleep 0.5", other: "/bin/true" } },
    web: { commands: { ping: "/bin/true" } },
  });
  await executor.start();
  try {
    const first = executor.run({ service: "db", command: "slow", trigger: cli });
    const second = await executor.run({ service: "db", command: "other", trigger: cli });
    assert.equal(second.result.code, 0x1011);
    assert.match(second.result.message, /service "db" is already running a command/);
    const elsewhere = await executor.run({ service: "web", command: "ping", trigger: cli });
    assert.equal(elsewhere.result.code, 0, "other services are not blocked");
    assert.equal((await first).result.code, 0);
    const after = await executor.run({ service: "db", command: "other", trigger: cli });
    assert.equal(after.result.code, 0, "the service is free again once the run ended");
  } finally {
    await executor.stop();
  }
});

Deno.test("the global cap refuses runs beyond MaxParallelCommands with BUSY", async () => {
  const { executor } = executorFor({
    a: { commands: { nap: "/bin/sleep 0.4" } },
    b: { commands: { nap: "/bin/sleep 0.4" } },
    c: { commands: { nap: "/bin/true" } },
  }, 2);
  await executor.start();
  try {
    const running = [
      executor.run({ service: "a", command: "nap", trigger: cli }),
      executor.run({ service: "b", command: "nap", trigger: cli }),
    ];
    const third = await executor.run({ service: "c", command: "nap", trigger: cli });
    assert.equal(third.result.code, 0x1011);
    assert.match(third.result.message, /MaxParallelCommands/);
    assert.deepEqual((await Promise.all(running)).map((r) => r.result.code), [0, 0]);
  } finally {
    await executor.stop();
  }
});

Deno.test("checkServices() resolves bare names through PATH and reports a missing executable", () => {
  const { services, problems } = checkServices({
    s: { commands: { ok: "true", gone: "/usr/bin/edge-agent-no-such-tool --x", rel: "./x" } },
  });
  assert.deepEqual(services.get("s")?.get("ok")?.argv, ["/usr/bin/true"]);
  assert.deepEqual(problems.map((p) => p.path), [
    "Services.s.commands.gone",
    "Services.s.commands.rel",
  ]);
  assert.match(problems[0]!.message, /does not exist or is not an executable/);
  assert.throws(
    () =>
      createExecutor({ s: { commands: { gone: "/nonexistent/x" } } }, {
        logger: memoryLogger().logger,
        counters: createCounters(),
        stateDir: "/tmp",
        reporters: [],
      }),
    /Services\.s\.commands\.gone: \/nonexistent\/x does not exist/,
  );
});

Deno.test("stop() lets running commands finish for a grace period, then kills them with 0x1016", async () => {
  const reporter = memoryReporter();
  const executor = createExecutor({ db: { commands: { slow: "/bin/sleep 30" } } }, {
    logger: memoryLogger().logger,
    counters: createCounters(),
    stateDir: Deno.makeTempDirSync(),
    reporters: [reporter],
    stopGraceMs: 200,
  });
  await executor.start();
  const running = executor.run({ service: "db", command: "slow", trigger: cli });
  await new Promise((r) => setTimeout(r, 100));
  const started = performance.now();
  await executor.stop();
  const took = performance.now() - started;
  const rec = await running;
  assert.equal(rec.result.code, 0x1016);
  assert.match(rec.result.message, /agent is shutting down/);
  assert.ok(took >= 150 && took < 3000, `stop took ${took} ms`);
  assert.equal(reporter.records.length, 1, "the killed run is still reported");
});

Deno.test("an executable removed after load gives SPAWN_FAILED (0x1014) naming it", async () => {
  const dir = await Deno.makeTempDir();
  const exe = `${dir}/repair`;
  await Deno.copyFile("/bin/true", exe);
  await Deno.chmod(exe, 0o755);
  const { executor } = executorFor({ s: { commands: { fix: exe } } });
  await executor.start();
  try {
    await Deno.remove(exe);
    const rec = await executor.run({ service: "s", command: "fix", trigger: cli });
    assert.equal(rec.result.code, 0x1014);
    assert.match(rec.result.message, new RegExp(`Cannot run ${exe}`));
  } finally {
    await executor.stop();
  }
});

Deno.test("a daemon started by a command does not hold up the result, and is left running", async () => {
  const { executor } = executorFor({
    svc: { commands: { start: { Argv: ["/bin/sh", "-c", "/bin/sleep 7.4321 & echo started"] } } },
  });
  await executor.start();
  try {
    const started = performance.now();
    const rec = await executor.run({ service: "svc", command: "start", trigger: cli });
    const took = performance.now() - started;
    assert.deepEqual([rec.result.code, rec.result.message], [0, "started\n"]);
    assert.ok(took < 3000, `took ${took} ms`);
    const ps = new TextDecoder().decode(
      (await new Deno.Command("/usr/bin/pgrep", { args: ["-f", "sleep 7.4321"] }).output()).stdout,
    ).trim();
    assert.notEqual(ps, "", "the daemon is still running");
    for (const pid of ps.split("\n")) Deno.kill(Number(pid), "SIGKILL");
  } finally {
    await executor.stop();
  }
});

Deno.test("runs are counted per service, trigger and outcome", async () => {
  const counters = createCounters();
  const executor = createExecutor({
    hello: { commands: { exec: "/bin/true" } },
    fail: { commands: { exit3: { Argv: ["/bin/sh", "-c", "exit 3"] } } },
  }, {
    logger: memoryLogger().logger,
    counters,
    stateDir: Deno.makeTempDirSync(),
    reporters: [memoryReporter()],
  });
  await executor.start();
  try {
    await executor.run({ service: "hello", command: "exec", trigger: cli });
    await executor.run({ service: "hello", command: "exec", trigger: cli });
    await executor.run({ service: "fail", command: "exit3", trigger: cli });
    const runs = counters.snapshot().filter((c) => c.name === "edge_agent_executor_runs_total")
      .map((c) => `${c.labels.service} ${c.labels.trigger} ${c.labels.result} ${c.value}`).sort();
    assert.deepEqual(runs, ["fail cli failed 1", "hello cli ok 2"]);
  } finally {
    await executor.stop();
  }
});
