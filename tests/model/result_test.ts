import assert from "node:assert/strict";
import { resultTimestamp } from "../../src/model/mod.ts";

Deno.test("resultTimestamp() gives an ISO time whole seconds, from epoch ms or from a time with a fraction", () => {
  assert.equal(resultTimestamp(Date.UTC(2020, 10, 26, 0, 41, 19, 999)), "2020-11-26T00:41:19Z");
  assert.equal(resultTimestamp("2020-11-26T00:41:19.123Z"), "2020-11-26T00:41:19Z");
  assert.equal(resultTimestamp("2020-11-26T00:41:19Z"), "2020-11-26T00:41:19Z");
  assert.match(resultTimestamp(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});
