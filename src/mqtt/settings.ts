import { dirname, resolve } from "node:path";
import type { Config } from "../config/mod.ts";
import { expandTopic } from "./topics.ts";

/** One broker address. */
export interface BrokerEndpoint {
  host: string;
  port: number;
}

/** PEM contents for TLS (files already read). */
export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
}

/** Everything needed to open the broker connection, independent of config.json's shape. */
export interface BrokerSettings {
  /** Tried in order; the next one on failure (redundant brokers). */
  endpoints: BrokerEndpoint[];
  username?: string;
  password?: string;
  /** TLS material when `Secure`; undefined means plain TCP. */
  tls?: TlsMaterial;
  clientId: string;
  clean: boolean;
  reconnectMs: number;
  protocolVersion: 4 | 5;
  connectTimeoutMs: number;
  keepaliveS: number;
}

/**
 * Parses `host`, `host:port` or `[v6addr]:port` (`mqtt://`/`mqtts://` prefixes accepted as the
 * Lua plugin's URIs). The port defaults to 1883, or 8883 with TLS.
 */
export function parseEndpoint(text: string, secure: boolean): BrokerEndpoint {
  const s = text.replace(/^mqtts?:\/\//, "").replace(/\/$/, "");
  const fallback = secure ? 8883 : 1883;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  let host: string;
  let port: string | undefined;
  if (v6) [, host = "", port] = v6;
  else if ((s.match(/:/g) ?? []).length === 1) [host = "", port] = s.split(":");
  else host = s;
  const n = port === undefined ? fallback : Number(port);
  if (host === "" || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new RangeError(`Invalid broker address "${text}": expected host, host:port or [v6]:port`);
  }
  return { host, port: n };
}

/** The agent's host name: `HostName` from the config, else the OS host name. */
export function agentHostName(config: Pick<Config, "HostName">): string {
  return config.HostName ?? Deno.hostname();
}

/** Reads a file for BrokerSettings (passed in for tests). */
export type ReadTextFile = (path: string) => Promise<string>;

/**
 * Builds BrokerSettings from a config: endpoints parsed, `{host}` expanded in the client id,
 * TLS files read (relative paths are relative to the config file's folder).
 * Throws with the file named when a TLS file cannot be read.
 */
export async function brokerSettings(
  config: Config,
  hostName: string,
  readTextFile: ReadTextFile = Deno.readTextFile,
): Promise<BrokerSettings> {
  if (config.Host === undefined) throw new TypeError("No MQTT Host configured (local-only mode)");
  const base = config.source ? dirname(config.source) : Deno.cwd();
  const read = async (key: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    const file = resolve(base, path);
    try {
      return await readTextFile(file);
    } catch (e) {
      throw new Error(`Cannot read ${key} ${file}: ${(e as Error).message}`, { cause: e });
    }
  };
  let tls: TlsMaterial | undefined;
  if (config.Secure) {
    tls = {};
    const ca = config.CAFile !== undefined
      ? await read("CAFile", config.CAFile)
      : await systemCaBundle(readTextFile);
    const cert = await read("CertFile", config.CertFile);
    const key = await read("KeyFile", config.KeyFile);
    if (ca !== undefined) tls.ca = ca;
    if (cert !== undefined) tls.cert = cert;
    if (key !== undefined) tls.key = key;
    if (config.ServerName !== undefined) tls.servername = config.ServerName;
    if ((cert === undefined) !== (key === undefined)) {
      throw new Error("Mutual TLS needs both CertFile and KeyFile");
    }
  }
  const settings: BrokerSettings = {
    endpoints: [config.Host].flat().map((h) => parseEndpoint(h, config.Secure)),
    clientId: expandTopic(config.ClientId, hostName),
    clean: config.CleanSession,
    reconnectMs: Math.round(config.ReconnectInterval * 1000),
    protocolVersion: config.ProtocolVersion,
    connectTimeoutMs: 10_000,
    keepaliveS: 30,
  };
  if (config.User !== undefined) settings.username = config.User;
  if (config.Password !== undefined) settings.password = config.Password;
  if (tls) settings.tls = tls;
  return settings;
}

/** Where distributions keep the system's CA bundle (Debian/Ubuntu, RHEL/Fedora, openSUSE). */
export const SYSTEM_CA_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
];

/** The system CA bundle's PEM, or undefined (then Deno's built-in roots apply). */
async function systemCaBundle(readTextFile: ReadTextFile): Promise<string | undefined> {
  for (const path of SYSTEM_CA_BUNDLES) {
    try {
      return await readTextFile(path);
    } catch (e) {
      // not on this distribution: the next. A denied read must not fall back to Deno's roots.
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new Error(`Cannot read the system CA bundle ${path}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
  }
  return undefined;
}
