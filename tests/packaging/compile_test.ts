/**
 * scripts/compile without a usable denort (there is none on this machine, and the download is
 * forced to fail through a dead proxy so the test means the same on a connected machine).
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

async function compile(env: Record<string, string>, output: string) {
  const out = await new Deno.Command(join(root, "scripts/compile"), {
    args: ["--output", output],
    env: { HTTPS_PROXY: "http://127.0.0.1:9", https_proxy: "http://127.0.0.1:9", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("scripts/compile says clearly that denort is needed when it can neither download it nor use DENORT_BIN", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const none = await compile({ DENORT_BIN: "" }, join(dir, "edge-agent"));
    assert.equal(none.code, 1);
    assert.match(none.stderr, /cannot build the binary: deno compile needs its runtime 'denort'/);
    assert.match(none.stderr, /could not be downloaded .* and DENORT_BIN is not set/);
    assert.match(none.stderr, /DENORT_BIN=\/path\/to\/denort scripts\/compile/);
    // the derived flags are what it tried to compile with
    assert.match(none.stderr, /--allow-net=127\.0\.0\.1:25826/);

    const missing = await compile({ DENORT_BIN: join(dir, "no-denort") }, join(dir, "edge-agent"));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /DENORT_BIN=.*no-denort is not a usable denort executable/);
    assert.match(missing.stderr, /Could not find denort/);
    await assert.rejects(Deno.stat(join(dir, "edge-agent")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scripts/compile refuses a DENORT_BIN that is the deno CLI (its output would ignore the agent)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cli = await compile({ DENORT_BIN: Deno.execPath() }, join(dir, "edge-agent"));
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /does not run the agent .*must be denort, not the deno CLI/);
    await assert.rejects(Deno.stat(join(dir, "edge-agent")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
