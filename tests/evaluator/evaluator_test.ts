import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  checkRules,
  createEvaluator,
  type EvaluatorOptions,
  formatProblem,
  HOST_V8_FLAGS,
} from "../../src/evaluator/mod.ts";
import { AGENT_PLUGIN, createCounters, type RuleEvent } from "../../src/model/mod.ts";
import {
  memoryLogger,
  metric,
  packet as collectdPacket,
  rulesDir,
  testHostCommand,
} from "./_helpers.ts";

const SERVICES = { web: { commands: { restart: "/bin/true", reload: "/bin/true" } } };

/** An evaluator over rule files `files`, not started yet (removed with its folder on dispose). */
async function created(
  files: Record<string, string>,
  options: Partial<EvaluatorOptions> = {},
) {
  const dir = await rulesDir(files);
  const log = memoryLogger();
  const events: RuleEvent[] = [];
  const ev = createEvaluator({
    rulesDir: dir,
    typesDbText: "",
    services: SERVICES,
    logger: log,
    onEvent: (e) => events.push(e),
    hostCommand: testHostCommand(),
    watch: false,
    ...options,
  });
  return {
    ev,
    log,
    events,
    dir,
    async [Symbol.asyncDispose]() {
      await ev.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** {@linkcode created}, started. */
async function started(
  files: Record<string, string>,
  options: Partial<EvaluatorOptions> = {},
) {
  const s = await created(files, options);
  await s.ev.start();
  return s;
}

const FIRE_ON_LOW = `
export const metrics = {
  low(m: { values: number[] }) {
    if (m.values[0]! < 100) return { service: "web", command: "restart" };
  },
};
`;

Deno.test("a handler fires once per series and clears when it returns nothing", async () => {
  await using s = await started({ "low.ts": FIRE_ON_LOW });
  for (const v of [500, 50, 40, 500, 30]) await s.ev.evaluate([metric({ values: [v] })]);
  await s.ev.evaluate([metric({ values: [10], host: "web2" })]);
  assert.deepEqual(s.events.map((e) => `${e.kind} ${e.handler} ${e.key}`), [
    "fired low.ts::metric::low web1/memory/memory-free",
    "cleared low.ts::metric::low web1/memory/memory-free",
    "fired low.ts::metric::low web1/memory/memory-free",
    "fired low.ts::metric::low web2/memory/memory-free",
  ]);
  const fired = s.events[0]!;
  assert.equal(fired.kind === "fired" && fired.actions[0]?.command, "restart");
});

Deno.test("a handler that declares its plugin and type is called only for their items, in file order with the rest", async () => {
  await using s = await started({
    "a.ts": `export const metrics = {
  every(m: any) { console.log("every " + m.plugin + "/" + m.type); },
  memory: { plugin: "memory", handle(m: any) { console.log("memory " + m.type_instance); } },
  errors: {
    plugin: ["interface", "other"],
    type: "if_errors",
    handle(m: any) { console.log("errors " + m.plugin_instance); },
  },
};
`,
  });
  await s.ev.evaluate([
    metric({ type_instance: "free" }),
    metric({ plugin: "interface", plugin_instance: "eth0", type: "if_octets" }),
    metric({ plugin: "interface", plugin_instance: "eth0", type: "if_errors" }),
    metric({ plugin: "cpu", type: "cpu" }),
  ]);
  const said = s.log.lines.filter((l) => String(l.fields?.handler).startsWith("a.ts::"));
  assert.deepEqual(said.map((l) => l.msg), [
    "every memory/memory",
    "memory free",
    "every interface/if_octets",
    "every interface/if_errors",
    "errors eth0",
    "every cpu/cpu",
  ]);
});

Deno.test("a handler object with a getter, an unknown key, no handle or a bad plugin is a load problem of its file", async () => {
  await using s = await started({
    "good.ts": FIRE_ON_LOW,
    "getter.ts":
      `export const metrics = {\n  x: { handle() {}, get plugin() { return "cpu"; } },\n};\n`,
    "typo.ts": `export const metrics = {\n  x: { handle() {}, plugins: ["cpu"] },\n};\n`,
    "nohandle.ts": `export const metrics = {\n  x: { plugin: "cpu" },\n};\n`,
    "badplugin.ts": `export const metrics = {\n  x: { handle() {}, plugin: ["cpu", 3] },\n};\n`,
  });
  assert.deepEqual(s.ev.handlers, ["good.ts::metric::low"]);
  const problems = s.ev.problems.map(formatProblem).sort().join("\n");
  assert.match(
    problems,
    /badplugin\.ts:\d+:\d+: `metrics\.x` has a plugin that is not a name or a list/,
  );
  assert.match(problems, /getter\.ts:\d+:\d+: `metrics\.x` has a getter for plugin: give a value/);
  assert.match(problems, /nohandle\.ts:\d+:\d+: `metrics\.x` has no handle function/);
  assert.match(problems, /typo\.ts:\d+:\d+: `metrics\.x` has plugins: a handler object has only/);
});

Deno.test("an action naming an unknown service or command is logged with the handler and not emitted", async () => {
  await using s = await started({
    "unknown.ts": `export const metrics = {
  svc: () => ({ service: "db", command: "restart" }),
  cmd: () => ({ service: "web", command: "reboot" }),
  remote: () => ({ service: "db", command: "restart", host: "edge-7" }),
};\n`,
  });
  await s.ev.evaluate([metric(), metric()]);
  assert.deepEqual(s.events.map((e) => e.handler), ["unknown.ts::metric::remote"]);
  const errors = s.log.lines.filter((l) => l.level === "error").map((l) =>
    `${l.fields?.handler}: ${l.msg}`
  );
  assert.deepEqual(errors, [
    'unknown.ts::metric::svc: Cannot find service "db" in config.json Services (action not taken)',
    'unknown.ts::metric::cmd: Cannot find command "reboot" of service "web" in config.json Services (action not taken)',
  ]);
});

Deno.test("notification handlers never see the agent's own notifications", async () => {
  await using s = await started({
    "notes.ts": `export const notifications = (n: { plugin: string; message: string }) => {
  console.log("saw", n.plugin, n.message);
  if (n.message.includes("down")) return { service: "web", command: "restart" };
};\n`,
  });
  const note = (plugin: string, message: string) => ({
    host: "web1",
    plugin,
    plugin_instance: "",
    type: "",
    type_instance: "",
    time: 1_700_000_000,
    severity: 1 as const,
    message,
  });
  await s.ev.evaluate([note(AGENT_PLUGIN, "nginx down? restarted"), note("ping", "host down")]);
  assert.deepEqual(s.events.map((e) => `${e.kind} ${e.handler} ${e.key}`), [
    "fired notes.ts::notification::default web1/ping/",
  ]);
  assert.deepEqual(s.log.lines.filter((l) => l.msg.startsWith("saw")).map((l) => l.msg), [
    "saw ping host down",
  ]);
});

Deno.test("a throwing handler is logged with rule file:line and the other handlers still run", async () => {
  const counters = createCounters();
  await using s = await started({
    "a_throws.ts": `export const metrics = {
  bad(m: { values: number[] }) {
    const limits: Record<string, number> = {};
    return limits.missing!.toFixed() as unknown as undefined;
  },
};\n`,
    "b_low.ts": FIRE_ON_LOW,
  }, { counters });
  const r = await s.ev.evaluate([metric({ values: [1] })]);
  await s.ev.evaluate([metric({ values: [2] })]);
  const perHandler = counters.snapshot().find((c) =>
    c.name === "edge_agent_rules_handler_errors_total" &&
    c.labels.handler === "a_throws.ts::metric::bad"
  );
  assert.equal(perHandler?.value, 2, "both throws are counted for that handler");
  assert.equal(r.evaluations, 2);
  assert.deepEqual(s.events.map((e) => e.handler), ["b_low.ts::metric::low"]);
  const err = s.log.lines.find((l) => l.fields?.handler === "a_throws.ts::metric::bad");
  assert.ok(err);
  assert.match(err.msg, /^rule handler threw TypeError: Cannot read properties of undefined/);
  assert.equal(err.fields?.at, `${s.dir}/a_throws.ts:4`);
  assert.match(String(err.fields?.stack), /at bad \(a_throws\.ts:4:\d+\)/);
});

Deno.test("syntax errors and wrong export shapes are reported with file and line while other files load", async () => {
  await using s = await started({
    "good.ts": FIRE_ON_LOW,
    "syntax.ts":
      `export const metrics = {\n  low(m) {\n    if (m.values[0] < ) return;\n  },\n};\n`,
    "shape.ts": `export const metrics = {\n  ok() {},\n  limit: 5,\n};\n`,
    "nothing.ts": `// forgot the export\nconst metrics = () => {};\n`,
    "notfn.ts": `const x = 1;\nexport const notifications = "restart";\n`,
    "_helper.ts": `export const H = 1;\n`,
  });
  assert.deepEqual(s.ev.handlers, ["good.ts::metric::low"]);
  assert.deepEqual(s.ev.problems.map(formatProblem).sort(), [
    `${s.dir}/notfn.ts:2:1: \`notifications\` must be a handler function or an object of handler functions (it is string)`,
    `${s.dir}/nothing.ts:1:1: exports neither \`metrics\` nor \`notifications\` (each a handler function or an object of named handler functions)`,
    `${s.dir}/shape.ts:3:1: \`metrics.limit\` is not a function or { handle, plugin?, type? } (it is number)`,
    `${s.dir}/syntax.ts:3:23: syntax error: Unexpected token`,
  ]);
  assert.equal(s.log.lines.filter((l) => l.msg.startsWith("rule file ")).length, 4);
});

Deno.test("an endless loop is stopped within its budget while another rule keeps firing and keeps its state", async () => {
  const counters = createCounters();
  await using s = await started({
    "spin.ts": `export const metrics = {
  forever(m: { values: number[] }) {
    if (m.values[0] === 13) while (true) { /* 3 a.m. */ }
  },
};\n`,
    "steady.ts": `export const metrics = {
  third(m: { values: number[] }, ctx: { sustained(c: boolean, o: object): boolean }) {
    if (ctx.sustained(m.values[0]! > 0, { samples: 3 })) return { service: "web", command: "reload" };
  },
};\n`,
  }, { budgetMs: 50, maxOverruns: 2, counters });
  // Two overruns: the host is killed and restarted twice; `steady` needs 3 samples in a row,
  // so it fires only if its state survived both restarts.
  const t0 = performance.now();
  const first = await s.ev.evaluate([metric({ values: [13] })]);
  const firstMs = performance.now() - t0;
  const second = await s.ev.evaluate([metric({ values: [13] })]);
  assert.deepEqual([...first.events, ...second.events], []);
  const third = await s.ev.evaluate([metric({ values: [13] })]);
  assert.deepEqual(third.events.map((e) => `${e.kind} ${e.handler}`), [
    "fired steady.ts::metric::third",
  ]);
  assert.ok(firstMs < 5000, `the overrun took ${firstMs} ms to recover`);
  const errors = s.log.lines.filter((l) => l.fields?.handler === "spin.ts::metric::forever");
  assert.match(
    errors[0]!.msg,
    /ran past the 50 ms budget \(stopped after \d+ ms\); offence 1 of 2/,
  );
  assert.match(
    errors[1]!.msg,
    /rule handler spin\.ts::metric::forever disabled: .*re-enable it, fix .*spin\.ts and save it .* or send SIGHUP/,
  );
  assert.deepEqual(s.ev.handlers, ["steady.ts::metric::third"]);
  assert.equal(
    counters.snapshot().find((c) =>
      c.name === "edge_agent_rules_overruns_total" &&
      c.labels.handler === "spin.ts::metric::forever"
    )?.value,
    2,
  );
  // Disabled: the next value 13 costs nothing; SIGHUP (reload) re-enables it.
  await s.ev.reload();
  assert.deepEqual(s.ev.handlers, ["spin.ts::metric::forever", "steady.ts::metric::third"]);
});

/** Polls `ok` every 25 ms for up to 10 s. */
async function until(what: string, ok: () => boolean) {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("a disabled handler stays disabled while a broken new version of its file keeps the old one running", async () => {
  const spin = `export const metrics = {
  forever(m: { values: number[] }) {
    if (m.values[0] === 13) while (true) { /* 3 a.m. */ }
  },
};\n`;
  const counters = createCounters();
  await using s = await started({ "spin.ts": spin }, {
    budgetMs: 50,
    maxOverruns: 1,
    counters,
    watch: true,
  });
  await s.ev.evaluate([metric({ values: [13] })]);
  assert.deepEqual(s.ev.handlers, []);
  await Deno.writeTextFile(`${s.dir}/spin.ts`, spin.replace("forever(", "forever( {"));
  await until("the syntax error", () => s.ev.problems.length === 1);
  assert.match(formatProblem(s.ev.problems[0]!), /syntax error.*previous version keeps running/);
  // The old version is back in the host, but its looping handler is still disabled.
  await s.ev.evaluate([metric({ values: [13] })]);
  assert.deepEqual(s.ev.handlers, []);
  const overruns = counters.snapshot().find((c) => c.name === "edge_agent_rules_overruns_total");
  assert.equal(overruns?.value, 1, s.log.text());
  // A fixed version is a fresh start.
  await Deno.writeTextFile(`${s.dir}/spin.ts`, spin.replace("=== 13", "=== 14"));
  await until("the fixed version", () => s.ev.handlers.length === 1);
  assert.deepEqual(s.ev.problems, []);
});

Deno.test("a handler removed while it has fired reports each of its series cleared (removed)", async () => {
  await using s = await started({ "low.ts": FIRE_ON_LOW, "other.ts": FIRE_ON_LOW });
  await s.ev.evaluate([metric({ values: [1] }), metric({ values: [2], host: "web2" })]);
  assert.equal(s.events.length, 4);
  await Deno.remove(`${s.dir}/low.ts`);
  await s.ev.reload();
  assert.deepEqual(
    s.events.slice(4).map((e) =>
      `${e.kind} ${e.handler} ${e.key} ${e.kind === "cleared" && e.removed}`
    ),
    [
      "cleared low.ts::metric::low web1/memory/memory-free true",
      "cleared low.ts::metric::low web2/memory/memory-free true",
    ],
  );
  assert.deepEqual(s.ev.handlers, ["other.ts::metric::low"]);
});

Deno.test("a rule file whose top-level code never finishes is disabled and the others load", async () => {
  await using s = await started({
    "a_hang.ts": `while (true) {}\nexport const metrics = () => {};\n`,
    "b_low.ts": FIRE_ON_LOW,
  }, { loadBudgetMs: 300 });
  assert.deepEqual(s.ev.handlers, ["b_low.ts::metric::low"]);
  assert.match(s.log.text(), /a_hang\.ts did not finish loading within 300 ms .* it is disabled/);
  await s.ev.evaluate([metric({ values: [1] })]);
  assert.equal(s.events.length, 1);
});

Deno.test("a changed file that fails to load leaves its previous version running", async () => {
  await using s = await started({ "low.ts": FIRE_ON_LOW });
  await Deno.writeTextFile(`${s.dir}/low.ts`, `export const metrics = {\n  low( {\n};\n`);
  await s.ev.reload();
  assert.match(
    s.ev.problems.map(formatProblem).join(),
    /low\.ts:\d+:\d+: syntax error.*previous version keeps running/,
  );
  await Deno.writeTextFile(`${s.dir}/low.ts`, `export const metrics = { low: 3 };\n`);
  await s.ev.reload();
  assert.match(
    s.ev.problems.map(formatProblem).join(),
    /low\.ts:1:1: `metrics\.low` is not a function or \{ handle.*previous version keeps running/,
  );
  await s.ev.evaluate([metric({ values: [1] })]);
  assert.deepEqual(s.events.map((e) => e.handler), ["low.ts::metric::low"]);
  await Deno.remove(`${s.dir}/low.ts`);
  await s.ev.reload();
  assert.deepEqual(s.ev.handlers, []);
  assert.deepEqual(s.ev.problems, []);
});

Deno.test("reloading while metrics flow loses no evaluation and keeps handler state", async () => {
  const version = (v: number) =>
    `export const metrics = {
  count(m: unknown, ctx: { state: { n?: number } }) {
    ctx.state.n = (ctx.state.n ?? 0) + 1;
    if (ctx.state.n === 300) return { service: "web", command: "restart" }; // v${v}
  },
};\n`;
  await using s = await started({ "count.ts": version(1) }, { watch: true });
  const pending: Promise<{ evaluations: number }>[] = [];
  for (let i = 0; i < 300; i++) {
    pending.push(s.ev.evaluate([metric({ values: [i], time: 1_700_000_000 + i })]));
    if (i === 100) await Deno.writeTextFile(`${s.dir}/count.ts`, version(2)); // watcher
    if (i === 150) pending.push(s.ev.reload().then(() => ({ evaluations: 0 })));
    if (i % 25 === 0) await new Promise((r) => setTimeout(r, 20));
  }
  const total = (await Promise.all(pending)).reduce((a, r) => a + r.evaluations, 0);
  assert.equal(total, 300);
  assert.deepEqual(s.events.map((e) => `${e.kind} ${e.handler}`), [
    "fired count.ts::metric::count",
  ]);
});

Deno.test("the rule host refuses to run when code generation from strings is allowed", async () => {
  const command = testHostCommand();
  command.args = command.args.filter((a) => a !== `--v8-flags=${HOST_V8_FLAGS}`);
  await using s = await started({ "low.ts": FIRE_ON_LOW }, { hostCommand: command });
  assert.match(s.log.text(), /cannot start the rule host.*code generation from strings is enabled/);
  await assert.rejects(s.ev.evaluate([metric()]), /the rule host is not running/);
});

Deno.test("the directory watcher loads a saved file and unloads a deleted one", async () => {
  await using s = await started({ "low.ts": FIRE_ON_LOW }, { watch: true });
  await Deno.writeTextFile(`${s.dir}/extra.ts`, `export const notifications = { note() {} };\n`);
  await until("extra.ts to load", () => s.ev.handlers.includes("extra.ts::notification::note"));
  await Deno.remove(`${s.dir}/low.ts`);
  await until("low.ts to unload", () => !s.ev.handlers.includes("low.ts::metric::low"));
  assert.deepEqual(s.ev.handlers, ["extra.ts::notification::note"]);
});

Deno.test("checkRules() lists the handlers that load and every problem", async () => {
  const dir = await rulesDir({ "good.ts": FIRE_ON_LOW, "bad.ts": "export const metrics = 1;\n" });
  try {
    const r = await checkRules(dir, {
      services: SERVICES,
      logger: memoryLogger(),
      hostCommand: testHostCommand(),
    });
    assert.deepEqual(r.handlers, ["good.ts::metric::low"]);
    assert.deepEqual(r.problems.map(formatProblem), [
      `${dir}/bad.ts:1:1: \`metrics\` must be a handler function or an object of handler functions (it is number)`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a rule allocating without bound is stopped within its budget", async () => {
  await using s = await started({
    "hog.ts": `export const metrics = {
  objects() {
    const a: unknown[] = [];
    for (;;) a.push({ x: a.length, y: "s" + a.length });
  },
  buffers() {
    const a: unknown[] = [];
    for (;;) a.push(new Float64Array(1 << 22));
  },
};\n`,
    "ok.ts": FIRE_ON_LOW,
  }, { maxOverruns: 1 });
  const t0 = performance.now();
  const r = await s.ev.evaluate([metric({ values: [1] })]);
  assert.ok(performance.now() - t0 < 5000);
  assert.deepEqual(r.events.map((e) => e.handler), ["ok.ts::metric::low"]);
  assert.deepEqual(s.ev.handlers, ["ok.ts::metric::low"]);
  assert.match(
    s.log.text(),
    /hog\.ts::metric::objects disabled: it ran past the 50 ms budget \(stopped after \d+ ms\), offence 1 of 1\./,
  );
  assert.match(s.log.text(), /hog\.ts::metric::buffers disabled/);
});

Deno.test("a deleted file that comes back broken does not resurrect its old version", async () => {
  await using s = await started({ "low.ts": FIRE_ON_LOW });
  await Deno.remove(`${s.dir}/low.ts`);
  await s.ev.reload();
  await Deno.writeTextFile(`${s.dir}/low.ts`, "export const metrics = {\n");
  await s.ev.reload();
  assert.deepEqual(s.ev.handlers, []);
  assert.match(s.ev.problems.map(formatProblem).join(), /low\.ts:\d+:\d+: syntax error/);
  assert.doesNotMatch(s.ev.problems.map(formatProblem).join(), /previous version/);
});

Deno.test("a rule host that dies while loading is retried later, not in a loop", async () => {
  const command = testHostCommand();
  command.args[command.args.length - 1] = fileURLToPath(
    new URL("_dying_host_entry.ts", import.meta.url),
  );
  const t0 = performance.now();
  await using s = await started({ "low.ts": FIRE_ON_LOW }, { hostCommand: command });
  assert.ok(performance.now() - t0 < 10_000);
  assert.match(
    s.log.text(),
    /the rule host failed while loading the rules; retrying in 5 s.*(exit code 9|Broken pipe)/,
  );
  await assert.rejects(s.ev.evaluate([metric()]), /the rule host is not running/);
  assert.equal(s.log.lines.filter((l) => l.msg.includes("failed while loading")).length, 1);
});

Deno.test("a batch that is slow but progressing finishes and no handler is blamed", async () => {
  await using s = await started({
    "slow.ts": `export const metrics = {
  three_ms() {
    const end = performance.now() + 3;
    while (performance.now() < end) { /* busy */ }
  },
};\n`,
    "low.ts": FIRE_ON_LOW,
  }, { budgetMs: 50, maxOverruns: 1 });
  const items = Array.from({ length: 30 }, (_, i) => metric({ values: [i], host: `h${i}` }));
  const r = await s.ev.evaluate(items);
  assert.equal(r.evaluations, 60);
  assert.ok(r.busyMs > 50, `the batch took ${r.busyMs} ms`);
  assert.equal(r.events.length, 30);
  assert.deepEqual(s.ev.handlers, ["low.ts::metric::low", "slow.ts::metric::three_ms"]);
  assert.equal(s.log.lines.filter((l) => l.level === "error").length, 0, s.log.text());
});

Deno.test("a handler that crashes the rule host (out of memory) is found and the others keep firing", async () => {
  const command = testHostCommand();
  command.args = command.args.map((a) =>
    a === `--v8-flags=${HOST_V8_FLAGS}`
      ? "--v8-flags=--disallow-code-generation-from-strings,--max-old-space-size=24"
      : a
  );
  await using s = await started({
    "a_ok.ts": FIRE_ON_LOW,
    "b_hog.ts": `export const metrics = {
  grow(m: { values: number[] }) {
    if (m.values[0] !== 13) return;
    const a: unknown[] = [];
    for (;;) a.push(new Array(1e5).fill(1.5));
  },
};\n`,
    "c_ok.ts": FIRE_ON_LOW.replace("low(", "also_low("),
  }, { hostCommand: command, budgetMs: 5000, maxOverruns: 1 });
  const r = await s.ev.evaluate([metric({ values: [13] })]);
  assert.deepEqual(r.events.map((e) => e.handler), [
    "a_ok.ts::metric::low",
    "c_ok.ts::metric::also_low",
  ]);
  assert.match(
    s.log.text(),
    /rule handler b_hog\.ts::metric::grow disabled: it crashed the rule host \(rule host exited \(exit code \d+/,
  );
  assert.deepEqual(s.ev.handlers, ["a_ok.ts::metric::low", "c_ok.ts::metric::also_low"]);
});

Deno.test("a handler's output is bounded: 16 actions per call, log lines cut at 4000 characters", async () => {
  await using s = await started({
    "noisy.ts": `export const metrics = {
  many: () => Array.from({ length: 100 }, () => ({ service: "web", command: "restart" })),
  chatty: () => { console.log("x".repeat(100_000)); },
};\n`,
  });
  const r = await s.ev.evaluate([metric()]);
  const fired = r.events.find((e) => e.handler === "noisy.ts::metric::many");
  assert.equal(fired?.kind === "fired" && fired.actions.length, 16);
  assert.match(s.log.text(), /returned 100 actions; only the first 16 are taken/);
  const line = s.log.lines.find((l) => l.fields?.handler === "noisy.ts::metric::chatty");
  assert.equal(line?.msg.length, 4000 + "… (cut)".length);
});

Deno.test("packets are not shipped to the rule host while no handler is loaded, and are once one is", async () => {
  let batches = 0;
  await using s = await started({ "empty.ts": `export const metrics = {};\n` }, {
    onBatchDone: () => batches++,
  });
  const packet = collectdPacket({ values: [5e9] });
  for (let i = 0; i < 20; i++) s.ev.submit(packet);
  await s.ev.evaluate([]); // everything submitted before has been through the scheduler
  assert.equal(batches, 0, "no handler: no packet batch reaches the host");
  await Deno.writeTextFile(
    `${s.dir}/low.ts`,
    `export const metrics = { low: (m: { values: number[] }) => m.values[0]! < 1e10 ? { service: "web", command: "restart" } : undefined };\n`,
  );
  await s.ev.reload();
  s.ev.submit(packet);
  for (let i = 0; i < 500 && batches === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(batches, 1);
  assert.equal(s.events.length, 1, "the loaded handler saw the packet");
});

Deno.test("packets beyond the pending bytes bound are dropped and counted, the rest evaluated", async () => {
  const counters = createCounters();
  let evaluated = 0;
  const packet = collectdPacket({ values: [5e9] });
  await using s = await started({ "low.ts": FIRE_ON_LOW }, {
    counters,
    maxPendingBytes: 3 * packet.length,
    onBatchDone: (b) => evaluated += b.evaluations,
  });
  for (let i = 0; i < 10; i++) s.ev.submit(packet); // one tick: nothing has left the queue yet
  for (let i = 0; i < 500 && evaluated < 3; i++) await new Promise((r) => setTimeout(r, 10));
  const dropped = counters.snapshot().find((c) =>
    c.name === "edge_agent_rules_dropped_packets_total"
  );
  assert.equal(dropped?.value, 7);
  assert.equal(evaluated, 3);
});

Deno.test("packets submitted before start() wait for the first load and are evaluated by its rules", async () => {
  await using s = await created({ "low.ts": FIRE_ON_LOW });
  const { ev, events } = s;
  for (let i = 0; i < 5; i++) {
    ev.submit(collectdPacket({ values: [50], host: `web${i}` }));
  }
  // The intake may open while the agent still starts its other stages: nothing runs yet.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(events.length, 0);
  await ev.start();
  await ev.evaluate([]); // everything submitted before has been through the rule host
  assert.deepEqual(events.map((e) => `${e.kind} ${e.key}`).sort(), [
    "fired web0/memory/memory-free",
    "fired web1/memory/memory-free",
    "fired web2/memory/memory-free",
    "fired web3/memory/memory-free",
    "fired web4/memory/memory-free",
  ]);
});
