import type { Config } from "../config/mod.ts";
import type { Counters, Logger, Stage } from "../model/mod.ts";
import { AuthFiles } from "./_auth_files.ts";
import { dropLog } from "./_drop_log.ts";
import { parseRmemDefault, receiveBufferLine, RMEM_DEFAULT_ENV } from "./_receive_buffer.ts";
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
  /**
   * net.core.rmem_default as the launcher read it (`$EDGE_AGENT_RMEM_DEFAULT`, the default):
   * the receive buffer a socket gets, which the agent cannot read itself under its flags.
   */
  rmemDefault?: string | undefined;
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
  const auth = new AuthFiles(listen.map((e) => e.AuthFile), log, options.readTextFile);
  let authTimer: ReturnType<typeof setInterval> | undefined;
  const bound: Deno.NetAddr[] = [];
  let stopped = false;
  let from: Deno.NetAddr = { transport: "udp", hostname: "", port: 0 };
  let entry = "";
  const logs = dropLog(log, options.logIntervalMs ?? 10_000);
  const sink: UnwrapSink = {
    segment(plain, n) {
      values.inc(n);
      options.onPacket(plain, from);
    },
    drop(reason, n) {
      dropped[reason].inc();
      if (n > 0) droppedValues.inc(n);
      logs.dropped(from.hostname, reason, entry);
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
        logs.failed(`receive failed on ${name}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 10)); // a persistent error must not spin
        continue;
      }
      packets.inc();
      bytes.inc(got[0].length);
      from = got[1] as Deno.NetAddr;
      entry = name;
      try {
        unwrapPacket(got[0], e.SecurityLevel, auth.users[index]!, sink, scratch);
      } catch (err) {
        // onPacket threw: the consumer's bug, not the packet's; keep receiving
        logs.failed(`collectd packet handler failed: ${(err as Error)?.message ?? err}`);
      }
    }
  }

  const intake: Intake = {
    bound,
    async start() {
      await auth.load();
      const rmemDefault = parseRmemDefault(
        "rmemDefault" in options ? options.rmemDefault : Deno.env.get(RMEM_DEFAULT_ENV),
      );
      for (const [i, e] of listen.entries()) {
        const wanted = e.ReceiveBuffer ?? DEFAULT_RECEIVE_BUFFER;
        let s;
        try {
          s = await openSocket(e.Host, e.Port, {
            receiveBuffer: wanted,
            interface: e.Interface,
            rmemDefault,
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
        // one line per socket: the buffer it got, a warning with the fix when below what it wants
        const line = receiveBufferLine(`${addr.hostname}:${addr.port}`, s.buffer, {
          wanted,
          explicit: e.ReceiveBuffer !== undefined,
        });
        log[line.level](line.msg, line.fields);
        log.info("listening for collectd packets", {
          addr: `${addr.hostname}:${addr.port}`,
          security: e.SecurityLevel,
          ...(s.multicast ? { multicast: true } : {}),
          ...(s.buffer.bytes !== null ? { receiveBuffer: s.buffer.bytes } : {}),
          ...(auth.users[i] ? { users: auth.users[i]!.size } : {}),
        });
        loop(s.conn, i, e);
      }
      const timer = setInterval(() => auth.reloadChanged(), options.authCheckMs ?? 5000);
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
