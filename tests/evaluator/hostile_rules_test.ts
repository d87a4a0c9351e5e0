/**
 * Hostile rule files against the sandbox (issue 16's attacks), each with real rule files on
 * disk and the real rule host: a rule can reach neither the plumbing, nor another rule, nor the
 * loader.
 */
import assert from "node:assert/strict";
import {
  createEvaluator,
  type EvaluatorOptions,
  formatProblem,
  HOST_V8_FLAGS,
} from "../../src/evaluator/mod.ts";
import type { RuleEvent } from "../../src/model/mod.ts";
import { memoryLogger, metric, packet, rulesDir, testHostCommand } from "./_helpers.ts";

const SERVICES = { web: { commands: { restart: "/bin/true" } } };

async function started(files: Record<string, string>, options: Partial<EvaluatorOptions> = {}) {
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
  await ev.start();
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

/** A rule file whose metric handler never fires (it only logs `msg` when given). */
const INNOCENT = `export const metrics = (m: { values: number[] }) => {
  if (m.values[0]! < 100) return { service: "web", command: "restart" };
};\n`;

const lines = (log: ReturnType<typeof memoryLogger>, handler: string) =>
  log.lines.filter((l) => l.fields?.handler === handler).map((l) => l.msg);

Deno.test("a rule replacing TextEncoder.prototype.encode cannot forge another handler's event or a log line", async () => {
  await using s = await started({
    "a_forge.ts": `try {
  const encode = TextEncoder.prototype.encode;
  TextEncoder.prototype.encode = function (this: TextEncoder, text?: string) {
    if (typeof text === "string" && text.startsWith('{"t":"result"')) {
      text = text.replace('"events":[]', '"events":[{"kind":"fired","handler":"b_innocent.ts::metric::default","key":"forged","actions":[{"service":"web","command":"restart"}],"time":1}]')
        .replace('"logs":[]', '"logs":[{"level":"info","msg":"executor: web/restart succeeded"}]');
    }
    return encode.call(this, text);
  };
} catch (e) {
  console.log("refused:", (e as Error).name);
}
export const metrics = () => {};\n`,
    "b_innocent.ts": INNOCENT,
  });
  for (let i = 0; i < 3; i++) await s.ev.evaluate([metric({ values: [5e9] })]);
  assert.deepEqual(s.events, [], "no event may be forged for the innocent handler");
  assert.ok(!s.log.text().includes("executor: web/restart succeeded"), s.log.text());
  assert.match(s.log.text(), /refused: TypeError/);
});

Deno.test("a rule replacing MessagePort.prototype.postMessage cannot get its own overrun blamed on another handler", async () => {
  await using s = await started({
    "a_hijack.ts": `try {
  const post = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (this: MessagePort, m: { t?: string; handlers?: string[] }) {
    if (m?.t === "names" && m.handlers) m = { ...m, handlers: [...m.handlers].reverse() };
    return post.call(this, m);
  };
} catch (e) {
  console.log("refused:", (e as Error).name);
}
export const metrics = (m: { values: number[] }) => {
  if (m.values[0] === 13) for (;;) { /* spin */ }
};\n`,
    "b_innocent.ts": INNOCENT,
  }, { maxOverruns: 1 });
  await s.ev.evaluate([metric({ values: [13] })]);
  assert.deepEqual(s.ev.handlers, ["b_innocent.ts::metric::default"], s.log.text());
  assert.match(s.log.text(), /rule handler a_hijack\.ts::metric::default disabled: it ran past/);
  assert.deepEqual(lines(s.log, "b_innocent.ts::metric::default"), []);
});

Deno.test("a rule replacing the array iterator's next cannot read the glue's requests", async () => {
  await using s = await started({
    "a_spy.ts": `try {
  const proto = Object.getPrototypeOf([][Symbol.iterator]());
  const next = proto.next;
  proto.next = function (this: Iterator<unknown>) {
    const r = next.call(this);
    const v = r.value as { t?: string } | undefined;
    if (v && typeof v === "object" && typeof v.t === "string") console.log("stolen request:", v.t);
    return r;
  };
} catch (e) {
  console.log("refused:", (e as Error).name);
}
export const metrics = () => {};\n`,
    "b_secret.ts": `export const metrics = () => {}; // its source travels in the load request\n`,
  });
  await s.ev.evaluate([metric()]);
  await s.ev.evaluate([metric()]);
  assert.doesNotMatch(s.log.text(), /stolen request/);
  assert.match(s.log.text(), /refused: TypeError/);
});

Deno.test("a handler cannot change the values the next handler sees", async () => {
  await using s = await started({
    "a_mutate.ts": `export const metrics = (m: { values: number[] }) => { m.values[0] = 1; };\n`,
    "b_victim.ts": INNOCENT,
  }, { typesDbText: "memory value:GAUGE:0:U\n" });
  await s.ev.evaluate([metric({ values: [5e9] })]); // decoded objects from the agent
  s.ev.submit(packet({ values: [5e9] }) /* a collectd packet, decoded in the sandbox */);
  await s.ev.evaluate([metric({ values: [5e9], host: "web2" })]); // after the packet batch
  assert.deepEqual(s.events, [], "the healthy 5e9 must not become 1 for the victim");
  assert.match(
    lines(s.log, "a_mutate.ts::metric::default")[0] ?? "",
    /rule handler threw TypeError: Cannot assign to read only property '0'/,
  );
});

Deno.test("an action naming an inherited property is an unknown service, and the rule host keeps running", async () => {
  await using s = await started({
    "a_proto.ts": `export const metrics = {
  ctor: () => ({ service: "constructor", command: "x" }),
  str: () => ({ service: "toString", command: "call" }),
  proto: () => ({ service: "__proto__", command: "x" }),
  cmd: () => ({ service: "web", command: "constructor" }),
};\n`,
    "b_ok.ts": INNOCENT,
  });
  const r = await s.ev.evaluate([metric({ values: [1] })]);
  assert.deepEqual(r.events.map((e) => e.handler), ["b_ok.ts::metric::default"]);
  const errors = s.log.lines.filter((l) => l.level === "error").map((l) => l.msg);
  for (const name of ["constructor", "toString", "__proto__"]) {
    assert.ok(
      errors.includes(`Cannot find service "${name}" in config.json Services (action not taken)`),
      errors.join("\n"),
    );
  }
  assert.ok(
    errors.includes(
      'Cannot find command "constructor" of service "web" in config.json Services (action not taken)',
    ),
  );
  assert.doesNotMatch(s.log.text(), /rule host stopped|restarting/);
});

Deno.test("a toJSON in ctx.state runs in its handler's budget: that handler is disabled, the others keep firing at once", async () => {
  await using s = await started({
    "a_tojson.ts":
      `export const metrics = (m: unknown, ctx: { state: Record<string, unknown> }) => {
  ctx.state.trap = { toJSON() { for (;;) { /* stall the state sync */ } } };
};\n`,
    "b_ok.ts": INNOCENT,
  }, { maxOverruns: 1 });
  const t0 = performance.now();
  const r = await s.ev.evaluate([metric({ values: [1] })]);
  const ms = performance.now() - t0;
  assert.deepEqual(r.events.map((e) => e.handler), ["b_ok.ts::metric::default"]);
  assert.match(s.log.text(), /rule handler a_tojson\.ts::metric::default disabled: it ran past/);
  assert.deepEqual(s.ev.handlers, ["b_ok.ts::metric::default"]);
  assert.ok(ms < 4000, `the stall cost ${ms} ms`);
});

Deno.test("a promise job that never ends is its own handler's overrun, not an unwatched stall", async () => {
  await using s = await started({
    "a_job.ts": `export const metrics = (m: { values: number[] }) => {
  if (m.values[0] === 13) Promise.resolve().then(() => { for (;;) { /* after the call */ } });
};\n`,
    "b_ok.ts": `export const metrics = (m: { values: number[] }) => {
  Promise.resolve().then(() => console.log("b's job ran"));
  if (m.values[0]! < 100) return { service: "web", command: "restart" };
};\n`,
  }, { maxOverruns: 1 });
  const r = await s.ev.evaluate([metric({ values: [13] })]);
  assert.deepEqual(r.events.map((e) => e.handler), ["b_ok.ts::metric::default"]);
  assert.match(s.log.text(), /rule handler a_job\.ts::metric::default disabled: it ran past/);
  assert.match(s.log.text(), /b's job ran/);
});

Deno.test("rule log lines are escaped, capped per handler per batch, and never crowd out errors", async () => {
  await using s = await started({
    "a_chatty.ts": `export const metrics = () => {
  console.log("\\r\\u001b[2K2026-01-01T00:00:00Z INFO  executor: web/restart succeeded\\u2028next");
  for (let i = 0; i < 200; i++) console.log("line " + i);
};\n`,
    "b_throws.ts": `export const metrics = () => { throw new Error("the real problem"); };\n`,
  });
  await s.ev.evaluate([metric()]);
  const chatty = lines(s.log, "a_chatty.ts::metric::default");
  assert.equal(
    chatty[0],
    "\\r\\x1b[2K2026-01-01T00:00:00Z INFO  executor: web/restart succeeded\\u2028next",
  );
  for (const l of s.log.lines) {
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(l.msg, /[\r\u001b\u2028\u2029]/, `raw control character in ${l.msg}`);
  }
  assert.equal(chatty.length, 11, chatty.join("\n"));
  assert.match(chatty[10]!, /^191 console line\(s\) not logged \(at most 10 per handler/);
  assert.match(
    lines(s.log, "b_throws.ts::metric::default")[0] ?? "",
    /rule handler threw Error: the real problem/,
  );
});

Deno.test("a rule file that runs the host out of memory at load is found and disabled; every other file runs", async () => {
  const command = testHostCommand();
  command.args = command.args.map((a) =>
    a === `--v8-flags=${HOST_V8_FLAGS}`
      ? "--v8-flags=--disallow-code-generation-from-strings,--max-old-space-size=48"
      : a
  );
  await using s = await started({
    "a_ok.ts": INNOCENT,
    "b_oom.ts": `const hoard: unknown[] = [];\nfor (;;) hoard.push(new Array(1e5).fill(1.5));\n` +
      `export const metrics = () => {};\n`,
    "c_ok.ts": INNOCENT,
  }, { hostCommand: command });
  assert.deepEqual(s.ev.handlers, ["a_ok.ts::metric::default", "c_ok.ts::metric::default"]);
  assert.match(
    s.log.text(),
    /rule file .*b_oom\.ts crashed the rule host while loading .*; it is disabled and every other rule file keeps running/,
  );
  assert.match(
    s.ev.problems.map(formatProblem).join("\n"),
    /b_oom\.ts:1:1: crashed the rule host while loading/,
  );
  const r = await s.ev.evaluate([metric({ values: [1] })]);
  assert.equal(r.events.length, 2);
});

Deno.test("an oversized rule file and too many rule files are refused with a problem; the rest run", async () => {
  const files: Record<string, string> = {
    "a_big.ts": `export const metrics = () => {};\n// ${"x".repeat(2 * 1024 * 1024)}\n`,
    "b_ok.ts": INNOCENT,
  };
  for (let i = 0; i < 1100; i++) files[`z${String(i).padStart(4, "0")}.ts`] = INNOCENT;
  await using s = await started(files, { loadBudgetMs: 20_000 });
  const problems = s.ev.problems.map(formatProblem).join("\n");
  assert.match(problems, /a_big\.ts:1:1: is \d+ bytes; a rule file may be at most 1048576 bytes/);
  assert.match(
    problems,
    /holds 1102 rule files; at most 1000 are loaded .* 102 were not, from z0998\.ts on/,
  );
  assert.equal(s.ev.handlers.length, 999); // b_ok + z0000..z0997
  const r = await s.ev.evaluate([metric({ values: [1] })]);
  assert.equal(r.events.length, 999);
});

Deno.test("a symlinked rule file within the folder loads; one pointing outside is refused with a message", async () => {
  const outside = await Deno.makeTempDir({ prefix: "edge-agent-outside-" });
  await Deno.writeTextFile(`${outside}/elsewhere.ts`, INNOCENT);
  await using s = await started({ "_real.ts": INNOCENT });
  await Deno.symlink(`${s.dir}/_real.ts`, `${s.dir}/linked.ts`);
  await Deno.symlink(`${outside}/elsewhere.ts`, `${s.dir}/escape.ts`);
  await s.ev.reload();
  assert.deepEqual(s.ev.handlers, ["linked.ts::metric::default"]);
  assert.match(
    s.ev.problems.map(formatProblem).join("\n"),
    /escape\.ts:1:1: is a symlink to .*elsewhere\.ts, outside the rules directory: not loaded/,
  );
  await Deno.remove(outside, { recursive: true });
});

Deno.test("a load error names the rule file, never an internal URL", async () => {
  await using s = await started({
    "tla.ts": `const v = await Promise.resolve(1);\nexport const metrics = () => { v; };\n`,
    "throws.ts": `\nthrow new Error("top-level failure");\nexport const metrics = () => {};\n`,
  });
  const problems = s.ev.problems.map(formatProblem).join("\n");
  assert.match(problems, /tla\.ts:\d+:\d+: .*top-level await/);
  assert.match(problems, /throws\.ts:2:1: Error: top-level failure/);
  assert.doesNotMatch(problems + s.log.text(), /data:|blob:/);
});
