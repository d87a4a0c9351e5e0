/**
 * The footprint benchmark's sender (a process of its own, so its CPU is not the receiver's):
 * replays a traffic file (`_traffic.ts`) to 127.0.0.1:PORT at RATE values/s for SECONDS, then
 * prints `{"sentValues": N, "sentPackets": N}`. Each pass over the file is moved later in time than
 * the one before ({@linkcode timeShifter}).
 *
 * ```sh
 * scripts/deno run -A --unstable-net scripts/bench/_replay.ts --port P --rate R --seconds S --traffic FILE
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { readTraffic, timeShifter } from "./_traffic.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    rate: { type: "string" },
    seconds: { type: "string" },
    traffic: { type: "string" },
  },
});
const packets = readTraffic(await Deno.readFile(args.traffic!));
const nextPass = timeShifter(packets);
const rate = Number(args.rate);
const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const to = { transport: "udp" as const, hostname: "127.0.0.1", port: Number(args.port) };
const t0 = performance.now();
let sentValues = 0, sentPackets = 0, i = 0;
while (performance.now() - t0 < Number(args.seconds) * 1000) {
  const due = ((performance.now() - t0) / 1000) * rate;
  while (sentValues < due) {
    if (i !== 0 && i % packets.length === 0) nextPass(); // each pass later than the last
    const p = packets[i++ % packets.length]!;
    await conn.send(p.bytes, to);
    sentValues += p.values;
    sentPackets++;
  }
  await new Promise((r) => setTimeout(r, 1));
}
conn.close();
console.log(JSON.stringify({ sentValues, sentPackets }));
