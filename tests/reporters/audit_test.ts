import assert from "node:assert/strict";
import { join } from "node:path";
import { AUDIT_FILE, createAuditReporter } from "../../src/reporters/mod.ts";
import { createLogger, type LogEvent } from "../../src/log/mod.ts";
import { reporterContract, sampleRecords } from "./contract.ts";

const lines = (path: string) =>
  Deno.readTextFile(path).then((t) => t.split("\n").filter((l) => l !== ""), () => [] as string[]);

reporterContract("createAuditReporter()", {
  make() {
    const dir = Deno.makeTempDirSync();
    return Promise.resolve({
      reporter: createAuditReporter(dir),
      delivered: async () => (await lines(join(dir, AUDIT_FILE))).length,
      cleanup: () => Deno.remove(dir, { recursive: true }),
    });
  },
  makeBroken() {
    const dir = Deno.makeTempDirSync();
    const notADir = join(dir, "file");
    Deno.writeTextFileSync(notADir, "");
    return Promise.resolve({
      reporter: createAuditReporter(notADir, { logger: createLogger({ sink: () => {} }) }),
      cleanup: () => Deno.remove(dir, { recursive: true }),
    });
  },
});

Deno.test("the audit file holds one JSON line per record with trigger, argv, code, duration and size", async () => {
  const dir = await Deno.makeTempDir();
  const reporter = createAuditReporter(dir, { now: () => Date.UTC(2026, 10, 23, 12, 0, 1) });
  for (const r of sampleRecords()) await reporter.report(r);
  await reporter.close?.();
  const got = (await lines(join(dir, AUDIT_FILE))).map((l) => JSON.parse(l));
  assert.equal(got.length, 4);
  assert.deepEqual(got[1], {
    time: "2026-11-23T12:00:01.000Z",
    task_id: "a-7",
    trigger: "remote",
    trigger_name: "remote:a-7@ops",
    sender: "ops",
    service: "nginx",
    command: "restart",
    argv: ["/bin/systemctl", "restart", "nginx"],
    code: 1,
    duration_ms: 12.5,
    output_bytes: 11,
    truncated: false,
    timed_out: false,
    message: "Job failed\n",
  });
  assert.equal(got[0].trigger_name, "nginx.ts::metric::down");
  assert.equal(got[3].truncated, true);
  assert.equal((await Deno.stat(join(dir, AUDIT_FILE))).mode! & 0o777, 0o600);
});

Deno.test("an audit line keeps the result's message (the command's output) up to 4 KiB", async () => {
  const dir = await Deno.makeTempDir();
  const reporter = createAuditReporter(dir);
  const records = sampleRecords();
  for (const r of records) await reporter.report(r);
  await reporter.close?.();
  const got = (await lines(join(dir, AUDIT_FILE))).map((l) => JSON.parse(l));
  assert.equal(got[0].message, "", "no output: an empty message");
  assert.equal(got[2].message, 'no such service: "x"', "a refusal's reason");
  const long: string = got[3].message;
  const kept = long.split("\n[edge-agent: ")[0]!;
  assert.ok(new TextEncoder().encode(kept).length <= 4096, "at most 4 KiB of output");
  assert.ok(records[3]!.result.message.startsWith(kept), "cut on a character boundary");
  assert.match(long, /\n\[edge-agent: \d+ more bytes of the message not audited\]$/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the audit file is rotated by size and keeps the configured number of old files", async () => {
  const dir = await Deno.makeTempDir();
  const reporter = createAuditReporter(dir, { maxBytes: 1000, keep: 2 });
  const [r] = sampleRecords();
  for (let i = 0; i < 30; i++) {
    await reporter.report({ ...r!, result: { ...r!.result, task_id: i } });
  }
  await reporter.close?.();
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(names, [AUDIT_FILE, `${AUDIT_FILE}.1`, `${AUDIT_FILE}.2`]);
  for (const n of names) assert.ok(Deno.statSync(join(dir, n)).size <= 1000, n);
  const current = (await lines(join(dir, AUDIT_FILE))).map((l) => JSON.parse(l).task_id);
  assert.equal(current.at(-1), 29, "the newest line is in the current file");
  const older = (await lines(join(dir, `${AUDIT_FILE}.1`))).map((l) => JSON.parse(l).task_id);
  assert.equal(older.at(-1), current[0] - 1, "no line lost between .1 and the current file");
});

Deno.test("a failing audit write is logged and does not throw", async () => {
  const events: LogEvent[] = [];
  const reporter = createAuditReporter("/proc/edge-agent-no-such-dir", {
    logger: createLogger({ sink: (e) => events.push(e) }),
  });
  await reporter.report(sampleRecords()[0]!);
  assert.equal(events.length, 1);
  assert.match(events[0]!.msg, /cannot write the audit file/);
});

Deno.test("a torn last audit line is set aside at start and the next record gets a line of its own", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, AUDIT_FILE);
    const [first, second] = sampleRecords();
    const old = createAuditReporter(dir);
    await old.report(first!);
    await old.close?.();
    const complete = await Deno.readTextFile(path);
    for (const cut of [1, 20, complete.length - 2, complete.length - 1]) {
      // a power loss in the middle of appending the second record
      await Deno.writeTextFile(path, complete + complete.slice(0, cut));
      const events: LogEvent[] = [];
      const reporter = createAuditReporter(dir, {
        logger: createLogger({ level: "debug", sink: (e) => events.push(e) }),
      });
      await reporter.report(second!);
      await reporter.close?.();
      const got = (await lines(path)).map((l) => JSON.parse(l)); // each line parses
      assert.deepEqual(got.map((l) => l.task_id), [first!.result.task_id, second!.result.task_id]);
      const error = events.find((e) => e.level === "error");
      assert.match(error?.msg ?? "", new RegExp(`${path}: set aside ${cut} unreadable byte`));
      assert.equal(error?.fields?.offset, new TextEncoder().encode(complete).length);
      await Deno.writeTextFile(path, complete);
    }
    const saved = [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".corrupt-"));
    assert.ok(saved.length >= 1, "the torn originals are kept");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
