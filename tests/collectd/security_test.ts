import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  aes256Ofb,
  decryptPart,
  encryptPacket,
  parseAuthFile,
  signPacket,
  verifySignature,
} from "../../src/collectd/mod.ts";

Deno.test("parseAuthFile() reads collectd's `user: password` format", () => {
  const users = parseAuthFile(
    "# comment\n  alice: secret\r\nbob:pass: word with spaces\n\nnocolon\n: nouser\nalice: newer\n",
  );
  assert.deepEqual([...users.keys()], ["alice", "bob"]);
  assert.equal(users.get("alice")!.password, "newer");
  assert.equal(users.get("bob")!.password, "pass: word with spaces");
  assert.deepEqual(
    [...users.get("bob")!.key],
    [...createHash("sha256").update("pass: word with spaces").digest()],
  );
});

Deno.test("aes256Ofb() matches openssl's aes-256-ofb", async () => {
  const key = createHash("sha256").update("secret").digest();
  const iv = new Uint8Array(16).map((_, i) => i * 7);
  const data = new Uint8Array(100).map((_, i) => i);
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  const child = new Deno.Command("openssl", {
    args: ["enc", "-aes-256-ofb", "-K", hex(key), "-iv", hex(iv), "-nopad"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(data);
  await w.close();
  const out = await child.output();
  assert.deepEqual(aes256Ofb(key, iv, data), out.stdout);
});

Deno.test("signPacket() output verifies, and fails with another password", () => {
  const payload = new Uint8Array([1, 2, 3, 4, 5]);
  const signed = signPacket(payload, "alice", "secret");
  assert.equal(verifySignature(signed, 0, parseAuthFile("alice: secret")), 36 + 5);
  assert.equal(verifySignature(signed, 0, parseAuthFile("alice: other")), "bad_signature");
  assert.equal(verifySignature(signed, 0, parseAuthFile("bob: secret")), "unknown_user");
  signed[signed.length - 1]! ^= 1;
  assert.equal(verifySignature(signed, 0, parseAuthFile("alice: secret")), "bad_signature");
});

Deno.test("encryptPacket() output decrypts to the payload, and fails with another password", () => {
  const payload = new Uint8Array(300).map((_, i) => i & 0xff);
  const enc = encryptPacket(payload, "alice", "secret");
  const out = new Uint8Array(65536);
  assert.equal(decryptPart(enc, 0, parseAuthFile("alice: secret"), out), 300);
  assert.deepEqual(out.subarray(0, 300), payload);
  assert.equal(decryptPart(enc, 0, parseAuthFile("alice: nope"), out), "bad_encryption");
  assert.equal(
    decryptPart(enc.subarray(0, 40), 0, parseAuthFile("alice: secret"), out),
    "bad_security_part",
  );
});

Deno.test("verifySignature() agrees with node:crypto's HMAC for passwords longer than a block", () => {
  const long = "p".repeat(100);
  const payload = new Uint8Array(700).map((_, i) => i);
  const signed = signPacket(payload, "carol", long);
  assert.equal(verifySignature(signed, 0, parseAuthFile(`carol: ${long}`)), 36 + 5);
  assert.equal(verifySignature(signed, 0, parseAuthFile(`carol: ${long}x`)), "bad_signature");
});

Deno.test("decryptPart() keeps decrypting correctly across many packets with one long-lived cipher", () => {
  const users = parseAuthFile("alice: secret");
  const out = new Uint8Array(65536);
  for (let i = 0; i < 50; i++) {
    const payload = new Uint8Array(1 + (i * 97) % 1400).map((_, j) => (i + j) & 0xff);
    const enc = encryptPacket(payload, "alice", "secret");
    if (i % 7 === 3) enc[enc.length - 1]! ^= 1; // failures must not desynchronise the next one
    const r = decryptPart(enc, 0, users, out);
    if (i % 7 === 3) assert.equal(r, "bad_encryption");
    else {
      assert.equal(r, payload.length);
      assert.deepEqual(out.subarray(0, payload.length), payload);
    }
  }
});
