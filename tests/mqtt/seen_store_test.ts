import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { openSeenStore, type SeenStoreOptions } from "../../src/mqtt/mod.ts";
import { withTmpfs } from "../_helpers/tmpfs.ts";
import { captureLogger } from "../_helpers/mqtt.ts";

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

Deno.test('openSeenStore() remembers task ids across reopening; 154 and "154" are one task', () =>
  withSeenFile(async (_path, open) => {
    const a = await open();
    assert.equal(await a.markSeen(3126260400), true);
    assert.equal(await a.markSeen(3126260400), false);
    assert.equal(await a.markSeen("3126260400"), false, "the same id as a string");
    assert.equal(await a.markSeen("0154"), true, "compared as text: not 154");
    a.close();
    const b = await open();
    assert.equal(b.has(3126260400), true);
    assert.equal(b.has("3126260400"), true);
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

/** Opens `path` with a capturing logger; returns the store and the error lines. */
async function openLogged(path: string) {
  const { logger, events } = captureLogger();
  const store = await openSeenStore(path, { retentionMs: 60_000, maxEntries: 100, logger });
  return { store, errors: events.filter((e) => e.level === "error") };
}

Deno.test("openSeenStore() keeps every complete record whatever byte its last line was cut at", () =>
  withSeenFile(async (path) => {
    const at = Date.now();
    const complete = `${at}\t5\tseen\t{"service":"web","command":"restart"}\n${at}\t"six"\n`;
    const last = `${at}\t154\tseen\t{"service":"db","command":"check"}\n`;
    for (let cut = 0; cut < last.length; cut++) {
      await Deno.writeTextFile(path, complete + last.slice(0, cut));
      const { store, errors } = await openLogged(path);
      assert.deepEqual(store.unfinished(), [
        { task_id: 5, service: "web", command: "restart" },
        { task_id: "six" },
      ], `cut at ${cut}`);
      assert.equal(store.has(15), false, `cut at ${cut}: a cut 154 is not task 15`);
      assert.equal(store.has(154), false, "never acknowledged: the broker redelivers it");
      store.close();
      assert.equal(errors.length, cut === 0 ? 0 : 1, `cut at ${cut}`);
      if (cut > 0) {
        assert.match(errors[0]!.msg, new RegExp(`${path}: set aside ${cut} unreadable byte`));
        assert.equal(errors[0]!.fields?.offset, new TextEncoder().encode(complete).length);
      }
      for (const e of Deno.readDirSync(dirname(path))) {
        if (e.name.includes(".corrupt-")) await Deno.remove(join(dirname(path), e.name));
      }
    }
  }));

Deno.test("openSeenStore() sets aside a line of the wrong shape and a file of random bytes, naming the file", () =>
  withSeenFile(async (path) => {
    const at = Date.now();
    await Deno.writeTextFile(
      path,
      `${at}\t5\tseen\t{"service":1}\n${at}\t{"x":1}\n${at}\t7\tdone\n${at}\t8\n`,
    );
    const a = await openLogged(path);
    assert.deepEqual(a.store.unfinished(), [{ task_id: 8 }]);
    assert.equal(a.store.has(7), true);
    a.store.close();
    assert.match(
      a.errors[0]!.msg,
      /set aside \d+ unreadable byte\(s\) in 2 line\(s\) from byte offset 0/,
    );

    const noise = new Uint8Array(2000);
    crypto.getRandomValues(noise);
    await Deno.writeFile(path, noise);
    const b = await openLogged(path);
    assert.equal(b.store.size, 0);
    assert.equal(await b.store.markSeen(9), true, "the store works on");
    b.store.close();
    assert.equal(b.errors.length, 1);
    assert.equal(b.errors[0]!.fields?.file, path);
    const saved = b.errors[0]!.fields?.saved_as as string;
    assert.deepEqual(await Deno.readFile(saved), noise, "the original bytes are kept");
  }));

Deno.test("openSeenStore() on a full disk: markSeen throws and keeps nothing, markDone is written later", () =>
  withTmpfs(64 * 1024, async (fs) => {
    const path = join(fs.dir, "seen.log");
    const { logger, events } = captureLogger();
    const open = () => openSeenStore(path, { retentionMs: 60_000, maxEntries: 10_000, logger });
    const a = await open();
    assert.equal(await a.markSeen(1, { service: "web", command: "restart" }), true);
    await fs.fill();
    // tmpfs gives space by the page: the file's last page still takes a few short lines.
    let failure: Error | undefined;
    for (let i = 0; i < 500 && !failure; i++) {
      await a.markSeen(`k${i}`).catch((e) => failure = e);
    }
    assert.match(
      String(failure),
      new RegExp(`cannot record the task id in ${path}: .*(No space left|os error 28)`),
    );
    await assert.rejects(a.markSeen(2, { service: "web", command: "restart" }));
    assert.equal(a.has(2), false, "not accepted: may be sent again");
    await a.markDone(1); // cannot be written now: kept for the next line
    assert.equal(events.filter((e) => e.level === "error").length, 1);
    await fs.free();
    assert.equal(await a.markSeen(2), true, "the same id once there is space");
    a.close();
    const b = await open();
    assert.deepEqual(
      b.unfinished().filter((u) => typeof u.task_id === "number"),
      [{ task_id: 2 }],
      "1 is done: no false 0x1009 after the restart",
    );
    b.close();
  }));

Deno.test("SeenStore.flush() writes the done lines a full disk held back, so a clean stop leaves no false 0x1009", () =>
  withTmpfs(64 * 1024, async (fs) => {
    const path = join(fs.dir, "seen.log");
    const open = () => openSeenStore(path, { retentionMs: 60_000, maxEntries: 10_000 });
    const a = await open();
    await a.markSeen(1, { service: "web", command: "restart" });
    await fs.fill();
    for (let i = 0; i < 500; i++) {
      if (!(await a.markSeen(`k${i}`).then(() => true, () => false))) break;
    }
    await a.markDone(1); // held back
    await fs.free();
    await a.flush();
    a.close();
    const b = await open();
    assert.equal(b.unfinished().some((u) => u.task_id === 1), false);
    b.close();
  }));
