import assert from "node:assert/strict";
import { join } from "node:path";
import { createCommandRouter, type ExecuteRequest, withSignature } from "../../src/commands/mod.ts";
import { Code, type CommandResult, type RunRecord } from "../../src/model/mod.ts";
import { openSeenStore } from "../../src/mqtt/mod.ts";
import { captureLogger } from "../mqtt/_helpers.ts";

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const ops = { Name: "ops", Secret: "0123456789abcdef" };

async function router(extra: { senders?: Map<string, string>; withConfig?: boolean } = {}) {
  const dir = await Deno.makeTempDir();
  const seen = await openSeenStore(join(dir, "seen.log"), { retentionMs: 1e9, maxEntries: 100 });
  const runs: ExecuteRequest[] = [];
  const configs: [unknown, string | undefined][] = [];
  const r = createCommandRouter({
    hostName: "edge1",
    maxAgeMs: 60_000,
    senders: extra.senders ?? new Map(),
    seen,
    now: () => NOW,
    logger: captureLogger().logger,
    execute: (req) => {
      runs.push(req);
      return Promise.resolve(
        { result: { task_id: req.task_id!, code: 0 } } as unknown as RunRecord,
      );
    },
    ...(extra.withConfig === false ? {} : {
      onConfigMessage: (m, sender): Promise<CommandResult> => {
        configs.push([m, sender]);
        return Promise.resolve({
          task_id: m.task_id,
          timestamp: "t",
          message: "replaced",
          code: 0,
        });
      },
    }),
  });
  return {
    r,
    runs,
    configs,
    async done() {
      seen.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("a config message passes the signature, age and duplicate checks, then goes to onConfigMessage with its sender", async () => {
  const t = await router({ senders: new Map([["ops", ops.Secret]]) });
  try {
    const msg = withSignature({ task_id: 9, timestamp: "2026-11-23T11:59:30Z", config: "x" }, ops);
    const first = await t.r.route(bytes(msg), { topic: "c" });
    assert.equal(first.kind, "accepted");
    if (first.kind === "accepted") {
      assert.equal(((await first.done) as CommandResult).message, "replaced");
    }
    assert.deepEqual(t.configs.map(([m, s]) => [(m as { config: string }).config, s]), [[
      "x",
      "ops",
    ]]);
    const again = await t.r.route(bytes(msg), { topic: "c" });
    assert.equal(again.kind === "refused" && again.result.code, Code.DUPLICATE_TASK);
    const unsigned = await t.r.route(
      bytes({ task_id: 10, timestamp: "2026-11-23T11:59:30Z", config: "x" }),
      { topic: "c" },
    );
    assert.equal(unsigned.kind === "refused" && unsigned.result.code, Code.BAD_SIGNATURE);
    assert.equal(t.configs.length, 1);
  } finally {
    await t.done();
  }
});

Deno.test("a remote command reaches execute() with a remote trigger carrying task_id and sender", async () => {
  const t = await router({ senders: new Map([["ops", ops.Secret]]) });
  try {
    const msg = withSignature(
      { task_id: 11, timestamp: "2026-11-23T11:59:59Z", service: "s", command: "c" },
      ops,
    );
    const out = await t.r.route(bytes(msg), { topic: "c" });
    assert.equal(out.kind, "accepted");
    assert.deepEqual(t.runs, [{
      service: "s",
      command: "c",
      task_id: 11,
      trigger: { kind: "remote", task_id: 11, sender: "ops" },
    }]);
  } finally {
    await t.done();
  }
});

Deno.test("a command older than the maximum age is refused with 0x1005 and never reaches execute()", async () => {
  const t = await router();
  try {
    const out = await t.r.route(
      bytes({ task_id: 12, timestamp: "2026-11-23T11:58:59Z", service: "s", command: "c" }),
      { topic: "c" },
    );
    assert.equal(out.kind === "refused" && out.result.code, Code.STALE_COMMAND);
    assert.equal(t.runs.length, 0);
  } finally {
    await t.done();
  }
});
