import assert from "node:assert/strict";
import { join } from "node:path";
import { openSeenStore } from "../../src/mqtt/mod.ts";

Deno.test("openSeenStore() remembers task ids across reopening and tells numbers from strings", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "seen.log");
  try {
    const a = await openSeenStore(path, { retentionMs: 60_000, maxEntries: 100 });
    assert.equal(await a.markSeen(3126260400), true);
    assert.equal(await a.markSeen(3126260400), false);
    assert.equal(await a.markSeen("3126260400"), true);
    a.close();
    const b = await openSeenStore(path, { retentionMs: 60_000, maxEntries: 100 });
    assert.equal(b.has(3126260400), true);
    assert.equal(await b.markSeen("3126260400"), false);
    assert.equal(b.size, 2);
    b.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSeenStore() forgets task ids older than the retention and compacts its file", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "seen.log");
  let now = 1_000_000;
  try {
    const a = await openSeenStore(path, { retentionMs: 10_000, maxEntries: 100, now: () => now });
    for (let i = 0; i < 50; i++) await a.markSeen(i);
    now += 20_000;
    await a.markSeen("fresh");
    a.close();
    const b = await openSeenStore(path, { retentionMs: 10_000, maxEntries: 100, now: () => now });
    assert.equal(b.size, 1);
    assert.equal(b.has(0), false);
    assert.equal(await b.markSeen(0), true, "an expired id may run again");
    b.close();
    assert.equal((await Deno.readTextFile(path)).trim().split("\n").length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSeenStore() lists the ids accepted by an earlier process whose result was never handed on", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "seen.log");
  try {
    const a = await openSeenStore(path, { retentionMs: 60_000, maxEntries: 100 });
    await a.markSeen(1);
    await a.markSeen("two");
    await a.markDone(1);
    assert.deepEqual(a.unfinished(), [], "only earlier processes' ids");
    a.close();
    const b = await openSeenStore(path, { retentionMs: 60_000, maxEntries: 100 });
    assert.deepEqual(b.unfinished(), ["two"]);
    await b.markDone("two");
    b.close();
    const c = await openSeenStore(path, { retentionMs: 60_000, maxEntries: 100 });
    assert.deepEqual(c.unfinished(), []);
    assert.equal(await c.markSeen("two"), false, "still a duplicate");
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
