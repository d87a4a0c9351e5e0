/** Fault: a flood of malformed and badly signed datagrams mixed into collectd's real traffic. */
import { encodeValueList, signPacket } from "../../../src/collectd/mod.ts";
import { pause, type SoakContext } from "../context.ts";

/** Options of {@linkcode flood}. */
export interface FloodOptions {
  seconds: number;
  /** Datagrams per second (all kinds together). */
  rate: number;
}

/** The bad datagram kinds, sent in turn. */
export const FLOOD_KINDS = [
  "random_bytes",
  "truncated_part",
  "zero_length_part",
  "bad_signature",
] as const;

/** Builds one bad datagram of `kind` (`n` varies the content). */
export function badDatagram(kind: typeof FLOOD_KINDS[number], n: number, host: string): Uint8Array {
  const valid = encodeValueList({
    host,
    plugin: "load",
    plugin_instance: "",
    type: "load",
    type_instance: "",
    time: Date.now() / 1000,
    interval: 1,
    values: [n % 7, 1, 1],
    dstypes: ["gauge", "gauge", "gauge"],
  });
  switch (kind) {
    case "random_bytes":
      return crypto.getRandomValues(new Uint8Array(16 + (n % 1400)));
    case "truncated_part": {
      const b = valid.slice(0, valid.length - 5);
      new DataView(b.buffer).setUint16(2, 0xfff0); // host part claims more than the packet
      return b;
    }
    case "zero_length_part": {
      const b = valid.slice();
      new DataView(b.buffer).setUint16(2, 0);
      return b;
    }
    case "bad_signature":
      return signPacket(valid, "soak", "not-the-password");
  }
}

/** Sends the flood for `seconds` at `rate` datagrams/s to the agent's collectd port. */
export async function flood(ctx: SoakContext, options: FloodOptions): Promise<void> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port: ctx.layout.collectdPort };
  const started = Date.now();
  const end = started + options.seconds * 1000;
  let n = 0;
  ctx.say(`flood: ${options.rate}/s bad datagrams for ${options.seconds} s`);
  try {
    while (Date.now() < end && !ctx.signal.aborted) {
      const due = Math.floor(((Date.now() - started) / 1000) * options.rate);
      while (n < due) {
        const kind = FLOOD_KINDS[n % FLOOD_KINDS.length]!;
        await sock.send(badDatagram(kind, n, ctx.layout.hostName), to).catch(() => {});
        ctx.faults.floodSent[kind] = (ctx.faults.floodSent[kind] ?? 0) + 1;
        n++;
      }
      await pause(10);
    }
  } finally {
    sock.close();
    ctx.faults.floodWindows.push([started, Date.now()]);
  }
}
