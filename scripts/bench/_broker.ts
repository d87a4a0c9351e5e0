/**
 * The benchmarks' peers on loopback (footprint.ts, mqtt.ts): a free port, and a real mosquitto
 * started on one.
 * @module
 */
import { join } from "node:path";

/** A port on 127.0.0.1 free for `transport` right now. */
export function freePort(transport: "udp" | "tcp"): number {
  if (transport === "udp") {
    const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const p = (s.addr as Deno.NetAddr).port;
    s.close();
    return p;
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/**
 * mosquitto on a free loopback port, anonymous, with `lines` added to its config (in `dir`);
 * resolves once it accepts connections (or after 5 s).
 */
export async function startMosquitto(dir: string, lines: string[] = []) {
  const port = freePort("tcp");
  const conf = join(dir, "mosquitto.conf");
  await Deno.writeTextFile(
    conf,
    [`listener ${port} 127.0.0.1`, "allow_anonymous true", ...lines].join("\n") + "\n",
  );
  const child = new Deno.Command("/usr/sbin/mosquitto", {
    args: ["-c", conf],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    async stop(): Promise<void> {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}
