import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../../src/config/mod.ts";
import { startMaintenance } from "../../src/executor/mod.ts";
import { StatusReportSchema, stoppedReport } from "../../src/status/mod.ts";

Deno.test("stoppedReport() shows the audit's last runs and maintenance, and changes no state file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "config.json");
    await Deno.writeTextFile(file, '{"StateDir": "state"}');
    const { config } = parseConfig(await Deno.readTextFile(file), file);
    await Deno.mkdir(config.StateDir);
    const audit = join(config.StateDir, "audit.jsonl");
    const line = {
      time: "2026-11-23T11:57:01.000Z",
      task_id: 7,
      trigger: "cli",
      trigger_name: "cli",
      service: "web",
      command: "restart",
      argv: ["/bin/false"],
      code: 1,
      duration_ms: 3,
      output_bytes: 5,
      truncated: false,
      timed_out: false,
      message: "failed\nmore",
    };
    const text = JSON.stringify(line) + "\n" + '{"time":"2026-11-23T1'; // torn last line
    await Deno.writeTextFile(audit, text);
    const now = Date.UTC(2026, 10, 23, 12);
    startMaintenance(config.StateDir, 3_600_000, { reason: "disk swap", by: "cli", now });
    const r = await stoppedReport(config, "no status socket", { now });
    assert.ok(StatusReportSchema.safeParse(r).success);
    assert.deepEqual(r.recovery.last_runs.map((x) => [x.task_id, x.code, x.message]), [
      [7, 1, "failed"],
    ]);
    assert.deepEqual(r.maintenance, {
      on: true,
      since: "2026-11-23T12:00:00.000Z",
      until: "2026-11-23T13:00:00.000Z",
      reason: "disk swap",
      by: "cli",
    });
    assert.equal(r.config.file, file);
    assert.match(r.config.sha256!, /^[0-9a-f]{64}$/);
    assert.match(r.notes.join("\n"), /1 unreadable line\(s\) skipped \(the last one torn/);
    assert.equal(await Deno.readTextFile(audit), text, "audit.jsonl untouched");
    assert.deepEqual(
      [...Deno.readDirSync(config.StateDir)].map((e) => e.name).sort(),
      ["audit.jsonl", "maintenance.json"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stoppedReport() of a StateDir that does not exist says so without failing", async () => {
  const { config } = parseConfig('{"StateDir": "/nonexistent/edge-agent-state"}', "/x/c.json");
  const r = await stoppedReport(config, "no status socket");
  assert.deepEqual(r.recovery.last_runs, []);
  assert.deepEqual(r.maintenance, { on: false });
  assert.equal(r.config.sha256, null, "no file /x/c.json");
});
