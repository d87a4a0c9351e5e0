import type { Config } from "../config/mod.ts";
import { rateLimited } from "../log/rate_limit.ts";
import type { Counters, Logger, Stage } from "../model/mod.ts";
import { type AuthUsers, loadAuthFile } from "./auth_file.ts";
import { openSocket } from "./_socket.ts";
import { intakeCounters } from "./counters.ts";
import { unwrapPacket, type UnwrapSink } from "./unwrap.ts";

/** Default socket receive buffer (SO_RCVBUF) when a Listen entry sets none: 4 MiB. */
export const DEFAULT_RECEIVE_BUFFER = 4 * 1024 * 1024;

/** Options of {@linkcode createIntake}. */
export interface IntakeOptions {
  logger: Logger;
  counters: Counters;
  /**
   * Accepted plaintext (verified/decrypted, structurally valid), to decode with
   * `decodePacket` (fresh delta state per call). `plain` may view a reused buffer: valid only
   * during the call. One datagram gives one call, or more when it mixes security parts.
   */
  onPacket(plain: Uint8Array, from: Deno.NetAddr): void;
  /** For tests: AuthFile reader. */
  readTextFile?: (path: string) => Promise<string>;
  /** Milliseconds between two log lines per source address and reason. Default 10 000. */
  logIntervalMs?: number;
  /**
   * Milliseconds between checks of the AuthFiles' modification time; a changed file is re-read
   * (like collectd, which re-reads it when it changes). Default 5 000.
   */
  authCheckMs?: number;
}

/** The intake stage: UDP sockets of every Listen entry → security → `onPacket`. */
export type Intake = Stage & { readonly bound: Deno.NetAddr[] };

/**
 * Receives collectd datagrams on every `Listen` entry, applies the entry's SecurityLevel with its
 * AuthFile's users, validates the structure, counts packets, values and drops (per reason) and
 * forwards the accepted plaintext. Bad datagrams are logged rate-limited with the source address
 * and the reason. `start` resolves once every socket is bound; it rejects naming the entry that
 * failed (nothing stays bound). `stop` closes every socket; it is idempotent.
 */
export function createIntake(listen: Config["Listen"], options: IntakeOptions): Intake {
  const log = options.logger;
  const { packets, bytes, values, dropped, droppedValues } = intakeCounters(options.counters);
  const conns: Deno.DatagramConn[] = [];
  const users: (AuthUsers | null)[] = [];
  const mtimes: (number | null)[] = [];
  let authTimer: ReturnType<typeof setInterval> | undefined;
  const bound: Deno.NetAddr[] = [];
  let stopped = false;
  let from: Deno.NetAddr = { transport: "udp", hostname: "", port: 0 };
  let entry = "";
  const logInterval = options.logIntervalMs ?? 10_000;
  // Per source address and reason at most one line per interval, and at most MAX_LINES lines
  // per interval overall (spoofed source addresses must not flood the log either).
  const MAX_LINES = 50;
  let windowStart = 0;
  let windowLines = 0;
  const warn = rateLimited((key, suppressed) => {
    const now = Date.now();
    if (now - windowStart >= logInterval) windowStart = now, windowLines = 0;
    if (++windowLines > MAX_LINES) return;
    const [source, reason, at] = key.split("|");
    log.warn("dropped collectd packet", {
      from: source,
      reason,
      listen: at,
      ...(suppressed > 0 ? { suppressed } : {}),
      ...(windowLines === MAX_LINES ? { note: "more bad packets: log lines paused" } : {}),
    });
  }, { intervalMs: logInterval });
  const complain = rateLimited((key, suppressed) => {
    log.error(key, suppressed > 0 ? { suppressed } : {});
  }, { intervalMs: logInterval });
  const sink: UnwrapSink = {
    segment(plain, n) {
      values.inc(n);
      options.onPacket(plain, from);
    },
    drop(reason, n) {
      dropped[reason].inc();
      if (n > 0) droppedValues.inc(n);
      warn(`${from.hostname}|${reason}|${entry}`);
    },
  };

  async function loop(conn: Deno.DatagramConn, index: number, e: typeof listen[number]) {
    const buffer = new Uint8Array(65536);
    const scratch: Uint8Array[] = [];
    const name = `${e.Host}:${e.Port}`;
    while (!stopped) {
      let got: [Uint8Array, Deno.Addr];
      try {
        got = await conn.receive(buffer);
      } catch (err) {
        if (stopped || err instanceof Deno.errors.BadResource) return;
        complain(`receive failed on ${name}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 10)); // a persistent error must not spin
        continue;
      }
      packets.inc();
      bytes.inc(got[0].length);
      from = got[1] as Deno.NetAddr;
      entry = name;
      try {
        unwrapPacket(got[0], e.SecurityLevel, users[index]!, sink, scratch);
      } catch (err) {
        // onPacket threw: the consumer's bug, not the packet's; keep receiving
        complain(`collectd packet handler failed: ${(err as Error)?.message ?? err}`);
      }
    }
  }

  function mtime(path: string): number | null {
    try {
      return Deno.statSync(path).mtime?.getTime() ?? null;
    } catch {
      return null;
    }
  }

  async function reloadAuthFiles() {
    for (const [i, e] of listen.entries()) {
      if (e.AuthFile === undefined) continue;
      const m = mtime(e.AuthFile);
      if (m === mtimes[i]) continue;
      mtimes[i] = m;
      try {
        users[i] = await loadAuthFile(e.AuthFile, options.readTextFile);
        log.info("AuthFile re-read", { path: e.AuthFile, users: users[i]!.size });
      } catch (err) {
        log.error("AuthFile changed but cannot be read; keeping the previous users", {
          path: e.AuthFile,
          error: err,
        });
      }
    }
  }

  const intake: Intake = {
    bound,
    async start() {
      const read = options.readTextFile;
      for (const e of listen) {
        users.push(e.AuthFile === undefined ? null : await loadAuthFile(e.AuthFile, read));
        mtimes.push(e.AuthFile === undefined ? null : mtime(e.AuthFile));
      }
      for (const [i, e] of listen.entries()) {
        let s;
        try {
          s = await openSocket(e.Host, e.Port, {
            receiveBuffer: e.ReceiveBuffer ?? DEFAULT_RECEIVE_BUFFER,
            interface: e.Interface,
          });
        } catch (err) {
          await intake.stop();
          throw new Error(`Cannot listen on ${e.Host}:${e.Port}: ${(err as Error).message}`, {
            cause: err,
          });
        }
        conns.push(s.conn);
        const addr = s.conn.addr as Deno.NetAddr;
        bound.push(addr);
        if (s.receiveBufferNote) {
          // an explicit ReceiveBuffer the agent cannot apply is a warning; the default, info
          log[e.ReceiveBuffer === undefined ? "info" : "warn"]("receive buffer not applied", {
            note: s.receiveBufferNote,
          });
        }
        log.info("listening for collectd packets", {
          addr: `${addr.hostname}:${addr.port}`,
          security: e.SecurityLevel,
          ...(s.multicast ? { multicast: true } : {}),
          ...(s.receiveBuffer !== null ? { receiveBuffer: s.receiveBuffer } : {}),
          ...(users[i] ? { users: users[i]!.size } : {}),
        });
        loop(s.conn, i, e);
      }
      const timer = setInterval(reloadAuthFiles, options.authCheckMs ?? 5000);
      Deno.unrefTimer(timer);
      authTimer = timer;
    },
    stop() {
      stopped = true;
      clearInterval(authTimer);
      for (const conn of conns.splice(0)) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      return Promise.resolve();
    },
  };
  return intake;
}
