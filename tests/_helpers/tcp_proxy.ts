/**
 * A loopback TCP proxy in front of a broker that can silently drop what clients send (the
 * broker never sees it, the client believes it was sent), to freeze acknowledgements, and can
 * go down and come back on the same port (a broker outage seen from the agent only).
 */
export interface DropProxy {
  readonly port: number;
  readonly address: string;
  /** While true, bytes from clients to the broker are discarded. */
  dropClientBytes: boolean;
  /** Closes every open connection (both sides). */
  cutAll(): void;
  /** Stops accepting and cuts every connection: clients get "connection refused". */
  down(): Promise<void>;
  /** Accepts again on the same port. */
  up(): void;
  close(): Promise<void>;
}

export function startDropProxy(brokerPort: number): DropProxy {
  let listener: Deno.TcpListener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let accepting: Promise<void> = Promise.resolve();
  let listening = true;
  const proxy: DropProxy = {
    port,
    address: `127.0.0.1:${port}`,
    dropClientBytes: false,
    cutAll() {
      for (const c of open) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      open.clear();
    },
    async down() {
      if (listening) {
        listening = false;
        listener.close();
      }
      proxy.cutAll();
      await accepting;
    },
    up() {
      if (listening) return;
      listener = Deno.listen({ hostname: "127.0.0.1", port });
      listening = true;
      accepting = accept(listener);
    },
    async close() {
      await proxy.down();
      await Promise.all([...tasks]);
    },
  };
  const pump = async (from: Deno.Conn, to: Deno.Conn, drop: () => boolean) => {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        if (!drop()) await to.write(buf.subarray(0, n));
      }
    } catch {
      // a side closed
    }
    for (const c of [from, to]) {
      try {
        c.close();
      } catch {
        // closed
      }
      open.delete(c);
    }
  };
  const accept = async (l: Deno.TcpListener) => {
    try {
      for await (const client of l) {
        client.setNoDelay(true);
        const broker = await Deno.connect({ hostname: "127.0.0.1", port: brokerPort });
        broker.setNoDelay(true);
        open.add(client);
        open.add(broker);
        const t = Promise.all([
          pump(client, broker, () => proxy.dropClientBytes),
          pump(broker, client, () => false),
        ]).then(() => {});
        tasks.add(t);
        t.finally(() => tasks.delete(t));
      }
    } catch {
      // listener closed
    }
  };
  accepting = accept(listener);
  return proxy;
}
