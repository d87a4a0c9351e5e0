/**
 * `agent test-rule` (src/cli/test_rule.ts), run as an operator would: main.ts in a child process,
 * which also starts the rule host the production way (`main.ts __rule-host`).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { rulesDir } from "./_helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

async function agent(...args: string[]) {
  return await agentWithInput("", ...args);
}

/** Runs the agent with `input` on its standard input. */
async function agentWithInput(input: string, ...args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", `${root}deno.json`, `${root}main.ts`, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

const CONFIG = { Services: { hello: { commands: { exec: "/bin/echo hello" } } } };

Deno.test("test-rule prints what a metric would fire, without running anything", async () => {
  const dir = await rulesDir({ "config.json": JSON.stringify(CONFIG) });
  try {
    const r = await agent(
      "test-rule",
      `${root}rules/memory_free.ts`,
      "--config",
      `${dir}/config.json`,
      "--metric",
      '{"plugin":"memory","type":"memory","type_instance":"free","values":[954068992],"time":1610019177}',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "handlers: memory_free.ts::metric::memory_free_is_under_10GB\n" +
        "2021-01-07T11:32:57.000Z fired memory_free.ts::metric::memory_free_is_under_10GB " +
        "localhost/memory/memory-free: would run hello/exec\n" +
        "1 item(s), 1 handler call(s); no command was run\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("test-rule --replay runs a recording on its own clock and prints fired and cleared with their times", async () => {
  const line = (t: number, mb: number) =>
    JSON.stringify({
      host: "web1",
      plugin: "memory",
      type: "memory",
      type_instance: "free",
      time: t,
      values: [mb * 1024 * 1024],
    });
  const night = [10, 40, 40, 40, 40, 70, 70].map((mb, i) => line(1_700_000_000 + 10 * i, mb))
    .join("\n") + "\n";
  const dir = await rulesDir({ "config.json": JSON.stringify(CONFIG), "night.jsonl": night });
  try {
    const args = ["test-rule", `${root}rules/sustained_low_memory.ts`, "--config"];
    const h =
      "sustained_low_memory.ts::metric::free_memory_low_for_3_samples web1/memory/memory-free";
    // From a file, and from standard input (`-`: no read grant needed under the binary's flags).
    for (
      const r of [
        await agent(...args, `${dir}/config.json`, "--replay", `${dir}/night.jsonl`),
        await agentWithInput(night, ...args, `${dir}/config.json`, "--replay", "-"),
      ]
    ) {
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.stdout.split("\n").filter((l) => l.includes(" fired ") || l.includes(" cleared ")),
        [
          `2023-11-14T22:13:40.000Z fired ${h}: would run hello/exec`,
          `2023-11-14T22:14:20.000Z cleared ${h}`,
        ],
      );
    }
    const bad = await agentWithInput("{not json\n", ...args, `${dir}/config.json`, "--replay", "-");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /standard input:1:/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("test-rule reports a broken rule file with file:line and exit code 3", async () => {
  const dir = await rulesDir({
    "broken.ts":
      "export const metrics = {\n  low(m) {\n    if (m.values[0] < ) return;\n  },\n};\n",
  });
  try {
    const r = await agent(
      "test-rule",
      `${dir}/broken.ts`,
      "--metric",
      '{"plugin":"cpu","type":"cpu","values":[1]}',
    );
    assert.equal(r.code, 3);
    assert.equal(r.stderr, `${dir}/broken.ts:3:23: syntax error: Unexpected token\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
