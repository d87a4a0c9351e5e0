import assert from "node:assert/strict";
import { join } from "node:path";
import { createCounters } from "../../src/model/mod.ts";
import { openSpool } from "../../src/mqtt/mod.ts";
import { captureLogger } from "./_helpers.ts";

const msg = (n: number) => ({
  topic: "r",
  payload: `{"task_id":${n}}`,
  qos: 1 as const,
  retain: false,
});

Deno.test("openSpool() gives back, in order, what an earlier process left unacknowledged", async () => {
  const dir = await Deno.makeTempDir();
  const { logger } = captureLogger();
  try {
    const first = await openSpool(dir, { maxEntries: 10, logger });
    const a = await first.add(msg(1));
    await first.add(msg(2));
    await first.add(msg(3));
    await first.remove(a.id);
    await Deno.writeTextFile(join(dir, "junk.tmp"), "half-written");
    const second = await openSpool(dir, { maxEntries: 10, logger });
    assert.deepEqual(second.pending().map((e) => e.payload), ['{"task_id":2}', '{"task_id":3}']);
    await second.add(msg(4));
    const third = await openSpool(dir, { maxEntries: 10, logger });
    assert.deepEqual(third.pending().map((e) => e.payload), [
      '{"task_id":2}',
      '{"task_id":3}',
      '{"task_id":4}',
    ]);
    assert.ok(!Deno.readDirSync(dir).some((e) => e.name.endsWith(".tmp")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a full spool drops its oldest entry, logs an error and counts it", async () => {
  const dir = await Deno.makeTempDir();
  const { logger, events } = captureLogger();
  const counters = createCounters();
  try {
    const spool = await openSpool(dir, { maxEntries: 2, logger, counters });
    for (const n of [1, 2, 3]) await spool.add(msg(n));
    assert.deepEqual(spool.pending().map((e) => e.payload), ['{"task_id":2}', '{"task_id":3}']);
    assert.equal(Deno.readDirSync(dir).toArray().length, 2);
    assert.ok(events.some((e) => e.level === "error" && /spool full/.test(e.msg)));
    const dropped = counters.snapshot().find((s) =>
      s.name === "edge_agent_mqtt_spool_dropped_total"
    );
    assert.equal(dropped?.value, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unreadable spool file is logged and removed instead of stopping the agent", async () => {
  const dir = await Deno.makeTempDir();
  const { logger, events } = captureLogger();
  try {
    await Deno.writeTextFile(join(dir, "000-1.json"), "{not json");
    const spool = await openSpool(dir, { maxEntries: 2, logger });
    assert.equal(spool.size, 0);
    assert.ok(events.some((e) => /unreadable spool entry/.test(e.msg)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
