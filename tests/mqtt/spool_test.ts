import assert from "node:assert/strict";
import { join } from "node:path";
import { createCounters } from "../../src/model/mod.ts";
import { openSpool } from "../../src/mqtt/mod.ts";
import { captureLogger } from "../_helpers/mqtt.ts";

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

Deno.test("a spool file of the wrong shape or cut short is set aside, named, and never published", async () => {
  const dir = await Deno.makeTempDir();
  const { logger, events } = captureLogger();
  try {
    const good = JSON.stringify({ topic: "result/a", payload: "{}", qos: 1, retain: false });
    const bad = [
      "{not json",
      "[1,2]",
      '{"topic":1}',
      JSON.stringify({ topic: "result/#", payload: "{}", qos: 1, retain: false }),
      JSON.stringify({ topic: "result/a", payload: "{}", qos: 3, retain: false }),
      JSON.stringify({ topic: "result/a", payload: "{}", qos: 1, retain: false, extra: 1 }),
      ...Array.from({ length: good.length - 1 }, (_, cut) => good.slice(0, cut)),
    ];
    for (const [i, text] of bad.entries()) {
      await Deno.writeTextFile(join(dir, `000-${String(i).padStart(3, "0")}.json`), text);
    }
    await Deno.writeTextFile(join(dir, "999-000.json"), good);
    const spool = await openSpool(dir, { maxEntries: 200, logger });
    assert.deepEqual(spool.pending().map((e) => e.id), ["999-000.json"]);
    const errors = events.filter((e) => /unreadable spool entry set aside/.test(e.msg));
    assert.equal(errors.length, bad.length);
    assert.equal(errors[1]!.fields?.file, join(dir, "000-001.json"));
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.equal(names.filter((n) => /\.json\.corrupt-/.test(n)).length, bad.length, "kept aside");
    // A second start does not see them again.
    const again = await openSpool(dir, { maxEntries: 200, logger });
    assert.equal(again.size, 1);
    assert.equal(events.filter((e) => /unreadable spool entry/.test(e.msg)).length, bad.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a spool that cannot write keeps results in memory, logs once, counts each and recovers", async () => {
  const parent = await Deno.makeTempDir();
  const dir = join(parent, "spool");
  const { logger, events } = captureLogger();
  const counters = createCounters();
  const errors = () =>
    counters.snapshot().find((s) => s.name === "edge_agent_mqtt_spool_write_errors_total")?.value;
  try {
    const spool = await openSpool(dir, { maxEntries: 10, logger, counters });
    // The disk fails: the folder is gone and a file stands in its place.
    await Deno.remove(dir, { recursive: true });
    await Deno.writeTextFile(dir, "not a folder");
    const a = await spool.add(msg(1));
    await spool.add(msg(2));
    assert.deepEqual(spool.pending().map((e) => e.payload), ['{"task_id":1}', '{"task_id":2}']);
    assert.equal(errors(), 2);
    const failures = events.filter((e) => /cannot write the MQTT spool/.test(e.msg));
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.level, "error");
    assert.match(String(failures[0]!.fields?.error), /directory|Not a directory/i);
    await spool.remove(a.id);
    assert.equal(spool.size, 1);
    // The disk is back: the next result is on disk again, and the log says so.
    await Deno.remove(dir);
    await Deno.mkdir(dir);
    await spool.add(msg(3));
    assert.ok(events.some((e) => /spool is writable again/.test(e.msg)));
    const reopened = await openSpool(dir, { maxEntries: 10, logger });
    assert.deepEqual(reopened.pending().map((e) => e.payload), ['{"task_id":3}']);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
