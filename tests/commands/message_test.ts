import assert from "node:assert/strict";
import { parseMessage, resultTimestamp } from "../../src/commands/mod.ts";

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
