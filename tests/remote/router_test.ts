import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunRequest } from "../../src/executor/mod.ts";
import { createCommandRouter, withSignature } from "../../src/remote/mod.ts";
import { Code, type CommandResult, type RunRecord } from "../../src/model/mod.ts";
import { openSeenStore } from "../../src/mqtt/mod.ts";
import { captureLogger } from "../_helpers/mqtt.ts";

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const ops = { Name: "ops", Secret: "0123456789abcdef" };

async function router(extra: { senders?: Map<string, string>; withConfig?: boolean } = {}) {
  const dir = await Deno.makeTempDir();
  const seen = await openSeenStore(join(dir, "seen.log"), { retentionMs: 1e9, maxEntries: 100 });
  const runs: RunRequest[] = [];
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

Deno.test("a command from the future (beyond MaxClockSkew) or with an impossible date is refused with 0x1005 or 0x1004", async () => {
  const t = await router();
  try {
    const send = (task_id: number, timestamp: string) =>
      t.r.route(bytes({ task_id, timestamp, service: "s", command: "c" }), { topic: "c" });
    const future = await send(1, "9999-12-31T23:59:59Z");
    assert.equal(future.kind === "refused" && future.result.code, Code.STALE_COMMAND);
    assert.match(future.kind === "refused" ? future.result.message : "", /from the future/);
    const soon = await send(2, "2026-11-23T12:04:59Z"); // 299 s ahead: clocks differ a little
    assert.equal(soon.kind, "accepted");
    const later = await send(3, "2026-11-23T12:05:01Z");
    assert.equal(later.kind === "refused" && later.result.code, Code.STALE_COMMAND);
    for (
      const [id, ts] of [[4, "2026-99-99T99:99:99Z"], [5, "2026-11-23T12:00:00+99:99"]] as const
    ) {
      const out = await send(id, ts);
      assert.equal(out.kind === "refused" && out.result.code, Code.INVALID_MESSAGE, ts);
    }
    assert.equal(t.runs.length, 1);
  } finally {
    await t.done();
  }
});

Deno.test('154 and "154" are one task: the second is a duplicate (0x1100)', async () => {
  const t = await router();
  try {
    const send = (task_id: unknown) =>
      t.r.route(
        bytes({ task_id, timestamp: "2026-11-23T12:00:00Z", service: "s", command: "c" }),
        { topic: "c" },
      );
    assert.equal((await send(154)).kind, "accepted");
    const again = await send("154");
    assert.equal(again.kind === "refused" && again.result.code, Code.DUPLICATE_TASK);
    assert.equal(again.kind === "refused" && again.result.task_id, "154", "echoed as sent");
    assert.equal(t.runs.length, 1);
  } finally {
    await t.done();
  }
});

Deno.test("a refusal carries a record for the audit with the names it could read, none of the hostile ones", async () => {
  const t = await router();
  try {
    const out = await t.r.route(
      bytes({ task_id: 7, timestamp: "2026-01-01T00:00:00Z", service: "web", command: "x\u0000" }),
      { topic: "c" },
    );
    assert.equal(out.kind, "refused");
    if (out.kind !== "refused") return;
    assert.equal(out.record.result, out.result);
    assert.equal(out.record.service, "web");
    assert.equal(out.record.command, "");
    assert.deepEqual(out.record.trigger, { kind: "remote", task_id: 7 });
  } finally {
    await t.done();
  }
});

Deno.test("a command whose task id cannot be recorded is answered 0x1018, not run, and may be sent again", async () => {
  const { logger, events } = captureLogger();
  let full = true;
  const runs: RunRequest[] = [];
  const ids = new Set<string>();
  const r = createCommandRouter({
    hostName: "edge1",
    maxAgeMs: 0,
    senders: new Map(),
    seen: {
      markSeen(id) {
        if (full) return Promise.reject(new Error("cannot record the task id in s: No space"));
        ids.add(String(id));
        return Promise.resolve(true);
      },
      markDone: () => Promise.resolve(),
      has: (id) => ids.has(String(id)),
      unfinished: () => [],
      flush: () => Promise.resolve(),
      size: 0,
      close() {},
    },
    now: () => NOW,
    logger,
    execute: (req) => {
      runs.push(req);
      return Promise.resolve({ result: { task_id: req.task_id!, code: 0 } } as RunRecord);
    },
  });
  const msg = bytes({ task_id: 8, service: "s", command: "c" });
  const out = await r.route(msg, { topic: "c" });
  assert.equal(out.kind === "refused" && out.result.code, Code.STATE_WRITE_FAILED);
  assert.match(out.kind === "refused" ? out.result.message : "", /not run: .*No space/);
  assert.equal(runs.length, 0);
  assert.ok(events.some((e) => e.level === "error" && /command refused: not run/.test(e.msg)));
  full = false;
  assert.equal((await r.route(msg, { topic: "c" })).kind, "accepted");
  assert.equal(runs.length, 1);
});

Deno.test("a maintenance handler that throws at once still answers its task (never an id without a result)", async () => {
  const dir = await Deno.makeTempDir();
  const seen = await openSeenStore(join(dir, "seen.log"), { retentionMs: 1e9, maxEntries: 100 });
  try {
    const r = createCommandRouter({
      hostName: "edge1",
      maxAgeMs: 0,
      senders: new Map(),
      seen,
      logger: captureLogger().logger,
      execute: () => Promise.reject(new Error("not here")),
      onMaintenanceMessage: () => {
        throw new RangeError("Invalid time value");
      },
    });
    const out = await r.route(bytes({ task_id: "b1", maintenance: "on", for: "2h" }), {
      topic: "c",
    });
    assert.equal(out.kind, "accepted");
    const result = out.kind === "accepted" ? await out.done as CommandResult : undefined;
    assert.equal(result?.code, Code.STATE_WRITE_FAILED);
    assert.match(result?.message ?? "", /maintenance switch failed: Invalid time value/);
  } finally {
    seen.close();
    await Deno.remove(dir, { recursive: true });
  }
});
