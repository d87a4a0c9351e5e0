/**
 * scripts/check_imports.ts: the static check of `scripts/test` that fails on import cycles among
 * src/ modules and on imports of another folder's private (`_`) file.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  findCycles,
  findPrivateImports,
  type ImportEdge,
  judge,
  parseAllowlist,
  privateTo,
} from "../../scripts/check_imports.ts";

const edge = (from: string, to: string, typeOnly = false): ImportEdge => ({ from, to, typeOnly });
const script = new URL("../../scripts/check_imports.ts", import.meta.url).pathname;

Deno.test("findCycles() reports two src/ modules that import each other once, in import order", () => {
  assert.deepEqual(
    findCycles([
      edge("src/collectd/security.ts", "src/collectd/auth_file.ts"),
      edge("src/collectd/auth_file.ts", "src/collectd/security.ts", true),
      edge("src/collectd/mod.ts", "src/collectd/security.ts"),
    ]),
    ["cycle: src/collectd/auth_file.ts → src/collectd/security.ts → src/collectd/auth_file.ts"],
  );
});

Deno.test("findCycles() reports a loop of three files with a shortcut as one finding, its shortest loop", () => {
  assert.deepEqual(
    findCycles([
      edge("src/a.ts", "src/b.ts"),
      edge("src/b.ts", "src/c.ts"),
      edge("src/c.ts", "src/a.ts"),
      edge("src/b.ts", "src/a.ts"),
    ]),
    ["cycle: src/a.ts → src/b.ts → src/a.ts"],
  );
});

Deno.test("findCycles() ignores layered imports and cycles outside src/", () => {
  assert.deepEqual(
    findCycles([
      edge("src/agent.ts", "src/model/mod.ts"),
      edge("src/cli/run.ts", "src/agent.ts"),
      edge("tests/a/x.ts", "tests/a/y.ts"),
      edge("tests/a/y.ts", "tests/a/x.ts"),
    ]),
    [],
  );
});

Deno.test("privateTo() names the folder a _ file or a file in a _ folder is private to", () => {
  assert.equal(privateTo("src/collectd/_protocol.ts"), "src/collectd");
  assert.equal(privateTo("tests/_helpers/ports.ts"), "tests");
  assert.equal(privateTo("src/collectd/mod.ts"), undefined);
});

Deno.test("findPrivateImports() allows the folder, its subfolders and its test twin, and flags everyone else", () => {
  const found = findPrivateImports([
    edge("src/evaluator/evaluator.ts", "src/evaluator/_frames.ts"),
    edge("src/evaluator/sandbox/main.ts", "src/evaluator/_frames.ts"),
    edge("tests/evaluator/host_test.ts", "src/evaluator/_frames.ts"),
    edge("tests/soak/harness_test.ts", "scripts/soak/_table.ts"),
    edge("tests/agent/run_test.ts", "tests/_helpers/ports.ts"),
    edge("src/agent.ts", "src/commands/_channel.ts"),
    edge("tests/agent/x_test.ts", "src/commands/_router.ts"),
    edge("tests/agent/x_test.ts", "tests/mqtt/_mosquitto.ts"),
    edge("scripts/fuzz.ts", "tests/_helpers/ports.ts"),
    edge("src/evaluator/evaluator.ts", "src/evaluator/sandbox/_glue.ts"),
  ]);
  assert.deepEqual(found, [
    "private: scripts/fuzz.ts imports tests/_helpers/ports.ts (private to tests/)",
    "private: src/agent.ts imports src/commands/_channel.ts (private to src/commands/)",
    "private: src/evaluator/evaluator.ts imports src/evaluator/sandbox/_glue.ts " +
    "(private to src/evaluator/sandbox/)",
    "private: tests/agent/x_test.ts imports src/commands/_router.ts (private to src/commands/)",
    "private: tests/agent/x_test.ts imports tests/mqtt/_mosquitto.ts (private to tests/mqtt/)",
  ]);
});

Deno.test("judge() tolerates allowlisted findings, fails on a new one and on an allowlist line that is gone", () => {
  const allowed = parseAllowlist("# today's findings\n\ncycle: a → b → a\nprivate: x\n");
  assert.deepEqual(allowed, ["cycle: a → b → a", "private: x"]);
  assert.equal(judge(["cycle: a → b → a", "private: x"], allowed).failed, false);
  const fresh = judge(["cycle: a → b → a", "private: x", "private: y"], allowed);
  assert.equal(fresh.failed, true);
  assert.ok(fresh.lines.includes("FAIL private: y"), fresh.lines.join("\n"));
  const stale = judge(["private: x"], allowed);
  assert.equal(stale.failed, true);
  assert.ok(
    stale.lines.includes(
      "FAIL allowlisted but no longer found (remove its line): cycle: a → b → a",
    ),
    stale.lines.join("\n"),
  );
});

/** Writes a small tree (path → text) into a temp folder. */
async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "check_imports_test_" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(root, path)), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
  return root;
}

async function runCheck(root: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", script, "--root", root, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: out.code,
    text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  };
}

Deno.test("check_imports.ts exits 1 naming a cycle (type-only import included) and a reach into a private file, by Deno's own module graph", async () => {
  const root = await tree({
    "src/a/mod.ts": 'export { x } from "./_x.ts";\n',
    "src/a/_x.ts": 'import type { Y } from "../b/y.ts";\nexport const x = 1;\nexport type X = Y;\n',
    "src/b/y.ts":
      'import {\n  x,\n} from "../a/_x.ts";\nexport type Y = number;\nexport const y = x;\n',
    "tests/a/x_test.ts": 'import { x } from "../../src/a/_x.ts";\nconsole.log(x);\n',
    "main.ts": 'await import("./src/b/y.ts");\n',
  });
  try {
    const { code, text } = await runCheck(root, "--no-allow");
    assert.equal(code, 1, text);
    assert.match(text, /FAIL cycle: src\/a\/_x\.ts → src\/b\/y\.ts → src\/a\/_x\.ts/);
    assert.match(
      text,
      /FAIL private: src\/b\/y\.ts imports src\/a\/_x\.ts \(private to src\/a\/\)/,
    );
    assert.doesNotMatch(text, /tests\/a\/x_test\.ts/, "the test twin may use src/a's private file");
    assert.match(text, /2 finding\(s\): 2 new/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("check_imports.ts exits 0 on a clean tree, and on listed findings with --allow", async () => {
  const root = await tree({
    "src/a/mod.ts": 'export { x } from "./_x.ts";\n',
    "src/a/_x.ts": "export const x = 1;\n",
    "src/b/y.ts": 'import { x } from "../a/_x.ts";\nexport const y = x;\n',
  });
  try {
    const finding = "private: src/b/y.ts imports src/a/_x.ts (private to src/a/)";
    await Deno.writeTextFile(join(root, "allow"), `# known\n${finding}\n`);
    const allowed = await runCheck(root, "--allow", join(root, "allow"));
    assert.equal(allowed.code, 0, allowed.text);
    assert.match(allowed.text, /1 finding\(s\): 0 new, 1 allowlisted/);
    await Deno.writeTextFile(join(root, "src/b/y.ts"), 'import { x } from "../a/mod.ts";\n');
    const clean = await runCheck(root, "--no-allow");
    assert.equal(clean.code, 0, clean.text);
    assert.match(clean.text, /0 finding\(s\)/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
