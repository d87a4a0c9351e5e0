import assert from "node:assert/strict";
import { contextRuntime, cursorKey } from "../../src/evaluator/_context.ts";
import { HandlerStates } from "../../src/evaluator/_handler_states.ts";

const rt = contextRuntime();

/** Runs `fn(ctx)` once per sample time, on series `key`, returning each result. */
function over<T>(
  times: number[],
  fn: (ctx: ReturnType<typeof make>["ctx"], i: number) => T,
  key = "h/p/t",
) {
  const { c, state } = make();
  return times.map((t, i) => {
    c.bind(state, key, t);
    return fn(c.ctx, i);
  });
}
function make() {
  const c = rt.createContext("f.ts::metric::x");
  return { c, ctx: c.ctx, state: rt.emptyState() };
}

Deno.test("the series key is built from the sample on first use, with empty instances left out", () => {
  const run = contextRuntime();
  const c = run.createContext("f.ts::metric::x");
  const state = run.emptyState();
  const sample = (plugin_instance: string, type_instance: string) => ({
    host: "web1",
    plugin: "cpu",
    plugin_instance,
    type: "cpu",
    type_instance,
  });
  c.use(state);
  run.cursor.parts = sample("0", "idle");
  run.cursor.time = 100;
  run.cursor.call++;
  assert.equal(c.ctx.key, "web1/cpu-0/cpu-idle");
  assert.equal(run.cursor.parts, null); // built once, kept for the other handlers of the sample
  c.ctx.sustained(true);
  assert.deepEqual(Object.keys(state.series), ["web1/cpu-0/cpu-idle"]);
  run.cursor.parts = sample("", "");
  assert.equal(cursorKey(run.cursor), "web1/cpu/cpu");
});

Deno.test("ctx.sustained() turns true after N consecutive samples and false on the first sample without the condition", () => {
  const cond = [true, true, true, true, false, true, true, true];
  assert.deepEqual(
    over(cond.map((_, i) => i * 10), (ctx, i) => ctx.sustained(cond[i]!, { samples: 3 })),
    [false, false, true, true, false, false, false, true],
  );
});

Deno.test("ctx.sustained() with seconds needs the condition held for that long in sample time", () => {
  assert.deepEqual(
    over([0, 10, 20, 30, 40], (ctx) => ctx.sustained(true, { seconds: 30 })),
    [false, false, false, true, true],
  );
});

Deno.test("ctx.sustained() with a clear condition keeps the latch through the hysteresis band", () => {
  const free = [40, 40, 55, 55, 61, 40, 61, 61];
  assert.deepEqual(
    over(
      free.map((_, i) => i),
      (ctx, i) =>
        ctx.sustained(free[i]! < 50, { samples: 2, clear: free[i]! > 60, clearSamples: 2 }),
    ),
    [false, true, true, true, true, true, true, false],
  );
});

Deno.test("ctx.consecutive() counts samples in a row and resets to 0", () => {
  const cond = [true, true, false, true];
  assert.deepEqual(over([0, 1, 2, 3], (ctx, i) => ctx.consecutive(cond[i]!)), [1, 2, 0, 1]);
});

Deno.test("ctx.rate() averages a counter's increase per second over its window and is null after a reset", () => {
  const values = [100, 110, 120, 150, 5];
  assert.deepEqual(
    over([0, 1, 2, 3, 4], (ctx, i) => ctx.rate(values[i], { seconds: 2 })),
    [null, 10, 10, 20, null],
  );
});

Deno.test("helpers keep separate state per series and per call site", () => {
  const { c, state } = make();
  const step = (key: string, a: boolean, b: boolean) => {
    c.bind(state, key, 0);
    return [c.ctx.consecutive(a), c.ctx.consecutive(b)];
  };
  step("one", true, false);
  assert.deepEqual(step("one", true, true), [2, 1]);
  assert.deepEqual(step("two", true, true), [1, 1]);
});

