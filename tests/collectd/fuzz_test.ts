import assert from "node:assert/strict";
import { fuzz } from "./fuzz.ts";

Deno.test("a million random and mutated packets never make the decoder or intake walk throw", () => {
  const n = Number(Deno.env.get("FUZZ_PACKETS") ?? 1_000_000);
  const r = fuzz(n, Number(Deno.env.get("FUZZ_SEED") ?? 20261123));
  console.log(
    `fuzz: ${r.packets} packets in ${r.seconds.toFixed(1)} s, ${r.metrics} metrics, ` +
      `${r.notifications} notifications, ${r.segments} segments, ${r.drops} drops`,
  );
  assert.equal(r.packets, n);
  assert.ok(r.metrics > 0 && r.drops > 0, "the mix reaches both accepted and dropped paths");
});
