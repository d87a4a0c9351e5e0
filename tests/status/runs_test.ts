import assert from "node:assert/strict";
import { join } from "node:path";
import { auditLine } from "../../src/reporters/mod.ts";
import type { RunRecord } from "../../src/model/mod.ts";
import { createRunLog, readLastRuns } from "../../src/status/_runs.ts";
import { reporterContract, sampleRecords } from "../reporters/contract.ts";

const T0 = Date.UTC(2026, 10, 23, 12);

function record(i: number, code = 0, message = `run ${i}`): RunRecord {
  return {
    result: { task_id: i, timestamp: "", message, code },
    trigger: { kind: "rule", handler: "r.ts::metric::h" },
    service: "web",
    command: "restart",
    argv: ["/bin/true"],
    durationMs: 5,
    outputBytes: 0,
    truncated: false,
    timedOut: false,
  };
}

/** audit.jsonl lines of runs `from` … `to` (one a minute from T0). */
function auditText(from: number, to: number): string {
  let text = "";
  for (let i = from; i <= to; i++) {
    text += JSON.stringify(auditLine(record(i), T0 + i * 60_000)) + "\n";
  }
  return text;
}

reporterContract("createRunLog().reporter", {
  make: () => Promise.resolve({ reporter: createRunLog().reporter }),
  makeBroken: () => Promise.resolve({ reporter: createRunLog().reporter }),
});

Deno.test("readLastRuns() gives the last 10 runs of audit.jsonl, oldest first, reaching into audit.jsonl.1 after a rotation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "audit.jsonl.1"), auditText(1, 20));
    await Deno.writeTextFile(join(dir, "audit.jsonl"), auditText(21, 24));
    const { runs, notes } = await readLastRuns(dir);
    assert.deepEqual(runs.map((r) => r.task_id), [15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    assert.deepEqual(notes, []);
    assert.deepEqual(runs[9], {
      time: new Date(T0 + 24 * 60_000).toISOString(),
      task_id: 24,
      trigger: "rule",
      trigger_name: "r.ts::metric::h",
      service: "web",
      command: "restart",
      code: 0,
      duration_ms: 5,
      message: "run 24",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readLastRuns() skips a torn last line and garbage, says so, and leaves the file as it was", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = auditText(1, 3) + "garbage\n" + '{"not":"a run"}\n' + auditText(4, 4) + '{"time":';
    await Deno.writeTextFile(join(dir, "audit.jsonl"), text);
    const { runs, notes } = await readLastRuns(dir);
    assert.deepEqual(runs.map((r) => r.task_id), [1, 2, 3, 4]);
    assert.equal(notes.length, 2, notes.join("\n"));
    assert.match(notes[0]!, /2 unreadable line\(s\) skipped \(the last one torn/);
    assert.match(notes[1]!, /1 line\(s\) that are not audit records skipped/);
    assert.equal(await Deno.readTextFile(join(dir, "audit.jsonl")), text);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["audit.jsonl"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the run log keeps the newest 10 runs and puts the audit's earlier ones (read once) before them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "audit.jsonl"), auditText(1, 8));
    let now = T0 + 100 * 60_000; // the agent starts after run 8
    const log = createRunLog({ now: () => now });
    for (const i of [101, 102, 103]) {
      now += 1000;
      await log.reporter.report(record(i, i === 102 ? 0x1011 : 0, "busy: a\nsecond line"));
      // the audit reporter writes this process's runs too: they must not count twice
      await Deno.writeTextFile(
        join(dir, "audit.jsonl"),
        JSON.stringify(auditLine(record(i), now)) + "\n",
        {
          append: true,
        },
      );
    }
    const first = await log.recent(dir);
    assert.deepEqual(first.runs.map((r) => r.task_id), [2, 3, 4, 5, 6, 7, 8, 101, 102, 103]);
    assert.equal(first.runs[8]!.code, 0x1011);
    assert.equal(first.runs[8]!.message, "busy: a", "the message's first line");
    await Deno.remove(join(dir, "audit.jsonl"));
    for (let i = 104; i <= 115; i++) await log.reporter.report(record(i));
    const later = await log.recent(dir);
    assert.deepEqual(later.runs.map((r) => r.task_id), [
      106,
      107,
      108,
      109,
      110,
      111,
      112,
      113,
      114,
      115,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the run log takes every trigger kind the contract's sample records hold", async () => {
  const log = createRunLog();
  for (const r of sampleRecords()) await log.reporter.report(r);
  const dir = await Deno.makeTempDir();
  const { runs } = await log.recent(dir);
  await Deno.remove(dir);
  assert.equal(runs.length, sampleRecords().length);
  assert.deepEqual(new Set(runs.map((r) => r.trigger)), new Set(["rule", "remote", "cli"]));
});
