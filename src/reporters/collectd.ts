import { encodeNotification, encryptPacket, signPacket } from "../collectd/mod.ts";
import {
  AGENT_PLUGIN,
  type Logger,
  type Notification,
  type Reporter,
  type RunRecord,
  Severity,
} from "../model/mod.ts";
import { triggerName } from "./log.ts";

/** One collectd server to notify (the config's `NotifyServers` entries). */
export interface NotifyServer {
  Host: string;
  Port: number;
  SecurityLevel: "None" | "Sign" | "Encrypt";
  Username?: string | undefined;
  Password?: string | undefined;
}

/** Options of {@linkcode createCollectdReporter}. */
export interface CollectdReporterOptions {
  /** The notification's host field. Default: Deno.hostname(). */
  hostname?: string;
  /** Send failures are logged here (rate-limited per server), never thrown. */
  logger?: Logger;
  /** Sends one datagram. Default: a UDP socket bound to an ephemeral port. */
  send?: (bytes: Uint8Array, server: NotifyServer) => Promise<void>;
}

/** collectd's limits: names are char[128] and messages char[256], NUL included. */
const NAME_MAX = 127;
const MESSAGE_MAX = 255;

/**
 * Sends every record as a collectd notification (network protocol) to each server: severity
 * OKAY on code 0, FAILURE otherwise; plugin `edge-agent`, plugin_instance the service, type the
 * trigger (rule handler name, `remote` or `cli`), type_instance the command; the message a JSON
 * summary cut to collectd's 255 bytes. Signed or encrypted per the server's SecurityLevel.
 */
export function createCollectdReporter(
  servers: readonly NotifyServer[],
  options: CollectdReporterOptions = {},
): Reporter {
  for (const s of servers) {
    if (s.SecurityLevel !== "None" && (s.Username === undefined || s.Password === undefined)) {
      throw new TypeError(
        `NotifyServers ${s.Host}:${s.Port}: SecurityLevel ${s.SecurityLevel} needs Username and Password`,
      );
    }
  }
  const host = options.hostname ?? Deno.hostname();
  const udp = options.send ? null : udpSender();
  const send = options.send ?? udp!.send;
  const lastError = new Map<string, number>();
  return {
    name: "collectd",
    async report(r: RunRecord) {
      if (servers.length === 0) return;
      const payload = encodeNotification(notificationOf(r, host));
      await Promise.all(servers.map(async (s) => {
        const bytes = s.SecurityLevel === "Sign"
          ? signPacket(payload, s.Username!, s.Password!)
          : s.SecurityLevel === "Encrypt"
          ? encryptPacket(payload, s.Username!, s.Password!)
          : payload;
        try {
          await send(bytes, s);
        } catch (e) {
          const id = `${s.Host}:${s.Port}`;
          const t = Date.now();
          if (t - (lastError.get(id) ?? 0) > 60_000) {
            lastError.set(id, t);
            options.logger?.error("cannot send the result notification to collectd", {
              server: id,
              error: (e as Error).message,
            });
          }
        }
      }));
    },
    close() {
      udp?.close();
      return Promise.resolve();
    },
  };
}

/** The collectd notification of a record (pure). */
export function notificationOf(r: RunRecord, host: string): Notification {
  const time = Date.parse(r.result.timestamp);
  return {
    host: cut(host, NAME_MAX),
    plugin: AGENT_PLUGIN,
    plugin_instance: cut(r.service, NAME_MAX),
    type: cut(r.trigger.kind === "rule" ? r.trigger.handler : r.trigger.kind, NAME_MAX),
    type_instance: cut(r.command, NAME_MAX),
    time: Number.isFinite(time) ? time / 1000 : Date.now() / 1000,
    severity: r.result.code === 0 ? Severity.OKAY : Severity.FAILURE,
    message: summary(r),
  };
}

/**
 * `{"task_id":…,"trigger":…,"service":…,"command":…,"code":…,"message":"<output>"}`, with the
 * output (then the other strings) shortened so the JSON stays valid and within 255 bytes.
 */
export function summary(r: RunRecord): string {
  const s = {
    task_id: r.result.task_id,
    trigger: triggerName(r.trigger),
    service: r.service,
    command: r.command,
    code: r.result.code,
    message: r.result.message,
  };
  let text = JSON.stringify(s);
  if (bytes(text) <= MESSAGE_MAX) return text;
  for (const key of ["message", "trigger", "service", "command"] as const) {
    let lo = 0;
    let hi = s[key].length;
    const full = s[key];
    while (lo < hi) { // longest prefix that fits
      const mid = Math.ceil((lo + hi) / 2);
      s[key] = cutChars(full, mid);
      if (bytes(JSON.stringify(s)) <= MESSAGE_MAX) lo = mid;
      else hi = mid - 1;
    }
    s[key] = cutChars(full, lo);
    text = JSON.stringify(s);
    if (bytes(text) <= MESSAGE_MAX) return text;
  }
  return text.slice(0, MESSAGE_MAX);
}

const encoder = new TextEncoder();
const bytes = (s: string) => encoder.encode(s).length;

/** The first `n` UTF-16 units of `s`, never splitting a surrogate pair. */
function cutChars(s: string, n: number): string {
  if (n >= s.length) return s;
  const code = s.charCodeAt(n - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

/** `s` cut to at most `max` UTF-8 bytes. */
function cut(s: string, max: number): string {
  if (bytes(s) <= max) return s;
  let n = Math.min(s.length, max);
  while (n > 0 && bytes(cutChars(s, n)) > max) n--;
  return cutChars(s, n);
}

/**
 * One unconnected UDP socket per address family, bound to an ephemeral port on the wildcard
 * address (`0.0.0.0:0`, `[::]:0` for IPv6 literals: the net permissions a restricted
 * `--allow-net` must grant besides each server's `host:port`). Host names are resolved by Deno.
 */
function udpSender() {
  const sockets = new Map<"v4" | "v6", Deno.DatagramConn>();
  const socket = (v6: boolean) => {
    const family = v6 ? "v6" : "v4";
    let conn = sockets.get(family);
    if (!conn) {
      conn = Deno.listenDatagram({ transport: "udp", hostname: v6 ? "::" : "0.0.0.0", port: 0 });
      sockets.set(family, conn);
    }
    return conn;
  };
  return {
    async send(bytes: Uint8Array, s: NotifyServer) {
      const host = s.Host.replace(/^\[|\]$/g, "");
      await socket(host.includes(":")).send(bytes, {
        transport: "udp",
        hostname: host,
        port: s.Port,
      });
    },
    close() {
      for (const c of sockets.values()) c.close();
      sockets.clear();
    },
  };
}
