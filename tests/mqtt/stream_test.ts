import assert from "node:assert/strict";
import { EndpointRotation } from "../../src/mqtt/_stream.ts";

const A = { host: "a", port: 1 };
const B = { host: "b", port: 2 };

Deno.test("EndpointRotation hops to the next broker at once after a loss and waits ReconnectInterval once all failed", () => {
  const r = new EndpointRotation([A, B], 5000, 50);
  assert.deepEqual(r.next(), A);
  r.connected();
  assert.equal(r.delayAfter(), 50, "a lost connection hops at once");
  assert.deepEqual(r.next(), B);
  assert.equal(r.delayAfter(), 50, "B failing: A not tried since the loss");
  assert.deepEqual(r.next(), A);
  assert.equal(r.delayAfter(), 5000, "both failed: wait");
  assert.deepEqual(r.next(), B);
  r.connected();
  assert.deepEqual(r.next(), A, "after B goes away the agent comes back to A");
});

Deno.test("EndpointRotation with one broker always retries it after ReconnectInterval", () => {
  const r = new EndpointRotation([A], 3000);
  assert.deepEqual(r.next(), A);
  assert.equal(r.delayAfter(), 3000);
  assert.deepEqual(r.next(), A);
  assert.throws(() => new EndpointRotation([], 1), RangeError);
});

Deno.test("EndpointRotation tries every broker once per round while all are down, then waits", () => {
  const C = { host: "c", port: 3 };
  const r = new EndpointRotation([A, B, C], 5000, 50);
  const rounds: [string, number][][] = [];
  for (let round = 0; round < 3; round++) {
    const tried: [string, number][] = [];
    for (let i = 0; i < 3; i++) tried.push([r.next().host, r.delayAfter()]);
    rounds.push(tried);
  }
  const oneRound = [["a", 50], ["b", 50], ["c", 5000]];
  assert.deepEqual(rounds, [oneRound, oneRound, oneRound], "not one broker per interval");
});
