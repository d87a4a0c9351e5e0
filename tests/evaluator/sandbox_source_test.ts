/**
 * The rule worker's checked-in source (src/evaluator/_sandbox_source.ts) is what the sandbox's
 * modules bundle to now, and holds nothing but them and SES: `scripts/agent`, `scripts/bundle`,
 * `scripts/compile` and every test run this one source.
 */
import assert from "node:assert/strict";
import { generate } from "../../scripts/build_sandbox.ts";
import { SANDBOX_SOURCE } from "../../src/evaluator/_sandbox_source.ts";

Deno.test("the checked-in rule worker source is what src/evaluator/sandbox/ bundles to", async () => {
  const current = await Deno.readTextFile(
    new URL("../../src/evaluator/_sandbox_source.ts", import.meta.url),
  );
  assert.ok(
    current === await generate(),
    "src/evaluator/_sandbox_source.ts is out of date: run " +
      "`scripts/deno run -A scripts/build_sandbox.ts` and commit it",
  );
});

Deno.test("the rule worker is built only from the sandbox's modules, the pure modules it names and SES", () => {
  const modules = [...SANDBOX_SOURCE.matchAll(/^\/\/ (\S+)$/gm)].map((m) => m[1]!)
    .filter((m) => /\.(ts|js)$/.test(m));
  const local = modules.filter((m) => !m.startsWith("npm:"));
  assert.deepEqual(local.filter((m) => !m.startsWith("src/evaluator/sandbox/")).sort(), [
    "src/collectd/_decode_cache.ts",
    "src/collectd/_protocol.ts",
    "src/collectd/decode.ts",
    "src/collectd/rates.ts",
    "src/collectd/types_db.ts",
    "src/evaluator/_context.ts",
    "src/evaluator/_context_changes.ts",
    "src/evaluator/_context_helpers.ts",
    "src/evaluator/_frames.ts",
    "src/evaluator/_frames_json.ts",
    "src/evaluator/_frames_packets.ts",
    "src/evaluator/_progress.ts",
  ]);
  assert.ok(modules.some((m) => m.startsWith("npm:ses@2.3.0/")), modules.join("\n"));
  assert.ok(!SANDBOX_SOURCE.includes("zod"), "no schema library in the sandbox");
});
