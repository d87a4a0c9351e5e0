import assert from "node:assert/strict";
import { resultTimestamp } from "../../src/model/mod.ts";
import { parseMessage, parseTimestamp } from "../../src/remote/message.ts";

const bytes = (v: unknown) =>
  new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

Deno.test("parseMessage() accepts lua-collectd-monitor's command unchanged", () => {
  const m = parseMessage(bytes({
    task_id: 3126260400,
    timestamp: "2020-11-26T00:41:19Z",
    service: "hello",
    command: "exec",
  }));
  assert.equal(m.kind, "command");
  if (m.kind === "command") assert.equal(m.message.task_id, 3126260400);
});

Deno.test("parseMessage() routes a message with a config field to the config handler", () => {
  const m = parseMessage(bytes({ task_id: 5, config: "LoadPlugin cpu\n" }));
  assert.equal(m.kind, "config");
});

Deno.test("parseMessage() keeps the task_id of an invalid message so an error result can be sent", () => {
  const cases: [unknown, unknown, RegExp][] = [
    [{ task_id: 1, service: "a" }, 1, /command/],
    [{ task_id: "x", service: 1, command: "b" }, "x", /service/],
    [{ task_id: 2, service: "a", command: "b", timestamp: "yesterday" }, 2, /timestamp/],
    [{ task_id: 3, service: "a", command: "b", signature: "zz" }, 3, /signature/],
    [{ task_id: 4, service: "a", command: "b", bogus: true }, 4, /unknown field\(s\) bogus/],
    [{ task_id: 1.5, service: "a", command: "b" }, undefined, /task_id/],
    [{ service: "a", command: "b" }, undefined, /task_id/],
    ["not json", undefined, /not JSON/],
    ["[1]", undefined, /not a JSON object/],
    ["\u00ff\u00fe", undefined, /not JSON/],
  ];
  for (const [input, taskId, reason] of cases) {
    const m = parseMessage(
      typeof input === "string" && input.startsWith("\u00ff")
        ? new Uint8Array([0xff, 0xfe])
        : bytes(input),
    );
    assert.equal(m.kind, "invalid", JSON.stringify(input));
    if (m.kind === "invalid") {
      assert.equal(m.taskId, taskId, JSON.stringify(input));
      assert.match(m.reason, reason, JSON.stringify(input));
    }
  }
});

Deno.test("resultTimestamp() writes UTC with whole seconds like the Lua plugin", () => {
  assert.equal(resultTimestamp(Date.UTC(2020, 10, 26, 0, 41, 19, 567)), "2020-11-26T00:41:19Z");
});

Deno.test("parseTimestamp() takes real ISO 8601 times only", () => {
  assert.equal(parseTimestamp("2020-11-26T00:41:19Z"), Date.UTC(2020, 10, 26, 0, 41, 19));
  assert.equal(
    parseTimestamp("2020-11-26T09:41:19.5+09:00"),
    Date.UTC(2020, 10, 26, 0, 41, 19, 500),
  );
  assert.equal(parseTimestamp("2020-11-25T19:41:19-0500"), Date.UTC(2020, 10, 26, 0, 41, 19));
  assert.equal(parseTimestamp("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  for (
    const bad of [
      "2026-99-99T99:99:99Z",
      "2026-01-01T00:00:00+99:99",
      "2026-02-30T00:00:00Z",
      "2025-02-29T00:00:00Z",
      "2026-00-10T00:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01T00:60:00Z",
      "2026-01-01T00:00:60Z",
      "2026-01-01 00:00:00Z",
      "yesterday",
    ]
  ) assert.ok(Number.isNaN(parseTimestamp(bad)), bad);
});

Deno.test("parseMessage() refuses impossible timestamps, hostile names and task ids, with the task_id kept", () => {
  const base = { timestamp: "2026-01-01T00:00:00Z", service: "web", command: "restart" };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, timestamp: "2026-99-99T99:99:99Z" }, /timestamp: expected a real ISO 8601 time/],
    [{ ...base, timestamp: "2026-01-01T00:00:00+99:99" }, /timestamp/],
    [{ ...base, service: "web\u0000x" }, /service: must not hold control characters/],
    [{ ...base, command: "x".repeat(129) }, /command/],
    [{ ...base, sender: "ops\n" }, /sender/],
    [{ ...base, host: "edge\u0000" }, /host/],
  ];
  for (const [fields, reason] of cases) {
    const m = parseMessage(bytes({ task_id: 9, ...fields }));
    assert.equal(m.kind, "invalid", JSON.stringify(fields));
    if (m.kind === "invalid") {
      assert.equal(m.taskId, 9);
      assert.match(m.reason, reason);
    }
  }
  for (const id of ["tab\t", "nul\u0000", "x".repeat(129), ""]) {
    const m = parseMessage(bytes({ task_id: id, ...base }));
    assert.equal(m.kind === "invalid" && m.taskId, undefined, JSON.stringify(id));
  }
  for (const id of ["task 1", "\u00e9t\u00e9-7", "x".repeat(128)]) {
    assert.equal(parseMessage(bytes({ task_id: id, ...base })).kind, "command", id);
  }
});

Deno.test("parseMessage() refuses a maintenance duration over 30 days or not positive, and a reason with control characters", () => {
  const on = (extra: Record<string, unknown>) =>
    parseMessage(bytes({ task_id: "b1", maintenance: "on", ...extra }));
  for (
    const [extra, reason] of [
      [{ for: "999999999999d" }, /for: "999999999999d" is longer than the maximum of 30d/],
      [{ for: "31d" }, /maximum of 30d/],
      [{ for: "0" }, /not a duration/],
      [{ for: "2h", reason: "x\u0000y" }, /reason: must not hold control characters/],
    ] as const
  ) {
    const m = on(extra);
    assert.equal(m.kind, "invalid", JSON.stringify(extra));
    if (m.kind === "invalid") assert.match(m.reason, reason);
  }
  assert.equal(on({ for: "30d" }).kind, "maintenance");
  assert.equal(on({ for: "1h30m", reason: "disk swap" }).kind, "maintenance");
});
