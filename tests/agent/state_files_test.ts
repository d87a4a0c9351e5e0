import assert from "node:assert/strict";
import { join } from "node:path";
import { Code } from "../../src/model/mod.ts";
import { withTmpfs } from "../_helpers/tmpfs.ts";
import { brokerAgent } from "./_broker_agent.ts";

const hello = { service: "hello", command: "exec" };
const now = Date.now();
/** Three finished tasks and, last, one accepted but unfinished (what a crash in a run leaves). */
const SEEN_COMPLETE = `${now}\t1\tdone\n${now}\t"two"\tdone\n${now}\t3\tdone\n`;
const SEEN_LAST = `${now}\t4\tseen\t{"service":"hello","command":"exec"}\n`;

/** Waits until `n` results with a code arrived and returns those of `ids`, by id. */
async function codes(t: Awaited<ReturnType<typeof brokerAgent>>, ids: unknown[]) {
  const out: Record<string, unknown> = {};
  for (const id of ids) out[String(id)] = (await t.result(id)).code;
  return out;
}

Deno.test("scripts/agent starts with every state file torn, names each, and keeps every complete record", async () => {
  const auditLine = JSON.stringify({ time: new Date(now).toISOString(), task_id: 1, code: 0 });
  const t = await brokerAgent({
    prepare: async (state) => {
      await Deno.writeTextFile(
        join(state, "seen-task-ids.log"),
        SEEN_COMPLETE + SEEN_LAST.slice(0, 20),
      );
      await Deno.writeTextFile(
        join(state, "audit.jsonl"),
        `${auditLine}\n${auditLine.slice(0, 30)}`,
      );
      await Deno.writeTextFile(join(state, "executor-state.json"), '{"version":1,"history":{"a');
      await Deno.writeTextFile(join(state, "maintenance.json"), '{"since":1,"un');
      await Deno.writeTextFile(join(state, "collectd-config-replace.json"), '{"task_id":9,"ti');
      await Deno.mkdir(join(state, "mqtt-spool"));
      await Deno.writeTextFile(join(state, "mqtt-spool", "000000000000001-000000000.json"), '{"to');
    },
  });
  try {
    const s = t.stateDir;
    for (
      const re of [
        `state file ${s}/seen-task-ids.log: set aside 20 unreadable byte\\(s\\) in 1 line\\(s\\) from byte offset ${
          new TextEncoder().encode(SEEN_COMPLETE).length
        } \\(a torn last line`,
        `state file ${s}/audit.jsonl: set aside 30 unreadable byte`,
        `${s}/executor-state.json is unreadable \\(not JSON`,
        `${s}/maintenance.json is unreadable \\(not JSON`,
        `unreadable spool entry set aside.*${s}/mqtt-spool/000000000000001-000000000.json`,
        `${s}/collectd-config-replace.json is not a valid replacement journal`,
      ]
    ) await t.agent.waitFor(new RegExp(`ERROR .*${re}`), 10_000);
    assert.ok(!t.agent.lines.some((l) => /FATAL/.test(l)));

    // Kept: 1, "two", 3 are still duplicates (3 also as "3": one canonical form). The torn
    // 4 was never acknowledged (the broker redelivers it), so it runs now, once.
    for (const id of [1, "two", "3", 4]) await t.send({ task_id: id, ...hello });
    assert.deepEqual(await codes(t, [1, "two", "3", 4]), {
      1: Code.DUPLICATE_TASK,
      two: Code.DUPLICATE_TASK,
      3: Code.DUPLICATE_TASK,
      4: 0,
    });
    const audit = await t.audit(); // every line parses: the new ones did not glue onto the torn one
    assert.equal(JSON.stringify(audit[0]), auditLine);
    assert.equal(audit.filter((l) => l.task_id === 4 && l.code === 0).length, 1);
    assert.deepEqual(t.results.messages.filter((m) => m.code === Code.INTERRUPTED), []);
  } finally {
    await t.stop();
  }
});

