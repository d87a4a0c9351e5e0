import assert from "node:assert/strict";
import { PacketQueue } from "../../src/evaluator/_packet_queue.ts";

Deno.test("PacketQueue copies packets from a reused buffer and hands them out oldest first", () => {
  const q = new PacketQueue(true);
  const reused = new Uint8Array(4);
  for (let i = 1; i <= 4; i++) {
    reused.fill(i);
    q.push(reused.subarray(0, i));
  }
  const first = q.take(2)!;
  assert.deepEqual([...first.data], [1, 2, 2]);
  assert.deepEqual([...first.ends], [1, 3]);
  assert.equal(first.arrivals.length, 2);
  assert.equal(q.count, 2);
  const rest = q.take(100)!;
  assert.deepEqual([...rest.data], [3, 3, 3, 4, 4, 4, 4]);
  assert.deepEqual([...rest.ends], [3, 7]);
  assert.equal(q.take(1), null);
});

Deno.test("PacketQueue grows past its initial buffers without losing bytes", () => {
  const q = new PacketQueue();
  const packet = new Uint8Array(1500).map((_, i) => i & 0xff);
  for (let i = 0; i < 3000; i++) q.push(packet);
  let total = 0;
  for (let b = q.take(1000); b !== null; b = q.take(1000)) {
    total += b.ends.length;
    assert.equal(b.data.length, b.ends.length * 1500);
    assert.deepEqual(b.data.subarray(1500, 1510), packet.subarray(0, 10));
    assert.equal(b.arrivals.length, 0);
  }
  assert.equal(total, 3000);
});

Deno.test("PacketQueue.take() stops at the byte limit but always hands out at least one packet", () => {
  const q = new PacketQueue();
  for (const size of [1000, 1000, 1000, 5000]) q.push(new Uint8Array(size));
  assert.deepEqual([...q.take(100, 2500)!.ends], [1000, 2000]);
  assert.deepEqual([...q.take(100, 2500)!.ends], [1000]);
  assert.deepEqual([...q.take(100, 2500)!.ends], [5000]); // larger than the limit: alone
  assert.equal(q.take(100, 2500), null);
});
