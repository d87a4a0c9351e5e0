import assert from "node:assert/strict";
import { join } from "node:path";
import { createCommandRouter, withSignature } from "../../src/remote/mod.ts";
import { Code, type CommandResult, type RunRecord } from "../../src/model/mod.ts";
import { openSeenStore } from "../../src/mqtt/mod.ts";
import { captureLogger } from "../_helpers/mqtt.ts";

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const STAMP = "2026-11-23T11:59:30Z";
const ops = { Name: "ops", Secret: "0123456789abcdef" };
const admin = { Name: "admin", Secret: "fedcba9876543210" };

/** A router with CommandSenders ops+admin and ConfigSenders admin only. */
async function router() {
  const dir = await Deno.makeTempDir();
  const seen = await openSeenStore(join(dir, "seen.log"), { retentionMs: 1e9, maxEntries: 100 });
  const r = createCommandRouter({
    hostName: "edge1",
    maxAgeMs: 60_000,
    senders: new Map([[ops.Name, ops.Secret], [admin.Name, admin.Secret]]),
    configSenders: new Map([[admin.Name, admin.Secret]]),
    seen,
    now: () => NOW,
    logger: captureLogger().logger,
    execute: (req) =>
      Promise.resolve({ result: { task_id: req.task_id!, code: 0 } } as unknown as RunRecord),
    onConfigMessage: (m): Promise<CommandResult> =>
      Promise.resolve({ task_id: m.task_id, timestamp: "t", message: "replaced", code: 0 }),
  });
  return {
    route: (msg: unknown) => r.route(bytes(msg), { topic: "cmd/edge1" }),
    async [Symbol.asyncDispose]() {
      seen.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("with ConfigSenders, a config signed by a mere CommandSender is refused (0x1006) while its commands still run", async () => {
  await using t = await router();
  const config = await t.route(withSignature({ task_id: 1, timestamp: STAMP, config: "x" }, ops));
  assert.equal(config.kind, "refused");
  if (config.kind === "refused") {
    assert.equal(config.result.code, Code.BAD_SIGNATURE);
    assert.match(config.result.message, /unknown sender "ops".*one of ConfigSenders/);
  }
  const command = await t.route(
    withSignature({ task_id: 2, timestamp: STAMP, service: "s", command: "c" }, ops),
  );
  assert.equal(command.kind, "accepted");
  const unsigned = await t.route({ task_id: 3, timestamp: STAMP, config: "x" });
  assert.equal(unsigned.kind === "refused" && unsigned.result.code, Code.BAD_SIGNATURE);
});

Deno.test("with ConfigSenders, a config signed by one of them is accepted and a forged one is not", async () => {
  await using t = await router();
  const config = await t.route(withSignature({ task_id: 4, timestamp: STAMP, config: "x" }, admin));
  assert.equal(config.kind, "accepted");
  if (config.kind === "accepted") {
    assert.equal(((await config.done) as CommandResult).message, "replaced");
  }
  const forged = withSignature({ task_id: 5, timestamp: STAMP, config: "x" }, {
    Name: "admin",
    Secret: ops.Secret,
  });
  assert.equal((await t.route(forged)).kind, "refused");
});
