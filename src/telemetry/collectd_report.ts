import { encryptPacket, PacketBuilder, signPacket } from "../collectd/mod.ts";
import type { Config } from "../config/mod.ts";
import { rateLimited } from "../log/mod.ts";
import type { Counters, CounterSample, Logger, Stage } from "../model/mod.ts";
import { AGENT_PLUGIN } from "../model/mod.ts";

/** Datagrams of the agent's own figures sent to collectd servers. */
export const REPORT_PACKETS_COUNTER = "edge_agent_telemetry_collectd_packets_total";
/** Datagrams of the agent's own figures that could not be sent. */
export const REPORT_SEND_ERRORS_COUNTER = "edge_agent_telemetry_collectd_send_errors_total";

/** One destination of the own figures (the config's `Telemetry.CollectdServers[i]`). */
export type CollectdTarget = Config["Telemetry"]["CollectdServers"][number];

/** A collectd value list as the encoder takes it. */
export interface OwnValueList {
  host: string;
  plugin: string;
  plugin_instance: string;
  type: string;
  type_instance: string;
  time: number;
  interval: number;
  values: number[];
  dstypes: ("derive" | "gauge")[];
}

/** Sends one datagram; the real one is a UDP socket per address family. */
export type DatagramSend = (bytes: Uint8Array, host: string, port: number) => Promise<void>;

/** Options of {@linkcode createCollectdReport}. */
export interface CollectdReportOptions {
  servers: readonly CollectdTarget[];
  counters: Counters;
  logger: Logger;
  /** The `host` field of the value lists (the agent's host name). */
  hostName: string;
  /** Seconds between reports (also the value lists' interval). */
  intervalS: number;
  /** Called before each report (e.g. to refresh the process gauges). */
  beforeReport?: () => void;
  /** Default: UDP sockets bound to 0.0.0.0 / [::] on a free port. */
  send?: DatagramSend;
  /** Seconds since the epoch. Default: `Date.now() / 1000`. */
  now?: () => number;
}

/** The running reporter; `reportNow` sends one report at once (tests, shutdown). */
export interface CollectdReport extends Stage {
  reportNow(): Promise<void>;
}

/** Longest collectd name (DATA_MAX_NAME_LEN 128 with its NUL). */
const MAX_NAME_BYTES = 127;
const utf8 = new TextEncoder();

/**
 * Turns a sample into a value list: plugin `edge-agent`, plugin_instance the stage (the word
 * after `edge_agent_`), type `derive` for counters and `gauge` for gauges, type_instance the rest
 * of the name without `_total`, followed by the label values joined with `-`:
 * `edge_agent_collectd_dropped_total{reason="bad_signature"}` →
 * `edge-agent-collectd/derive-dropped-bad_signature`.
 */
export function toValueList(
  s: CounterSample,
  hostName: string,
  time: number,
  interval: number,
): OwnValueList {
  const bare = s.name.replace(/^edge_agent_/, "").replace(/_total$/, "");
  const cut = bare.indexOf("_");
  const stage = cut > 0 ? bare.slice(0, cut) : bare;
  const rest = cut > 0 ? bare.slice(cut + 1) : "value";
  const instance = [rest, ...Object.values(s.labels)].join("-");
  const counter = s.kind === "counter";
  return {
    host: hostName,
    plugin: AGENT_PLUGIN,
    plugin_instance: clip(stage),
    type: counter ? "derive" : "gauge",
    type_instance: clip(instance),
    time,
    interval,
    values: [counter ? Math.trunc(s.value) : s.value],
    dstypes: [counter ? "derive" : "gauge"],
  };
}

function clip(s: string): string {
  if (utf8.encode(s).length <= MAX_NAME_BYTES) return s;
  let out = s;
  while (utf8.encode(out).length > MAX_NAME_BYTES) out = out.slice(0, -1);
  return out;
}

/** Packs the value lists into datagrams for one server (signed/encrypted as it asks). */
export function packFor(target: CollectdTarget, lists: readonly OwnValueList[]): Uint8Array[] {
  const user = target.Username ?? "";
  const password = target.Password ?? "";
  const overhead = target.SecurityLevel === "Sign"
    ? 36 + utf8.encode(user).length
    : target.SecurityLevel === "Encrypt"
    ? 42 + utf8.encode(user).length
    : 0;
  const packets: Uint8Array[] = [];
  const builder = new PacketBuilder((p) => packets.push(p), { maxSize: 1452 - overhead });
  for (const l of lists) builder.add(l);
  builder.flush();
  if (target.SecurityLevel === "Sign") return packets.map((p) => signPacket(p, user, password));
  if (target.SecurityLevel === "Encrypt") {
    return packets.map((p) => encryptPacket(p, user, password));
  }
  return packets;
}

/**
 * Reports the agent's own figures (every counter and gauge) to collectd servers every
 * `intervalS` seconds with the network protocol, so a collectd-only shop graphs them like any
 * other plugin. A failing server is logged (at most once a minute per server) and retried at the
 * next report. `stop` is idempotent.
 */
export function createCollectdReport(options: CollectdReportOptions): CollectdReport {
  const log = options.logger;
  const now = options.now ?? (() => Date.now() / 1000);
  let sockets: UdpSockets | undefined;
  const send = options.send ?? ((b, h, p) => (sockets ??= new UdpSockets()).send(b, h, p));
  const sent = options.counters.counter(
    REPORT_PACKETS_COUNTER,
    "Datagrams of the agent's own figures sent to collectd servers.",
  );
  const failed = options.counters.counter(
    REPORT_SEND_ERRORS_COUNTER,
    "Datagrams of the agent's own figures that could not be sent.",
  );
  const warn = rateLimited((key, suppressed) => {
    log.warn("cannot send own figures to collectd server", { server: key, suppressed });
  }, { intervalMs: 60_000 });
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> = Promise.resolve();

  async function report() {
    options.beforeReport?.();
    const t = now();
    const lists = options.counters.snapshot().map((s) =>
      toValueList(s, options.hostName, t, options.intervalS)
    );
    for (const server of options.servers) {
      for (const packet of packFor(server, lists)) {
        try {
          await send(packet, server.Host, server.Port);
          sent.inc();
        } catch (e) {
          failed.inc();
          warn(`${server.Host}:${server.Port} (${(e as Error).message})`);
        }
      }
    }
  }

  return {
    reportNow() {
      running = running.then(report);
      return running;
    },
    start() {
      if (timer === undefined && options.servers.length > 0) {
        timer = setInterval(() => void this.reportNow(), options.intervalS * 1000);
      }
      return Promise.resolve();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
      sockets?.close();
      sockets = undefined;
    },
  };
}

/** One unconnected UDP socket per address family, opened on first use. */
class UdpSockets {
  #v4: Deno.DatagramConn | undefined;
  #v6: Deno.DatagramConn | undefined;

  async send(bytes: Uint8Array, hostname: string, port: number): Promise<void> {
    const v6 = hostname.includes(":");
    const conn = v6
      ? (this.#v6 ??= Deno.listenDatagram({ transport: "udp", hostname: "::", port: 0 }))
      : (this.#v4 ??= Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 }));
    await conn.send(bytes, { transport: "udp", hostname: hostname.replace(/^\[|\]$/g, ""), port });
  }

  close(): void {
    for (const c of [this.#v4, this.#v6]) {
      try {
        c?.close();
      } catch { /* already closed */ }
    }
  }
}
