import { dirname } from "node:path";

/**
 * The agent's side of systemd's notify protocol (sd_notify(3)): newline-separated `KEY=VALUE`
 * assignments in one datagram to the unix socket named by `$NOTIFY_SOCKET` (a path, or `@name`
 * for the abstract namespace). Used with `Type=notify` and `WatchdogSec=` in the unit.
 */

/** Options of {@linkcode createSystemdNotifier}. Every default reads the environment. */
export interface SystemdNotifierOptions {
  /** `$NOTIFY_SOCKET`; unset or empty: not started by systemd, every call does nothing. */
  socket?: string | undefined;
  /** `$WATCHDOG_USEC`: the unit's WatchdogSec in microseconds; unset: no watchdog. */
  watchdogUsec?: string | undefined;
  /** `$WATCHDOG_PID`: when set and not this process, the watchdog is someone else's. */
  watchdogPid?: string | undefined;
  /**
   * Where this end of the datagram socket is bound. Deno autobinds (an empty path) only with
   * every permission granted, so under least-privilege flags it must be a path the process may
   * use (the agent: `<StateDir>/notify.sock`, granted by src/permissions/). Its folder
   * is created when missing; a stale file there is replaced. Default: "" (autobind an abstract address).
   */
  bindPath?: string;
  /** Told about a failed send (the agent keeps running); default: ignore. */
  onError?: (error: Error) => void;
}

/** Reports the agent's state to systemd. Calls never throw; failures go to `onError`. */
export interface SystemdNotifier {
  /** Whether `$NOTIFY_SOCKET` was set (otherwise every call is a no-op). */
  readonly enabled: boolean;
  /** How often to send WATCHDOG=1 (half of WatchdogSec), or null when there is no watchdog. */
  readonly watchdogIntervalMs: number | null;
  /** `READY=1` (+ `STATUS=`): start-up finished, the listeners are bound. */
  ready(status?: string): Promise<void>;
  /** `WATCHDOG=1`: still alive. */
  watchdog(): Promise<void>;
  /** Sends WATCHDOG=1 every `watchdogIntervalMs` until `close` (nothing without a watchdog). */
  startWatchdog(): void;
  /** `RELOADING=1` before a SIGHUP reload; call `ready()` after it. */
  reloading(): Promise<void>;
  /** `STOPPING=1`: shutdown has begun. */
  stopping(status?: string): Promise<void>;
  /** `STATUS=…`: a one-line status shown by `systemctl status`. */
  status(text: string): Promise<void>;
  /** Stops the watchdog timer, closes and removes the socket. Idempotent. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/** Creates the notifier; it binds its socket on the first message. */
export function createSystemdNotifier(options: SystemdNotifierOptions = {}): SystemdNotifier {
  const env = (name: string) => Deno.env.get(name);
  const socket = "socket" in options ? options.socket : env("NOTIFY_SOCKET");
  const usec = "watchdogUsec" in options ? options.watchdogUsec : env("WATCHDOG_USEC");
  const wdPid = "watchdogPid" in options ? options.watchdogPid : env("WATCHDOG_PID");
  const bindPath = options.bindPath ?? "";
  const onError = options.onError ?? (() => {});
  const enabled = socket !== undefined && socket !== "";
  const target = enabled ? socketAddress(socket) : "";
  const intervalMs = watchdogInterval(usec, wdPid);

  let conn: Deno.DatagramConn | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  function open(): Deno.DatagramConn {
    if (conn) return conn;
    if (bindPath !== "") {
      Deno.mkdirSync(dirname(bindPath), { recursive: true, mode: 0o700 });
      try {
        Deno.removeSync(bindPath);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    conn = Deno.listenDatagram({ transport: "unixpacket", path: bindPath });
    return conn;
  }

  async function send(message: string): Promise<void> {
    if (!enabled || closed) return;
    try {
      await open().send(encoder.encode(message), { transport: "unixpacket", path: target });
    } catch (e) {
      onError(
        new Error(
          `Cannot notify systemd at ${socket} (${message.split("\n")[0]}): ` +
            (e as Error).message,
          { cause: e },
        ),
      );
    }
  }

  const withStatus = (line: string, status?: string) =>
    status === undefined ? line : `${line}\nSTATUS=${status.replaceAll("\n", " ")}`;

  return {
    enabled,
    watchdogIntervalMs: enabled ? intervalMs : null,
    ready: (status) => send(withStatus("READY=1", status)),
    watchdog: () => send("WATCHDOG=1"),
    startWatchdog() {
      if (!enabled || intervalMs === null || timer !== undefined || closed) return;
      timer = setInterval(() => void send("WATCHDOG=1"), intervalMs);
    },
    reloading: () => send("RELOADING=1"),
    stopping: (status) => send(withStatus("STOPPING=1", status)),
    status: (text) => send(`STATUS=${text.replaceAll("\n", " ")}`),
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      if (conn) {
        conn.close();
        conn = null;
        if (bindPath !== "") {
          try {
            Deno.removeSync(bindPath);
          } catch {
            // already gone
          }
        }
      }
      return Promise.resolve();
    },
  };
}

/** `@name` is the abstract namespace (a leading NUL byte); anything else is a path. */
export function socketAddress(socket: string): string {
  return socket.startsWith("@") ? `\0${socket.slice(1)}` : socket;
}

/** Half of `$WATCHDOG_USEC` in ms (sd_watchdog_enabled's advice), or null without a watchdog. */
export function watchdogInterval(
  usec: string | undefined,
  watchdogPid: string | undefined,
  pid: number = Deno.pid,
): number | null {
  if (usec === undefined || !/^\d+$/.test(usec) || Number(usec) === 0) return null;
  if (watchdogPid !== undefined && watchdogPid !== "" && Number(watchdogPid) !== pid) return null;
  return Math.max(1, Math.floor(Number(usec) / 2000));
}
