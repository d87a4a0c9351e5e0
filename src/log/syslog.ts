import { dirname } from "node:path";
import type { LogLevel } from "../model/mod.ts";
import { formatText, type LogEvent, type LogSink } from "./logger.ts";

const SEVERITY: Record<LogLevel, number> = { fatal: 2, error: 3, warn: 4, info: 6, debug: 7 };
const FACILITY_DAEMON = 3;

/** Options of {@linkcode syslogSink}. */
export interface SyslogOptions {
  /** The local syslog socket. Default `/dev/log`. */
  path?: string;
  /** Program name in each message. Default `edge-agent`. */
  tag?: string;
  /**
   * Where this end of the datagram socket is bound. Deno autobinds (an empty path) only with
   * every permission granted, so under least-privilege flags it must be a path the process may
   * write (the agent: `<StateDir>/syslog.sock`). Default "" (autobind).
   */
  bindPath?: string;
  /** Called once per failure burst when the socket cannot be reached (e.g. write to stderr). */
  onError?: (error: Error) => void;
}

/**
 * Sends each event as one datagram to the local syslog socket (`<PRI>tag[pid]: text`, facility
 * daemon). Deno names unix datagram sockets `unixpacket`. Needs `--unstable-net`.
 */
export function syslogSink(options: SyslogOptions = {}): LogSink {
  const path = options.path ?? "/dev/log";
  const tag = `${options.tag ?? "edge-agent"}[${Deno.pid}]`;
  const encoder = new TextEncoder();
  let conn: Deno.DatagramConn | null = null;
  let failing = false;
  return (e: LogEvent) => {
    const pri = FACILITY_DAEMON * 8 + SEVERITY[e.level];
    // formatText starts with an ISO time; syslog adds its own, so drop ours.
    const text = formatText(e).replace(/^\S+ /, "");
    const bytes = encoder.encode(`<${pri}>${tag}: ${text}`);
    try {
      conn ??= open();
      conn.send(bytes, { transport: "unixpacket", path }).then(() => {
        failing = false;
      }, (err) => report(err));
    } catch (err) {
      report(err);
    }
  };
  function open(): Deno.DatagramConn {
    const bindPath = options.bindPath ?? "";
    if (bindPath !== "") {
      Deno.mkdirSync(dirname(bindPath), { recursive: true, mode: 0o700 });
      try {
        Deno.removeSync(bindPath); // stale from an earlier process
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    return Deno.listenDatagram({ transport: "unixpacket", path: bindPath });
  }
  function report(err: unknown) {
    if (failing) return;
    failing = true;
    options.onError?.(err instanceof Error ? err : new Error(String(err)));
  }
}
