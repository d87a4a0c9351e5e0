import assert from "node:assert/strict";
import { join } from "node:path";
import { Code } from "../../src/model/mod.ts";
import { brokerAgent } from "./_broker_agent.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** `scripts/agent ARGS` to its end: exit code and output. */
async function cli(...args: string[]) {
  const out = await new Deno.Command(join(ROOT, "scripts/agent"), {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("scripts/agent: a maintenance message for 999999999999d is refused (0x1004, audited) and bricks nothing", async () => {
  const t = await brokerAgent();
  try {
    await t.send({ task_id: "b1", maintenance: "on", for: "999999999999d" });
    const refused = await t.result("b1");
    assert.equal(refused.code, Code.INVALID_MESSAGE);
    assert.match(String(refused.message), /for: "999999999999d" is longer than the maximum of 30d/);
    await assert.rejects(Deno.stat(join(t.stateDir, "maintenance.json")), Deno.errors.NotFound);
    assert.ok((await t.audit()).some((l) => l.task_id === "b1" && l.code === Code.INVALID_MESSAGE));

    await t.send({ task_id: "b2", maintenance: "on", for: "2h", reason: "upgrade" });
    assert.equal((await t.result("b2")).code, 0);
    await t.restart();
    await t.agent.waitFor(/maintenance in force/);
    await t.send({ task_id: "b3", maintenance: "off" });
    assert.equal((await t.result("b3")).code, 0);
    assert.deepEqual(
      t.results.messages.filter((m) => m.code === Code.INTERRUPTED),
      [],
      "no false 0x1009 after the restart",
    );

    const viaCli = await cli("maintenance", "on", "--for", "999999999999d", "-c", t.configFile);
    assert.equal(viaCli.code, 2, viaCli.stderr);
    assert.match(viaCli.stderr, /longer than the maximum of 30d/);
  } finally {
    await t.stop();
  }
});

Deno.test("scripts/agent starts on a maintenance.json with until 8.64e19, sets it aside and names it", async () => {
  const t = await brokerAgent({
    prepare: (state) =>
      Deno.writeTextFile(
        join(state, "maintenance.json"),
        JSON.stringify({ since: Date.now(), until: 8.64e19, by: "mqtt" }),
      ),
  });
  try {
    const file = join(t.stateDir, "maintenance.json");
    await t.agent.waitFor(
      new RegExp(`ERROR.*${file} is unreadable .*set aside as ${file}\\.corrupt-`),
    );
    await t.send({ task_id: 1, service: "hello", command: "exec" });
    assert.equal((await t.result(1)).code, 0, "running");
  } finally {
    await t.stop();
  }
});

Deno.test('scripts/agent refuses impossible and future timestamps and runs 154 and "154" once', async () => {
  const t = await brokerAgent();
  try {
    const hello = { service: "hello", command: "exec" };
    await t.send({ task_id: 1, timestamp: "2026-99-99T99:99:99Z", ...hello });
    await t.send({ task_id: 2, timestamp: "9999-12-31T23:59:59Z", ...hello });
    await t.send({ task_id: 3, timestamp: "2026-01-01T00:00:00+99:99", ...hello });
    assert.equal((await t.result(1)).code, Code.INVALID_MESSAGE);
    const future = await t.result(2);
    assert.equal(future.code, Code.STALE_COMMAND);
    assert.match(String(future.message), /from the future.*MaxClockSkew 300 s/);
    assert.equal((await t.result(3)).code, Code.INVALID_MESSAGE);

    await t.send({ task_id: 154, ...hello });
    assert.equal((await t.result(154)).code, 0);
    await t.send({ task_id: "154", ...hello });
    await t.agent.waitFor(/Received duplicate task_id: 154/);
    await t.restart();
    await t.send({ task_id: "154", ...hello });
    const dups = () => t.results.messages.filter((m) => m.code === Code.DUPLICATE_TASK);
    for (let i = 0; i < 200 && dups().length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(dups().map((m) => m.task_id), ["154", "154"]);
    const audit = await t.audit();
    for (const id of [1, 2, 3]) {
      assert.ok(audit.some((l) => l.task_id === id && l.code !== 0), `refusal ${id} audited`);
    }
    assert.equal(audit.filter((l) => String(l.task_id) === "154" && l.code === 0).length, 1);
  } finally {
    await t.stop();
  }
});

Deno.test("scripts/agent: 3000 commands with made-up services add one /metrics series; a NUL name is refused", async () => {
  const t = await brokerAgent({ telemetry: true });
  try {
    await t.send({ task_id: "warm", service: "nope", command: "x" });
    await t.result("warm");
    const before = await (await fetch(t.metricsUrl)).text();
    const n = 3000;
    await Promise.all(
      Array.from(
        { length: n },
        (_, i) => t.send({ task_id: i, service: `svc-${i}`, command: "x" }),
      ),
    );
    await t.send({ task_id: "nul", service: "web\u0000x", command: "x" });
    assert.equal((await t.result("nul")).code, Code.INVALID_MESSAGE);
    await t.results.waitFor(n + 2, 120_000);
    assert.ok(t.results.messages.every((m) => m.task_id === "nul" || m.code === Code.NO_SERVICE));
    const after = await (await fetch(t.metricsUrl)).text();
    assert.ok(!after.includes("\u0000"));
    const runs = after.split("\n").filter((l) => l.startsWith("edge_agent_executor_runs_total{"));
    assert.deepEqual(runs.map((l) => l.replace(/ \d+$/, "")), [
      'edge_agent_executor_runs_total{service="_unknown",trigger="remote",result="refused"}',
    ]);
    assert.match(runs[0]!, / 3001$/);
    // Only the counters' digits grow (a few bytes), not one series per name.
    assert.ok(after.length - before.length < 200, `${before.length} → ${after.length} bytes`);
  } finally {
    await t.stop();
  }
});

Deno.test('scripts/agent publishes the good spool entries and sets aside [1,2] and {"topic":1} without dropping the connection', async () => {
  const good = {
    topic: "result/edge1",
    payload: JSON.stringify({
      task_id: "left",
      timestamp: "2026-01-01T00:00:00Z",
      message: "",
      code: 0,
    }),
    qos: 1,
    retain: false,
  };
  const t = await brokerAgent({
    prepare: async (state) => {
      const spool = join(state, "mqtt-spool");
      await Deno.mkdir(spool);
      await Deno.writeTextFile(join(spool, "000000000000001-000000000.json"), "[1,2]");
      await Deno.writeTextFile(join(spool, "000000000000001-000000001.json"), '{"topic":1}');
      await Deno.writeTextFile(join(spool, "000000000000001-000000002.json"), JSON.stringify(good));
    },
  });
  try {
    assert.equal((await t.result("left")).code, 0);
    for (const n of [0, 1]) {
      await t.agent.waitFor(
        new RegExp(`unreadable spool entry set aside.*000000000000001-00000000${n}\\.json`),
      );
    }
    await t.send({ task_id: 5, service: "hello", command: "exec" });
    assert.equal((await t.result(5)).code, 0);
    assert.equal(
      t.agent.lines.filter((l) => /connected to broker/.test(l)).length,
      1,
      "never dropped",
    );
    const names = [...Deno.readDirSync(join(t.stateDir, "mqtt-spool"))].map((e) => e.name);
    assert.equal(names.filter((n) => n.includes(".json.corrupt-")).length, 2);
    await t.restart();
    assert.ok(!t.agent.lines.some((l) => /unreadable spool entry/.test(l)), "not again");
  } finally {
    await t.stop();
  }
});

Deno.test("scripts/agent check-config: duplicate keys name their lines; a 50 MB HostName is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dup = join(dir, "dup.json");
    await Deno.writeTextFile(
      dup,
      '{\n  "StateDir": "a",\n  "Services": {},\n  "StateDir": "b"\n}\n',
    );
    const a = await cli("check-config", "--config", dup);
    assert.equal(a.code, 3);
    assert.match(
      a.stderr,
      /StateDir: line 4, column 3: duplicate key \(also at line 2, column 3\)/,
    );
    const big = join(dir, "big.json");
    await Deno.writeTextFile(big, JSON.stringify({ HostName: "h".repeat(50 * 1024 * 1024) }));
    const b = await cli("check-config", "--config", big);
    assert.equal(b.code, 3);
    assert.match(
      b.stderr,
      /HostName: line 1, column 13: string of 52428800 characters: longer than/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
