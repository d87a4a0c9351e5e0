import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("under --allow-run=/bin/echo, a command using another executable is a config error naming the flag", async () => {
  const stateDir = await Deno.makeTempDir();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      `${root}deno.json`,
      "--no-prompt",
      "--allow-run=/bin/echo",
      "--allow-read",
      `--allow-write=${stateDir}`,
      `${root}tests/testdata/executor/permissions/probe.ts`,
      stateDir,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const got = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(got.problems.length, 1, JSON.stringify(got.problems));
  assert.equal(got.problems[0].path, "Services.hello.commands.nap");
  assert.match(got.problems[0].message, /\/bin\/sleep is not permitted/);
  assert.match(got.problems[0].message, /--allow-run/);
  assert.equal(got.direct.kind, "spawn_failed");
  assert.equal(got.direct.reason, "not_permitted");
  assert.deepEqual([got.result.code, got.result.message], [0, "Hello World!\n"]);
});
