import assert from "node:assert/strict";
import { join } from "node:path";
import { openSeenStore, type SeenStoreOptions } from "../../src/mqtt/mod.ts";

/**
 * Runs `fn` with a seen-store path in a fresh temp folder and an `open` that opens it (60-s
 * retention, 100 ids unless `options` say otherwise); the folder is removed afterwards.
 */
async function withSeenFile(
  fn: (
    path: string,
    open: (options?: Partial<SeenStoreOptions>) => ReturnType<typeof openSeenStore>,
  ) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "seen.log");
  try {
    await fn(
      path,
      (options) => openSeenStore(path, { retentionMs: 60_000, maxEntries: 100, ...options }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("openSeenStore() remembers task ids across reopening and tells numbers from strings", () =>
  withSeenFile(async (_path, open) => {
    const a = await open();
    assert.equal(await a.markSeen(3126260400), true);
    assert.equal(await a.markSeen(3126260400), false);
    assert.equal(await a.markSeen("3126260400"), true);
    a.close();
    const b = await open();
    assert.equal(b.has(3126260400), true);
    assert.equal(await b.markSeen("3126260400"), false);
    assert.equal(b.size, 2);
    b.close();
  }));

Deno.test("openSeenStore() forgets task ids older than the retention and compacts its file", () =>
  withSeenFile(async (path, open) => {
    let now = 1_000_000;
    const a = await open({ retentionMs: 10_000, now: () => now });
    for (let i = 0; i < 50; i++) await a.markSeen(i);
    now += 20_000;
    await a.markSeen("fresh");
    a.close();
    const b = await open({ retentionMs: 10_000, now: () => now });
    assert.equal(b.size, 1);
    assert.equal(b.has(0), false);
    assert.equal(await b.markSeen(0), true, "an expired id may run again");
    b.close();
    assert.equal((await Deno.readTextFile(path)).trim().split("\n").length, 2);
  }));

Deno.test("openSeenStore() lists the ids accepted by an earlier process whose result was never handed on", () =>
  withSeenFile(async (_path, open) => {
    const a = await open();
    await a.markSeen(1);
    await a.markSeen("two");
    await a.markDone(1);
    assert.deepEqual(a.unfinished(), [], "only earlier processes' ids");
    a.close();
    const b = await open();
    assert.deepEqual(b.unfinished(), [{ task_id: "two" }]);
    await b.markDone("two");
    b.close();
    const c = await open();
    assert.deepEqual(c.unfinished(), []);
    assert.equal(await c.markSeen("two"), false, "still a duplicate");
    c.close();
  }));

Deno.test("openSeenStore() keeps what an unfinished command asked for, and reads files written without it", () =>
  withSeenFile(async (path, open) => {
    // A file from before the task was kept: bare ids.
    await Deno.writeTextFile(path, `${Date.now()}\t7\n`);
    const a = await open();
    assert.deepEqual(a.unfinished(), [{ task_id: 7 }]);
    await a.markDone(7);
    await a.markSeen(8, { service: "web", command: "restart", sender: "ops" });
    await a.markSeen("nine", { service: "db", command: "check" });
    await a.markSeen(10); // a config message: no service/command
    a.close();
    const b = await open();
    assert.deepEqual(b.unfinished(), [
      { task_id: 8, service: "web", command: "restart", sender: "ops" },
      { task_id: "nine", service: "db", command: "check" },
      { task_id: 10 },
    ]);
    assert.equal(await b.markSeen(8), false, "still a duplicate");
    await b.markDone("nine");
    b.close();
    // Opening compacted the file: what unfinished tasks asked for survived it, finished ones
    // keep only their id.
    const c = await open();
    assert.equal(c.unfinished()[0]?.service, "web");
    c.close();
    const text = await Deno.readTextFile(path);
    assert.match(text, /\t8\tseen\t\{"service":"web"/);
    assert.match(text, /\t"nine"\tdone\n/);
  }));

Deno.test("openSeenStore() ignores a task field it cannot read and keeps the id", () =>
  withSeenFile(async (path, open) => {
    const at = Date.now();
    await Deno.writeTextFile(path, `${at}\t5\tseen\t{"service":1}\n${at}\t6\tseen\t{"serv`);
    const a = await open();
    assert.deepEqual(a.unfinished(), [{ task_id: 5 }, { task_id: 6 }]);
    assert.equal(await a.markSeen(6), false);
    a.close();
  }));
