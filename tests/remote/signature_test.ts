import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  canonicalMessage,
  checkSignature,
  signMessage,
  withSignature,
} from "../../src/remote/mod.ts";

const ops = { Name: "ops", Secret: "0123456789abcdef" };
const senders = new Map([["ops", ops.Secret]]);

Deno.test("canonicalMessage() sorts keys, drops signature and has no whitespace", () => {
  assert.equal(
    canonicalMessage({ task_id: 1, command: "b", service: "a", signature: "x", sender: "ops" }),
    '{"command":"b","sender":"ops","service":"a","task_id":1}',
  );
});

Deno.test("signMessage() is HMAC-SHA-256 in hex over the canonical message", () => {
  const m = { task_id: 1, service: "a", command: "b", sender: "ops" };
  const expected = createHmac("sha256", ops.Secret).update(canonicalMessage(m)).digest("hex");
  assert.equal(signMessage(m, ops.Secret), expected);
});

Deno.test("checkSignature() accepts a signed message and says why others are refused", () => {
  const signed = withSignature({ task_id: 1, service: "a", command: "b" }, ops);
  assert.equal(checkSignature(signed, senders), null);
  assert.match(checkSignature({ task_id: 1 }, senders)!, /unsigned/);
  assert.match(checkSignature({ ...signed, sender: "eve" }, senders)!, /unknown sender "eve"/);
  assert.match(checkSignature({ ...signed, command: "rm" }, senders)!, /bad signature/);
  assert.match(checkSignature({ ...signed, signature: "ab" }, senders)!, /bad signature/);
});
