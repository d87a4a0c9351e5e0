// deno-lint-ignore-file no-control-regex -- the tests look for ANSI escape codes
import assert from "node:assert/strict";
import { formatStatus, span } from "../../src/status/mod.ts";
import { runningReport, stoppedReport } from "./_reports.ts";

const ESC = /\x1b\[/;

Deno.test("formatStatus() plain: no escape codes, no padding, one `label: value` per line", () => {
  const text = formatStatus(runningReport());
  assert.doesNotMatch(text, ESC);
  const lines = text.split("\n");
  assert.equal(
    lines[0],
    "edge-agent 0.1.0: running since 2026-11-23T10:00:00Z (2 h ago), pid 4242",
  );
  assert.ok(lines.includes("  config: /etc/edge-agent/config.json  sha256 8bad1e3f04beb7a6"));
  assert.ok(lines.includes("  mode: MQTT"));
  assert.ok(lines.includes("  packets/s: 2 (last 60 s; 14400 since the start)"));
  assert.ok(lines.includes("  last packet: 0.4 s ago"));
  assert.ok(
    lines.includes(
      "  maintenance: ON until 2026-11-23T13:30:00Z (in 1 h 30 min), reason: kernel upgrade, by cli",
    ),
  );
  // a table: its label, then one row per line with the cells two spaces apart, no header
  const runs = lines.indexOf("  last runs:");
  assert.deepEqual(lines.slice(runs + 1, runs + 3), [
    "    2026-11-23T11:57:01Z  rule nginx.ts::metric::down  nginx/restart  code 0  813 ms",
    "    2026-11-23T11:58:00Z  remote:4201@ops  nginx/reload  code 0x1011 (4113)  0 ms  " +
    'busy: service "nginx" is already running a command',
  ]);
  assert.ok(
    lines.includes(
      "    2026-11-23T11:57:00Z (3 min ago)  nginx.ts::metric::down  web1/processes-nginx/ps_count",
    ),
  );
  assert.ok(lines.includes(
    "    nginx/restart  cooldown  2026-11-23T12:02:01Z (in 2 min)  " +
      "nginx.ts::metric::down  web2/processes-nginx/ps_count",
  ));
  assert.ok(lines.includes("  escalations: none"));
  assert.ok(
    lines.includes(
      "  connected: to mqtt-a.example:8883 since 2026-11-23T10:00:02Z (1 h 59 min ago)",
    ),
  );
});

Deno.test("formatStatus() shows a disabled handler with what it did and how to re-enable it", () => {
  const lines = formatStatus(runningReport()).split("\n");
  const at = lines.findIndex((l) => l.startsWith("  disabled: "));
  assert.equal(
    lines[at],
    "  disabled: spin.ts::metric::spin (handler): ran past the 50 ms budget (stopped after " +
      "51 ms) (offence 3 of 3)",
  );
  assert.match(lines[at + 1]!, /^ {4} {2}→ fix \/etc\/edge-agent\/rules\/spin\.ts and save it/);
  assert.match(lines[at + 1]!, /systemctl reload edge-agent/);
});

Deno.test("formatStatus() on a terminal: coloured, labels and table columns aligned, a header row", () => {
  const text = formatStatus(runningReport(), { tty: true });
  assert.match(text, ESC);
  assert.match(text, /\x1b\[32medge-agent 0\.1\.0: running since 2026-11-23 10:00:00Z/);
  assert.match(text, /\x1b\[33mON until 2026-11-23 13:30:00Z/, "maintenance in yellow");
  const plain = text.replace(/\x1b\[[0-9;]*m/g, "");
  const lines = plain.split("\n");
  // every field's value starts in the same column (the longest label, "host restarts")
  const column = "  host restarts  ".length;
  for (const label of ["config", "mode", "maintenance", "packets/s", "last packet", "loaded"]) {
    const line = lines.find((l) => l.startsWith(`  ${label} `))!;
    assert.ok(line, label);
    assert.notEqual(line[column], " ", `${label}: ${line}`);
    assert.equal(line.slice(2 + label.length, column).trim(), "", `${label}: ${line}`);
  }
  const head = lines.findIndex((l) => l.startsWith("    TIME"));
  assert.ok(head > 0, "a header row over the runs");
  const row = lines[head + 1]!;
  assert.equal(row.indexOf("rule nginx"), lines[head]!.indexOf("TRIGGER"), "columns line up");
  assert.equal(row.indexOf("nginx/restart"), lines[head]!.indexOf("SERVICE/COMMAND"));
  assert.ok(!lines.some((l) => l.endsWith(" ")), "no trailing blanks");
});

Deno.test("formatStatus() on a terminal without colour (NO_COLOR) keeps the alignment, drops the escapes", () => {
  const text = formatStatus(runningReport(), { tty: true, color: false });
  assert.doesNotMatch(text, ESC);
  assert.match(text, /^ {2}mode {11}MQTT$/m);
});

Deno.test("formatStatus() for a stopped agent says NOT RUNNING and shows what the state files hold", () => {
  const text = formatStatus(stoppedReport());
  assert.match(
    text,
    /^edge-agent: NOT RUNNING \(no status socket \/var\/lib\/edge-agent\/status\.sock\)$/m,
  );
  assert.match(text, /^ {2}maintenance: off$/m);
  assert.match(
    text,
    /^from the state files\n {2}last runs:\n {4}2026-11-23T11:57:01Z {2}rule nginx/m,
  );
  assert.match(
    text,
    /^ {2}note: \/var\/lib\/edge-agent\/audit\.jsonl: 1 unreadable line\(s\) skipped$/m,
  );
  assert.match(formatStatus(stoppedReport(), { tty: true }), /\x1b\[1;31medge-agent: NOT RUNNING/);
});

Deno.test("formatStatus() says when the config file changed since the agent loaded it, and when nothing arrives", () => {
  const r = runningReport();
  r.agent.config.changed_on_disk = true;
  r.intake.last_packet_age_s = null;
  r.broker = { ...r.broker!, connected: false, broker: null, since: null, spool: 4 };
  r.broker.failures = [{ broker: "mqtt-a.example:8883", error: "connect ECONNREFUSED" }];
  const text = formatStatus(r);
  assert.match(text, /^ {4}the file changed since the agent loaded it: reload to apply$/m);
  assert.match(text, /^ {2}last packet: none since the agent started$/m);
  assert.match(text, /^ {2}connected: no: not connected to any broker$/m);
  assert.match(text, /^ {2}spool: 4 result\(s\) waiting for the broker$/m);
  assert.match(text, /^ {2}last errors: mqtt-a\.example:8883: connect ECONNREFUSED$/m);
});

Deno.test("span() reads like a person: seconds, minutes, hours and days", () => {
  assert.deepEqual(
    [400, 42_000, 180_000, 7_500_000, 273_600_000, -5].map(span),
    ["0.4 s", "42 s", "3 min", "2 h 5 min", "3 d 4 h", "0 s"],
  );
});
