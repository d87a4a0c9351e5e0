import assert from "node:assert/strict";
import { createEvaluator, type Evaluator, formatProblem } from "../../src/evaluator/mod.ts";
import { encodeFrame } from "../../src/evaluator/_frames.ts";
import { memoryLogger, metric, rulesDir, testHostCommand } from "./_helpers.ts";

const SECRET = "broker-password-4f1d9";

/** A rules dir with `files`, a config.json holding a secret beside it, and a started evaluator. */
async function sandbox(files: (configPath: string) => Record<string, string>) {
  const base = await Deno.makeTempDir({ prefix: "edge-agent-sandbox-" });
  const configPath = `${base}/config.json`;
  await Deno.writeTextFile(configPath, JSON.stringify({ Password: SECRET }));
  await Deno.writeTextFile(
    `${base}/outside.ts`,
    `export const LEAK = ${JSON.stringify(SECRET)};\n`,
  );
  const dir = await rulesDir(files(configPath));
  const log = memoryLogger();
  const ev = createEvaluator({
    rulesDir: dir,
    typesDbText: "",
    services: { leak: { commands: { it: "/bin/true" } } },
    logger: log,
    onEvent: () => {},
    hostCommand: testHostCommand(),
    watch: false,
  });
  await ev.start();
  return {
    ev,
    log,
    async [Symbol.asyncDispose]() {
      await ev.stop();
      await Deno.remove(base, { recursive: true });
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Evaluates one metric twice (promise callbacks log in the next batch); returns all log text. */
async function run(ev: Evaluator, log: ReturnType<typeof memoryLogger>) {
  const first = await ev.evaluate([metric()]);
  const second = await ev.evaluate([metric()]);
  assert.deepEqual([...first.events, ...second.events], [], "nothing may fire");
  const text = log.text();
  assert.ok(!text.includes(SECRET), `the secret leaked:\n${text}`);
  return text;
}

/** A rule whose handler does `body` (and reports what it got through console.log). */
const handler = (body: string) => `export const metrics = (m: unknown) => {\n${body}\n};\n`;

Deno.test("a rule cannot read /etc/passwd: Deno's namespace does not exist in the sandbox", async () => {
  await using s = await sandbox(() => ({
    "read.ts": handler(`console.log(Deno.readTextFileSync("/etc/passwd"));`),
  }));
  const text = await run(s.ev, s.log);
  assert.match(text, /rule handler threw ReferenceError: Deno is not defined/);
  assert.ok(!text.includes("root:"), text);
});

Deno.test("a rule cannot open a socket", async () => {
  await using s = await sandbox(() => ({
    "socket.ts": handler(`Deno.listen({ hostname: "127.0.0.1", port: 0 });`),
    "fetch.ts": handler(
      `fetch("http://127.0.0.1:9/").catch((e) => console.log("fetch:", e.name));`,
    ),
  }));
  const text = await run(s.ev, s.log);
  const listen = s.log.lines.find((l) => l.fields?.handler === "socket.ts::metric::default");
  assert.match(listen?.msg ?? text, /rule handler threw ReferenceError: Deno is not defined/);
  const fetch = s.log.lines.find((l) => l.fields?.handler === "fetch.ts::metric::default");
  assert.match(fetch?.msg ?? text, /rule handler threw ReferenceError: fetch is not defined/);
});

Deno.test("a rule cannot read the environment", async () => {
  await using s = await sandbox(() => ({
    "env.ts": handler(`console.log(Deno.env.get("HOME"));`),
  }));
  assert.match(await run(s.ev, s.log), /rule handler threw ReferenceError: Deno is not defined/);
});

Deno.test("a rule cannot trigger the host's garbage collections: gc() is the glue's alone", async () => {
  await using s = await sandbox(() => ({
    "gc.ts": handler(`gc();`),
  }));
  // V8 will not let the global go: it is emptied and frozen.
  assert.match(await run(s.ev, s.log), /rule handler threw TypeError: gc is not a function/);
});

Deno.test("a rule cannot run a command", async () => {
  await using s = await sandbox(() => ({
    "run.ts": handler(`console.log(new Deno.Command("/bin/echo", { args: ["x"] }).outputSync());`),
  }));
  assert.match(await run(s.ev, s.log), /rule handler threw ReferenceError: Deno is not defined/);
});

Deno.test("a rule cannot import the agent's config.json statically, even with a JSON import attribute", async () => {
  await using s = await sandbox((config) => ({
    "static.ts": `import cfg from ${JSON.stringify(config)};\n` +
      `export const metrics = () => { console.log(JSON.stringify(cfg)); };\n`,
    "attribute.ts":
      `import cfg from ${JSON.stringify("file://" + config)} with { type: "json" };\n` +
      `export const metrics = () => { console.log(JSON.stringify(cfg)); };\n`,
  }));
  await run(s.ev, s.log);
  const problems = s.ev.problems.map(formatProblem).join("\n");
  assert.match(
    problems,
    /static\.ts:1:\d+: Error: cannot import ".*config\.json": a rule may import only sibling files/,
  );
  assert.match(problems, /attribute\.ts:1:\d+: Error: cannot import "file:\/\/.*config\.json"/);
  assert.deepEqual(s.ev.handlers, []);
});

Deno.test("a rule cannot import the agent's config.json dynamically", async () => {
  await using s = await sandbox((config) => ({
    "dynamic.ts": handler(
      `import(${JSON.stringify(config)}, { with: { type: "json" } })` +
        `.then((c) => console.log(JSON.stringify(c)), (e) => console.log("dynamic:", e.message));`,
    ),
  }));
  const text = await run(s.ev, s.log);
  assert.match(
    text,
    /dynamic: cannot import ".*config\.json": a rule may import only sibling files/,
  );
});

Deno.test("a rule cannot build an import of config.json with eval, new Function or a string timer", async () => {
  await using s = await sandbox((config) => {
    const code = JSON.stringify(`imp` + `ort("file://${config}", { with: { type: "json" } })`)
      .replace("imp", 'imp" + "');
    return {
      "evil_eval.ts": handler(`eval(${code});`),
      "evil_function.ts": handler(`new Function(${code})();`),
      "evil_constructor.ts": handler(`(function () {}).constructor(${code})();`),
      "evil_async.ts": handler(`(async function () {}).constructor(${code})();`),
      "evil_timer.ts": handler(`setTimeout(${code}, 0);`),
    };
  });
  const text = await run(s.ev, s.log);
  for (
    const file of ["evil_eval", "evil_function", "evil_constructor", "evil_async", "evil_timer"]
  ) {
    const line = s.log.lines.find((l) => l.fields?.handler === `${file}.ts::metric::default`);
    assert.ok(line, `${file}: no error logged\n${text}`);
    assert.match(
      line.msg,
      /rule handler threw (EvalError|TypeError|ReferenceError: setTimeout is not defined)/,
      `${file}: ${line.msg}`,
    );
  }
});

Deno.test("a rule holding import() text the transpiler left alone is refused at load", async () => {
  await using s = await sandbox(() => ({
    "hidden.ts": handler(`const s = "import(\\"npm:zod\\")";`),
  }));
  await run(s.ev, s.log);
  assert.match(
    s.ev.problems.map(formatProblem).join("\n"),
    /hidden\.ts:2:1: import\(\) and import\.meta are not available to rules/,
  );
});

Deno.test("a rule can import a sibling file but nothing outside the rules directory, npm: or node:", async () => {
  await using s = await sandbox(() => ({
    "_limits.ts": `export const LIMIT = 42;\n`,
    "sibling.ts": `import { LIMIT } from "./_limits.ts";\n` +
      `export const metrics = () => { console.log("limit", LIMIT); };\n`,
    "parent.ts": `import { LEAK } from "../outside.ts";\nexport const metrics = () => LEAK;\n`,
    "npm.ts": `import { z } from "npm:zod@4.6.7";\nexport const metrics = () => { z; };\n`,
    "node.ts": `import fs from "node:fs";\nexport const metrics = () => { fs; };\n`,
    "missing.ts": `import { X } from "./nope.ts";\nexport const metrics = () => { X; };\n`,
  }));
  const text = await run(s.ev, s.log);
  assert.match(text, /limit 42/);
  assert.deepEqual(s.ev.handlers, ["sibling.ts::metric::default"]);
  const problems = s.ev.problems.map(formatProblem).join("\n");
  assert.match(
    problems,
    /parent\.ts:1:\d+: Error: cannot import "\.\.\/outside\.ts": a rule may import only sibling/,
  );
  assert.match(problems, /npm\.ts:1:\d+: Error: cannot import "npm:zod@4\.6\.7"/);
  assert.match(problems, /node\.ts:1:\d+: Error: cannot import "node:fs"/);
  assert.match(
    problems,
    /missing\.ts:1:\d+: Error: cannot import "\.\/nope\.ts": there is no nope\.ts/,
  );
});

Deno.test("a rule cannot change the built-ins the sandbox and other rules use", async () => {
  await using s = await sandbox(() => ({
    "a_tamper.ts": handler(`Array.prototype.push = function () { return 0; };`),
    "b_proto.ts": handler(`(Object.prototype as Record<string, unknown>).polluted = true;`),
    "c_victim.ts": handler(`console.log("polluted:", ({} as Record<string, unknown>).polluted);`),
  }));
  const text = await run(s.ev, s.log);
  const tamper = s.log.lines.find((l) => l.fields?.handler === "a_tamper.ts::metric::default");
  assert.match(
    tamper?.msg ?? "",
    /rule handler threw TypeError: Cannot assign to read only property 'push'/,
  );
  const proto = s.log.lines.find((l) => l.fields?.handler === "b_proto.ts::metric::default");
  assert.match(proto?.msg ?? "", /rule handler threw TypeError: Cannot add property polluted/);
  assert.match(text, /polluted: undefined/);
});

Deno.test("a rule cannot end the sandbox, post to its host or feed it forged messages", async () => {
  await using s = await sandbox(() => ({
    "a_exit.ts": handler(`Deno.exit(3);`),
    "b_close.ts": handler(`(globalThis as unknown as { close(): void }).close();`),
    "c_post.ts": handler(
      `(globalThis as unknown as { postMessage(m: unknown): void }).postMessage({ t: "result" });`,
    ),
    "d_forge.ts": handler(
      `globalThis.dispatchEvent(new MessageEvent("message", { data: { t: "batch", id: 999, ` +
        `items: [{ host: "x", plugin: "p", type: "t", values: [1], time: 1 }], skip: [] } }));`,
    ),
  }));
  await run(s.ev, s.log);
  const msg = (file: string) =>
    s.log.lines.find((l) => l.fields?.handler === `${file}.ts::metric::default`)?.msg ?? "";
  assert.match(msg("a_exit"), /rule handler threw ReferenceError: Deno is not defined/);
  assert.match(msg("b_close"), /rule handler threw TypeError: .*close is not a function/);
  assert.match(msg("c_post"), /rule handler threw TypeError: .*postMessage is not a function/);
  assert.match(msg("d_forge"), /rule handler threw ReferenceError: MessageEvent is not defined/);
  assert.deepEqual(s.ev.handlers.length, 4, "every handler still loaded (no restart needed)");
});

Deno.test("a rule cannot reach the host protocol: stdio, Deno's internals, the glue's listener", async () => {
  await using s = await sandbox(() => ({
    "a_stdout.ts": handler(
      `Deno.stdout.writeSync(new Uint8Array([0, 0, 0, 9, 1, 123, 34, 116, 34]));`,
    ),
    "b_stdin.ts": handler(`Deno.stdin.readSync(new Uint8Array(64));`),
    "c_core.ts": handler(
      `const d = Deno as unknown as Record<symbol, { core: unknown }>;\n` +
        `console.log("core:", typeof d[(Deno as unknown as { internal: symbol }).internal].core);`,
    ),
    "d_listener.ts": handler(
      `const g = globalThis as unknown as Record<symbol, { listeners?: Record<string, { callback(e: unknown): void }[]> }>;\n` +
        `for (const sym of Object.getOwnPropertySymbols(g)) {\n` +
        `  for (const l of g[sym]?.listeners?.message ?? []) {\n` +
        `    l.callback({ isTrusted: true, data: { t: "configure", services: {}, agentPlugin: "", typesDb: "", record: false, progress: new SharedArrayBuffer(12) } });\n` +
        `    console.log("called the glue");\n` +
        `  }\n` +
        `}\n` +
        `console.log("listener probe done");`,
    ),
  }));
  const text = await run(s.ev, s.log);
  const msg = (file: string) =>
    s.log.lines.find((l) => l.fields?.handler === `${file}.ts::metric::default`)?.msg ?? "";
  for (const file of ["a_stdout", "b_stdin", "c_core"]) {
    assert.match(msg(file), /rule handler threw ReferenceError: Deno is not defined/);
  }
  assert.match(text, /listener probe done/);
  assert.doesNotMatch(text, /called the glue/);
  assert.doesNotMatch(text, /rule host stopped/);
  assert.equal(s.ev.handlers.length, 4, "every handler still loaded (no restart needed)");
});

Deno.test("the rule host exits when the agent closes its stdin or stops reading its stdout", async () => {
  for (const end of ["stdin", "stdout"] as const) {
    const command = testHostCommand();
    const child = new Deno.Command(command.cmd, {
      args: command.args,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    await reader.read(); // ready
    const writer = child.stdin.getWriter();
    if (end === "stdin") await writer.close();
    else {
      await reader.cancel();
      // a request that is answered: writing the answer fails
      await writer.write(encodeFrame({ t: "batch", id: 1, items: [], skip: [], sync: true }));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      child.status.then((s) => `exited ${s.code}`),
      new Promise<string>((r) => timer = setTimeout(() => r("still running"), 10_000)),
    ]);
    clearTimeout(timer);
    if (outcome === "still running") child.kill("SIGKILL");
    await child.status;
    if (end === "stdout") await writer.close().catch(() => {});
    assert.match(outcome, /^exited/, `after the agent's ${end} went away`);
  }
});
