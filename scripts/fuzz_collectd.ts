/**
 * Long fuzz run of the collectd decoder and intake walk (the CI-sized run is
 * tests/collectd/fuzz_test.ts). Runs batches with new seeds until the time is up; a failure
 * prints the seed and the packet in hex and exits 1.
 *
 *   scripts/deno run --allow-read scripts/fuzz_collectd.ts [--minutes 60] [--seed 1]
 */
import { parseArgs } from "node:util";
import { fuzz } from "../tests/collectd/fuzz.ts";

const { values } = parseArgs({
  options: { minutes: { type: "string", default: "60" }, seed: { type: "string", default: "1" } },
});
const deadline = Date.now() + Number(values.minutes) * 60_000;
let seed = Number(values.seed);
let total = 0;
while (Date.now() < deadline) {
  try {
    const r = fuzz(1_000_000, seed, (deadline - Date.now()) / 1000);
    total += r.packets;
    console.log(
      `seed ${seed}: ${r.packets} packets in ${r.seconds.toFixed(1)} s ` +
        `(${r.metrics} metrics, ${r.drops} drops); total ${total}`,
    );
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
  seed++;
}
console.log(`done: ${total} packets, no failure`);
