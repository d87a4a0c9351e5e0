import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { encodeNotification, encodeValueList } from "../../src/collectd/mod.ts";
import { createEvaluator } from "../../src/evaluator/mod.ts";
import type { RuleEvent } from "../../src/model/mod.ts";
import { memoryLogger, metric, testHostCommand } from "./_helpers.ts";

const RULES = fileURLToPath(new URL("../../rules", import.meta.url));
const TYPES_DB = "/usr/share/collectd/types.db";
const SERVICES = { hello: { commands: { exec: '/bin/echo "Hello World!"' } } };

async function examples(typesDbText = "") {
  const log = memoryLogger();
  const events: RuleEvent[] = [];
  const ev = createEvaluator({
    rulesDir: RULES,
    typesDbText,
    services: SERVICES,
    logger: log,
    onEvent: (e) => events.push(e),
    hostCommand: testHostCommand(),
    watch: false,
  });
  await ev.start();
  return { ev, log, events, [Symbol.asyncDispose]: () => ev.stop() };
}

Deno.test("the example rules in rules/ load without a problem", async () => {
  await using s = await examples();
  assert.deepEqual(s.ev.problems, []);
  assert.deepEqual(s.ev.handlers, [
    "error_rate.ts::metric::rx_errors_above_100_per_s_for_30s",
    "error_rate.ts::metric::tx_errors_average_above_10_per_s",
    "failure_notification.ts::notification::fail_example",
    "memory_free.ts::metric::memory_free_is_under_10GB",
    "sustained_low_memory.ts::metric::free_memory_low_for_3_samples",
  ]);
});

Deno.test("the ported Lua memory-free example fires when free memory is under its threshold", async () => {
  await using s = await examples();
  const r1 = await s.ev.evaluate([metric({ values: [12e9] })]);
  assert.deepEqual(r1.events, []);
  const r2 = await s.ev.evaluate([metric({ values: [9.5e9] })]);
  assert.deepEqual(r2.events, [{
    kind: "fired",
    handler: "memory_free.ts::metric::memory_free_is_under_10GB",
    key: "web1/memory/memory-free",
    actions: [{ service: "hello", command: "exec" }],
    time: 1_700_000_000,
  }]);
});

Deno.test("the sustained example fires after 3 low samples and clears only above 60 MB", async () => {
  await using s = await examples();
  const MB = 1024 * 1024;
  const seen: string[] = [];
  for (const free of [40, 40, 40, 55, 40, 61, 61, 40]) {
    const r = await s.ev.evaluate([metric({ values: [free * MB] })]);
    seen.push(
      r.events.filter((e) => e.handler.startsWith("sustained")).map((e) => e.kind).join() || "-",
    );
  }
  assert.deepEqual(seen, ["-", "-", "fired", "-", "-", "-", "cleared", "-"]);
});

Deno.test("collectd packets submitted to the stage are decoded in the sandbox and fire the examples", async () => {
  await using s = await examples(await Deno.readTextFile(TYPES_DB));
  const base = { host: "edge1", plugin_instance: "", time: 1_700_000_000, interval: 10 };
  const packets = [
    encodeValueList({
      ...base,
      plugin: "memory",
      type: "memory",
      type_instance: "free",
      values: [1e9],
      dstypes: ["gauge"],
    }),
    encodeNotification({
      ...base,
      plugin: "ping",
      type: "",
      type_instance: "",
      severity: 1,
      message: "host unreachable",
    }),
  ];
  // Counter rates come from the decoder: 40 samples 1 s apart, 200 rx errors/s.
  for (let i = 0; i <= 40; i++) {
    packets.push(encodeValueList({
      ...base,
      time: base.time + i,
      plugin: "interface",
      plugin_instance: "eth0",
      type: "if_errors",
      type_instance: "",
      values: [200 * i, 0],
      dstypes: ["derive", "derive"],
    }));
  }
  const reused = new Uint8Array(2048);
  for (const p of packets) {
    reused.set(p);
    s.ev.submit(reused.subarray(0, p.length));
    reused.fill(0);
  }
  const deadline = Date.now() + 10_000;
  while (s.events.length < 3 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(s.events.map((e) => `${e.kind} ${e.handler} ${e.key}`), [
    "fired memory_free.ts::metric::memory_free_is_under_10GB edge1/memory/memory-free",
    "fired failure_notification.ts::notification::fail_example edge1/ping/",
    "fired error_rate.ts::metric::rx_errors_above_100_per_s_for_30s edge1/interface-eth0/if_errors",
  ]);
  assert.equal(s.events[2]!.time, base.time + 31, "30 s of 200/s after the first rate (t+1)");
});
