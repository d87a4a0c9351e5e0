/**
 * What the start-up log says about one Listen socket's receive buffer. A new UDP socket gets the
 * kernel's `net.core.rmem_default`; the agent can read (or raise) it itself only with access to
 * /proc/sys, which its derived flags never give (Deno wants --allow-all for anything under
 * /proc). So the launchers (/usr/bin/edge-agent, scripts/agent) read it and pass it in
 * {@linkcode RMEM_DEFAULT_ENV}.
 */
import type { LogFields } from "../model/mod.ts";

/** The environment variable the launchers set to /proc/sys/net/core/rmem_default's value. */
export const RMEM_DEFAULT_ENV = "EDGE_AGENT_RMEM_DEFAULT";

/** The package's sysctl file that sets net.core.rmem_default (packaging/sysctl/). */
export const SYSCTL_FILE = "/usr/lib/sysctl.d/60-edge-agent.conf";

/** `$EDGE_AGENT_RMEM_DEFAULT` read: bytes, or why it says nothing. */
export type RmemDefault = { bytes: number } | { unknown: string };

/** Parses `$EDGE_AGENT_RMEM_DEFAULT` (undefined when unset). */
export function parseRmemDefault(value: string | undefined): RmemDefault {
  if (value === undefined || value.trim() === "") {
    return {
      unknown: `${RMEM_DEFAULT_ENV} is not set (the launcher passes ` +
        `/proc/sys/net/core/rmem_default, which the agent may not read itself)`,
    };
  }
  const bytes = Number(value.trim());
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    return { unknown: `${RMEM_DEFAULT_ENV}=${JSON.stringify(value)} is not a number of bytes` };
  }
  return { bytes };
}

/** The receive buffer a socket was created with, as `openSocket` found it. */
export interface SocketBuffer {
  /** Bytes, or null when unknown. */
  bytes: number | null;
  /** Where `bytes` comes from ("net.core.rmem_default", …), or why it is unknown. */
  source: string;
}

/** One log line: level, message, fields. */
export interface BufferLogLine {
  level: "info" | "warn";
  msg: string;
  fields: LogFields;
}

/**
 * The one start-up line for a socket bound at `addr` that wanted `wanted` bytes: info when the
 * buffer is at least that, a warning naming the fix when it is below; when unknown, info for
 * the default size and a warning for an explicit `ReceiveBuffer` (`explicit`).
 */
export function receiveBufferLine(
  addr: string,
  buffer: SocketBuffer,
  options: { wanted: number; explicit: boolean },
): BufferLogLine {
  const { wanted, explicit } = options;
  const fix = `sysctl -w net.core.rmem_default=${wanted} (the package sets it in ${SYSCTL_FILE}; ` +
    `override it with a file in /etc/sysctl.d), then restart the agent`;
  if (buffer.bytes === null) {
    return {
      level: explicit ? "warn" : "info",
      msg: `collectd socket receive buffer: unknown (${buffer.source})`,
      fields: { addr, wanted, fix },
    };
  }
  const msg = `collectd socket receive buffer: ${buffer.bytes} bytes (${buffer.source})`;
  if (buffer.bytes >= wanted) return { level: "info", msg, fields: { addr } };
  return {
    level: "warn",
    msg: `${msg}, below the ${wanted} wanted: a burst beyond it is dropped by the kernel`,
    fields: { addr, wanted, fix },
  };
}