Deno.test("scripts/agent restarts cleanly whatever byte the last seen-task-id and audit records were cut at", async () => {
  const t = await brokerAgent();
  try {
    const seen = join(t.stateDir, "seen-task-ids.log");
    const auditFile = join(t.stateDir, "audit.jsonl");
    let next = 100;
    await t.send({ task_id: "first", ...hello }); // an audit line to cut
    assert.equal((await t.result("first")).code, 0);
    // Cut right after the first byte, in the middle, and before only the newline; then noise.
    const noise = crypto.getRandomValues(new Uint8Array(512));
    for (const cut of [1, 30, SEEN_LAST.length - 1, -1]) {
      let auditBefore = "";
      await t.restart(async () => {
        auditBefore = await Deno.readTextFile(auditFile).catch(() => "");
        const lastAudit = auditBefore.trimEnd().split("\n").at(-1)!;
        if (cut < 0) {
          await Deno.writeFile(seen, noise);
          await Deno.writeFile(auditFile, noise);
          auditBefore = "";
        } else {
          await Deno.writeTextFile(seen, SEEN_COMPLETE + SEEN_LAST.slice(0, cut));
          await Deno.writeTextFile(auditFile, auditBefore + lastAudit.slice(0, cut));
        }
      });
      await t.agent.waitFor(new RegExp(`ERROR .*state file ${seen}: set aside`), 10_000);
      await t.agent.waitFor(new RegExp(`ERROR .*state file ${auditFile}: set aside`), 10_000);
      const id = next++;
      await t.send({ task_id: id, ...hello });
      assert.equal((await t.result(id)).code, 0, `cut ${cut}: running`);
      if (cut >= 0) {
        await t.send({ task_id: "two", ...hello });
        await t.agent.waitFor(/Received duplicate task_id: two/);
        assert.equal((await Deno.readTextFile(auditFile)).startsWith(auditBefore), true, "kept");
      }
      const audit = await t.audit();
      assert.ok(audit.some((l) => l.task_id === id), `cut ${cut}: audited on a line of its own`);
    }
    assert.deepEqual(t.results.messages.filter((m) => m.code === Code.INTERRUPTED), []);
  } finally {
    await t.stop();
  }
});

Deno.test("scripts/agent with StateDir on a full disk answers 0x1018 and runs the same task ids once space is back", () =>
  withTmpfs(512 * 1024, async (fs) => {
    const t = await brokerAgent({ stateDir: join(fs.dir, "state") });
    try {
      await fs.fill();
      const ids = ["full-1", "full-2", "full-3"];
      for (const id of ids) await t.send({ task_id: id, ...hello });
      for (const id of ids) {
        const r = await t.result(id);
        assert.equal(r.code, Code.STATE_WRITE_FAILED, JSON.stringify(r));
        assert.match(
          String(r.message),
          /not run: cannot record the task id in .*seen-task-ids\.log: .*(No space left|os error 28).*send it again/,
        );
      }
      await t.agent.waitFor(/ERROR .*command refused: not run/);
      // A full StateDir does not stop a start either.
      await t.restart();
      await t.send({ task_id: "full-4", ...hello });
      assert.equal((await t.result("full-4")).code, Code.STATE_WRITE_FAILED);
      await fs.free();
      t.results.messages.length = 0;
      for (const id of ids) {
        await t.send({ task_id: id, ...hello }); // one by one: a service runs one command at once
        const r = await t.result(id);
        assert.equal(r.code, 0, JSON.stringify(r));
        assert.match(String(r.message), /Hello World!/);
      }
      const audit = await t.audit();
      for (const id of ids) {
        assert.equal(audit.filter((l) => l.task_id === id && l.code === 0).length, 1);
      }
      await t.restart();
      assert.deepEqual(t.results.messages.filter((m) => m.code === Code.INTERRUPTED), []);
    } finally {
      await t.stop();
    }
  }));
