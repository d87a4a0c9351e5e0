/**
 * Opening the UDP socket of one Listen entry: bind, multicast membership, receive buffer.
 * Deno.listenDatagram has no SO_RCVBUF option; a new socket's buffer is the kernel's
 * `net.core.rmem_default`, so a requested size is applied by raising that sysctl just around the
 * bind (root only) and restoring it right after.
 */

const RMEM_DEFAULT = "/proc/sys/net/core/rmem_default";

/** What opening a socket did, for the log. */
export interface OpenedSocket {
  conn: Deno.DatagramConn;
  /** Receive buffer the socket was created with (bytes), when known. */
  receiveBuffer: number | null;
  /** Why the requested receive buffer could not be applied, if so. */
  receiveBufferNote: string | null;
  multicast: boolean;
}

/** Options of {@linkcode openSocket}. */
export interface OpenSocketOptions {
  /** Wanted SO_RCVBUF in bytes; null keeps the kernel default. */
  receiveBuffer: number | null;
  /** Interface name for multicast membership. */
  interface?: string | undefined;
}

export function isMulticast(host: string): boolean {
  const m = /^(\d+)\./.exec(host);
  if (m) return Number(m[1]) >= 224 && Number(m[1]) <= 239;
  return /^ff[0-9a-f]{2}:/i.test(host);
}

/** Binds `host:port` (joining the group for a multicast address). */
export async function openSocket(
  host: string,
  port: number,
  options: OpenSocketOptions,
): Promise<OpenedSocket> {
  const multicast = isMulticast(host);
  let receiveBuffer: number | null = null;
  let note: string | null = null;
  let restore: string | null = null;
  if (options.receiveBuffer !== null) {
    try {
      const current = Number(Deno.readTextFileSync(RMEM_DEFAULT).trim());
      if (current < options.receiveBuffer) {
        Deno.writeTextFileSync(RMEM_DEFAULT, String(options.receiveBuffer));
        restore = String(current);
      }
      receiveBuffer = Math.max(current, options.receiveBuffer);
    } catch (e) {
      note = `cannot raise net.core.rmem_default (${
        (e as Error).message
      }); the kernel default applies: run sysctl -w net.core.rmem_default=${options.receiveBuffer}`;
    }
  }
  let conn: Deno.DatagramConn;
  try {
    conn = Deno.listenDatagram({
      transport: "udp",
      hostname: host,
      port,
      ...(multicast ? { reuseAddress: true } : {}),
    });
  } finally {
    if (restore !== null) {
      try {
        Deno.writeTextFileSync(RMEM_DEFAULT, restore);
      } catch { /* left raised: harmless, larger buffers for new sockets */ }
    }
  }
  try {
    if (multicast) {
      if (host.includes(":")) await conn.joinMulticastV6(host, interfaceIndex(options.interface));
      else await conn.joinMulticastV4(host, interfaceV4(options.interface));
    }
  } catch (e) {
    conn.close();
    throw e;
  }
  return { conn, receiveBuffer, receiveBufferNote: note, multicast };
}

function interfaceV4(name: string | undefined): string {
  if (name === undefined) return "0.0.0.0";
  const a = Deno.networkInterfaces().find((i) => i.name === name && i.family === "IPv4");
  if (!a) throw new Error(`no IPv4 address on interface ${name}`);
  return a.address;
}

/** Linux gives the loopback interface index 1 in every network namespace (LOOPBACK_IFINDEX). */
const LOOPBACK = { name: "lo", index: 1 };

/**
 * The index of interface `name`: the scope id of its IPv6 link-local address (an IPv6 multicast
 * membership needs IPv6 on the interface, hence such an address), or 1 for `lo`. Reading
 * /sys/class/net/<name>/ifindex needs --allow-all in Deno; --allow-sys=networkInterfaces is
 * granted for a Listen with an Interface.
 */
export function interfaceIndex(name: string | undefined): number {
  if (name === undefined) return 0;
  if (name === LOOPBACK.name) return LOOPBACK.index;
  const linkLocal = Deno.networkInterfaces().find((i) =>
    i.name === name && i.family === "IPv6" && (i.scopeid ?? 0) > 0
  );
  if (!linkLocal) {
    throw new Error(`no interface ${name} with an IPv6 link-local address (is IPv6 on it?)`);
  }
  return linkLocal.scopeid!;
}
