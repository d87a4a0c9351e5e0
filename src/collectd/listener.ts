import type { Logger, Stage } from "../model/mod.ts";

/** One address to receive collectd datagrams on. */
export interface ListenAddress {
  Host: string;
  Port: number;
}

/** Called for every datagram; `bytes` is only valid during the call (the buffer is reused). */
export type PacketHandler = (bytes: Uint8Array, from: Deno.NetAddr, index: number) => void;

/** Options of {@linkcode createListener}. */
export interface ListenerOptions {
  logger: Logger;
  onPacket: PacketHandler;
}

/**
 * Receives UDP datagrams on each address (transport only: it yields bytes, it does not parse).
 * `start` resolves once every socket is bound and rejects naming the address that failed.
 */
export function createListener(
  addresses: readonly ListenAddress[],
  options: ListenerOptions,
): Stage & { readonly bound: Deno.NetAddr[] } {
  const conns: Deno.DatagramConn[] = [];
  const bound: Deno.NetAddr[] = [];
  let stopped = false;

  async function loop(conn: Deno.DatagramConn, index: number) {
    const buffer = new Uint8Array(65536);
    while (!stopped) {
      let got: [Uint8Array, Deno.Addr];
      try {
        got = await conn.receive(buffer);
      } catch (e) {
        if (stopped || e instanceof Deno.errors.BadResource) return;
        options.logger.error("receive failed", { error: e });
        continue;
      }
      options.onPacket(got[0], got[1] as Deno.NetAddr, index);
    }
  }

  return {
    bound,
    async start() {
      for (const [index, a] of addresses.entries()) {
        let conn: Deno.DatagramConn;
        try {
          conn = Deno.listenDatagram({ transport: "udp", hostname: a.Host, port: a.Port });
        } catch (e) {
          await this.stop();
          throw new Error(`Cannot listen on ${a.Host}:${a.Port}: ${(e as Error).message}`, {
            cause: e,
          });
        }
        conns.push(conn);
        const addr = conn.addr as Deno.NetAddr;
        bound.push(addr);
        options.logger.info("listening for collectd packets", {
          addr: `${addr.hostname}:${addr.port}`,
        });
        loop(conn, index);
      }
    },
    stop() {
      stopped = true;
      for (const c of conns.splice(0)) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      return Promise.resolve();
    },
  };
}
