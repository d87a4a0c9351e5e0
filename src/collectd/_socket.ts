/**
 * Opening the UDP socket of one Listen entry: bind, multicast membership, receive buffer.
 * Deno.listenDatagram has no SO_RCVBUF option; a new socket's buffer is the kernel's
 * `net.core.rmem_default`. With access to /proc/sys (root, all permissions: development under
 * -A, never the derived flags) a requested size is applied by raising that sysctl just around
 * the bind and restoring it right after; otherwise the value the launcher read
 * ($EDGE_AGENT_RMEM_DEFAULT, see _receive_buffer.ts) says what the socket got.
 */
import type { RmemDefault, SocketBuffer } from "./_receive_buffer.ts";

const RMEM_DEFAULT = "/proc/sys/net/core/rmem_default";

/** net.core.rmem_default, read and written (throws without access to /proc/sys). */
export interface RmemSysctl {
  read(): number;
  write(bytes: number): void;
}

const procSysctl: RmemSysctl = {
  read: () => Number(Deno.readTextFileSync(RMEM_DEFAULT).trim()),
  write: (bytes) => Deno.writeTextFileSync(RMEM_DEFAULT, String(bytes)),
};

/** What opening a socket did, for the log. */
export interface OpenedSocket {
  conn: Deno.DatagramConn;
  /** Receive buffer the socket was created with, or why it is unknown. */
  buffer: SocketBuffer;
  multicast: boolean;
}

/** Options of {@linkcode openSocket}. */
export interface OpenSocketOptions {
  /** Wanted SO_RCVBUF in bytes; null keeps the kernel default. */
  receiveBuffer: number | null;
  /** Interface name for multicast membership. */
  interface?: string | undefined;
  /** net.core.rmem_default as the launcher read it, for when /proc/sys is out of reach. */
  rmemDefault?: RmemDefault;
  /** For tests: net.core.rmem_default (default: /proc/sys/net/core/rmem_default). */
  sysctl?: RmemSysctl;
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
  const sysctl = options.sysctl ?? procSysctl;
  const wanted = options.receiveBuffer;
  let buffer: SocketBuffer;
  let restore: number | null = null;
  let current: number | null = null;
  try {
    current = sysctl.read();
  } catch { /* no access to /proc/sys (the derived flags): the launcher's reading says it */ }
  if (current === null) {
    const env = options.rmemDefault ?? { unknown: "net.core.rmem_default not read" };
    buffer = "bytes" in env
      ? { bytes: env.bytes, source: "net.core.rmem_default" }
      : { bytes: null, source: env.unknown };
  } else if (wanted !== null && current < wanted) {
    try {
      sysctl.write(wanted);
      restore = current;
      buffer = { bytes: wanted, source: "net.core.rmem_default, raised around the bind" };
    } catch {
      buffer = { bytes: current, source: "net.core.rmem_default" };
    }
  } else {
    buffer = { bytes: current, source: "net.core.rmem_default" };
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
        sysctl.write(restore);
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
  return { conn, buffer, multicast };
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
