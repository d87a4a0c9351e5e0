import assert from "node:assert/strict";
import type { RuleEvent } from "../../src/model/mod.ts";
import { HandlerStates } from "../../src/evaluator/_handler_states.ts";

Deno.test("HandlerStates reports the series a handler fires for, and clears them when it is gone", () => {
  const states = new HandlerStates();
  states.apply({ "a.ts::metric::x": { f: { "h/cpu/cpu-idle": 1 } }, "b.ts::metric::y": {} });
  assert.deepEqual(states.firing(), [{ handler: "a.ts::metric::x", key: "h/cpu/cpu-idle" }]);
  const events: RuleEvent[] = [];
  states.prune(["b.ts::metric::y"], () => false, (e) => events.push(e));
  assert.deepEqual(
    events.map((e) => [e.kind, e.handler, e.key, e.kind === "cleared" && e.removed]),
    [
      ["cleared", "a.ts::metric::x", "h/cpu/cpu-idle", true],
    ],
  );
  assert.deepEqual(states.firing(), []);
  assert.deepEqual(Object.keys(states.toRecord()), ["b.ts::metric::y"]);
});

Deno.test("HandlerStates keeps the state of a disabled handler", () => {
  const states = new HandlerStates();
  states.apply({ "a.ts::metric::x": { f: { k: 1 } } });
  states.prune([], (name) => name === "a.ts::metric::x", () => assert.fail("no event"));
  assert.deepEqual(states.firing(), [{ handler: "a.ts::metric::x", key: "k" }]);
});