Deno.test("takeDelta() carries only what changed and the agent's copy rebuilds the same state", () => {
  const { c, state } = make();
  c.bind(state, "a", 0);
  c.ctx.sustained(true);
  (c.ctx.state as Record<string, number>).n = 1;
  c.bind(state, "b", 0);
  c.ctx.consecutive(true);
  const first = c.takeDelta();
  assert.deepEqual(Object.keys(first.k), ["a", "b"]);
  assert.deepEqual(first.s, { n: 1 });
  c.bind(state, "b", 1);
  c.ctx.consecutive(true);
  const second = c.takeDelta();
  assert.deepEqual(Object.keys(second.k), ["b"]);
  assert.equal(second.s, undefined);
  assert.equal(c.takeDelta(), null);
  const copy = new HandlerStates();
  copy.apply({ h: structuredClone(first) });
  copy.apply({ h: structuredClone(second) });
  assert.deepEqual(copy.toRecord().h, state);
});

Deno.test("a latch holds the series active (no clear) while it is on", () => {
  const { c, state } = make();
  c.bind(state, "k", 0);
  c.ctx.sustained(true);
  assert.equal(c.latched("k"), true);
  c.bind(state, "k", 1);
  c.ctx.sustained(false);
  assert.equal(c.latched("k"), false);
});

Deno.test("expire() forgets series not seen since a time unless they are fired, and says so in the delta", () => {
  const { c, state } = make();
  for (const [key, t] of [["old", 100], ["new", 5000], ["fired", 100]] as const) {
    c.bind(state, key, t);
    c.ctx.consecutive(true);
  }
  state.fired = { fired: 1 };
  c.takeDelta();
  assert.equal(c.expire(1000), 1);
  assert.deepEqual(Object.keys(state.series).sort(), ["fired", "new"]);
  assert.deepEqual(c.takeDelta().k, { old: null });
});

Deno.test("takeDelta(max) carries at most max series and the rest with the next delta, each once", () => {
  const { c, state } = make();
  for (const key of ["a", "b", "c"]) {
    c.bind(state, key, 0);
    c.ctx.consecutive(true);
  }
  c.bind(state, "a", 1);
  c.ctx.consecutive(true); // touched twice, listed once
  assert.deepEqual(Object.keys(c.takeDelta(2).k), ["a", "b"]);
  assert.equal(c.dirty, true);
  c.bind(state, "a", 2);
  c.ctx.consecutive(true); // taken, then touched again: listed again
  assert.deepEqual(Object.keys(c.takeDelta().k), ["c", "a"]);
  assert.equal(c.takeDelta(), null);
});

Deno.test("a restored state is synced again from its next touch, whatever its records say", () => {
  const { c, state } = make();
  c.bind(state, "a", 0);
  c.ctx.consecutive(true);
  // The agent's copy, taken while "a" was waiting for a delta, comes back after a restart.
  const restored = structuredClone(state);
  const fresh = rt.createContext("f.ts::metric::x");
  fresh.use(restored);
  fresh.bind(restored, "a", 1);
  assert.equal(fresh.ctx.consecutive(true), 2);
  assert.deepEqual(Object.keys(fresh.takeDelta().k), ["a"]);
});

Deno.test("a latch at rest and a count of 0 keep no state, and a steady series sends nothing to the agent", () => {
  const { c, state } = make();
  const sample = (t: number, high = false) => {
    c.bind(state, "h/memory/memory-free", t);
    c.ctx.sustained(false, { samples: 3 });
    c.ctx.sustained(false, { seconds: 30, id: "long" });
    c.ctx.consecutive(high);
  };
  for (let t = 0; t < 300; t += 10) sample(t);
  assert.equal(c.takeDelta(), null);
  assert.deepEqual(state.series, {});
  // The count starts: the series gets a record, holding that helper only.
  sample(300, true);
  assert.deepEqual(c.takeDelta().k["h/memory/memory-free"].h, { "#1": { n: 1 } });
  sample(310);
  assert.equal(c.takeDelta().k["h/memory/memory-free"].h["#1"].n, 0);
  for (let t = 320; t < 600; t += 10) sample(t);
  assert.equal(c.takeDelta(), null);
  // Its time still moves for expiry (in 5-minute steps).
  sample(610);
  assert.deepEqual(Object.keys(c.takeDelta().k), ["h/memory/memory-free"]);
});

Deno.test("a latch with its own clear condition is kept from the first sample (its clearing counts)", () => {
  const { c, state } = make();
  c.bind(state, "h/memory/memory-free", 0);
  c.ctx.sustained(false, { clear: true, clearSamples: 2 });
  assert.deepEqual(Object.keys(state.series), ["h/memory/memory-free"]);
});
