/**
 * A real collectd under a test "service manager" and a UDP listener standing in for the agent,
 * for the replacer's tests (replace_test.ts, send_config_test.ts).
 * @module
 */
import { join } from "node:path";
import {
  type CollectdServiceSettings,
  createConfigReplacer,
  createMetricsProbe,
  type MetricsSeen,
  type RunLike,
} from "../../../src/collectd_conf/replace/mod.ts";
import { decodePacket } from "../../../src/collectd/mod.ts";
import { createCounters, type Logger, type LogLevel, type Metric } from "../../../src/model/mod.ts";

const DATA = new URL("../../testdata/collectd_conf/replace_config/", import.meta.url).pathname;
export const CTL = join(DATA, "collectdctl.sh");
const CTL_DAEMON = join(DATA, "collectdctl-daemon.sh");
const TEMPLATE = await Deno.readTextFile(join(DATA, "collectd.conf.in"));
export const SECRET = "s3cret-" + crypto.randomUUID();
/** Long enough for a restarted collectd (Interval 1) to send its first packet. */
export const TIMEOUT_MS = 8000;

export interface Stand {
  daemon: boolean;
  dir: string;
  conf: string;
  pidFile: string;
  port: number;
  render(o: { host: string; interval?: number; server?: string }): string;
  run(command: string): Promise<RunLike>;
  /** Newest time (ms) a value list (from `host`) arrived, or 0. */
  lastPacket(host?: string): number;
  /** What the agent's intake would be given: createMetricsProbe fed by decodePacket. */
  metricsSeen: MetricsSeen;
  /** The interval (s) of the newest value list from `host`. */
  interval(host: string): number | undefined;
  waitPacket(host: string, after: number, timeoutMs?: number): Promise<boolean>;
  pid(): Promise<number | null>;
  close(): Promise<void>;
}

/**
 * A collectd for one test. Default: `collectd -f` managed by collectdctl.sh, which writes the pid
 * file (PIDPath). `daemon`: plain `collectd -C` (it forks and writes its config's PIDFile itself,
 * and the start command exits 0 even when the daemon dies), managed by collectdctl-daemon.sh.
 */
export async function openStand(host = "hostA", mode: { daemon?: boolean } = {}): Promise<Stand> {
  const dir = await Deno.makeTempDir({ prefix: "replace_config_" });
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  const last = new Map<string, number>();
  const intervals = new Map<string, number>();
  const probe = createMetricsProbe();
  const visitor = {
    metric(m: Metric) {
      probe.saw(m.host);
      last.set(m.host, Date.now());
      intervals.set(m.host, m.interval);
    },
    notification() {},
  };
  const receiving = (async () => {
    try {
      for await (const [bytes] of socket) decodePacket(bytes, visitor);
    } catch { /* closed */ }
  })();
  const conf = join(dir, "collectd.conf");
  const pidFile = join(dir, mode.daemon ? "collectd-daemon.pid" : "collectd.pid");
  const log = join(dir, "collectd.log");
  const render = (o: { host: string; interval?: number; server?: string }) =>
    TEMPLATE.replaceAll("{{SECRET}}", SECRET).replaceAll("{{HOST}}", o.host)
      .replaceAll("{{DIR}}", dir).replaceAll("{{INTERVAL}}", String(o.interval ?? 1))
      .replaceAll("{{SERVER}}", o.server ?? "127.0.0.1").replaceAll("{{PORT}}", String(port));
  const run = async (command: string): Promise<RunLike> => {
    const out = await new Deno.Command("/bin/sh", {
      args: mode.daemon ? [CTL_DAEMON, command, conf, log] : [CTL, command, conf, pidFile, log],
      stdin: "null",
    }).output();
    const message = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { result: { code: out.code, message } };
  };
  const lastPacket = (h?: string) =>
    h === undefined ? Math.max(0, ...last.values()) : last.get(h) ?? 0;
  const stand: Stand = {
    daemon: mode.daemon === true,
    dir,
    conf,
    pidFile,
    port,
    render,
    run,
    lastPacket,
    metricsSeen: probe.seen,
    interval: (h) => intervals.get(h),
    async waitPacket(h, after, timeoutMs = TIMEOUT_MS) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (lastPacket(h) > after) return true;
        await sleep(100);
      }
      return false;
    },
    async pid() {
      try {
        return Number((await Deno.readTextFile(pidFile)).trim());
      } catch {
        return null;
      }
    },
    async close() {
      await run("stop");
      socket.close();
      await receiving;
      await Deno.remove(dir, { recursive: true });
    },
  };
  await Deno.writeTextFile(conf, render({ host }), { mode: 0o640 });
  await Deno.chmod(conf, 0o640);
  const started = Date.now();
  await run("start");
  if (!await stand.waitPacket(host, started)) {
    await stand.close();
    throw new Error("the test's collectd sent nothing: is /usr/sbin/collectd (5.12) installed?");
  }
  return stand;
}

export interface Captured {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown> | undefined;
}

export function captureLogger(events: Captured[]): Logger {
  const at = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) =>
    void events.push({ level, msg, fields });
  const logger: Logger = {
    fatal: at("fatal"),
    error: at("error"),
    warn: at("warn"),
    info: at("info"),
    debug: at("debug"),
    enabled: () => true,
    child: () => logger,
  };
  return logger;
}

export function service(stand: Stand): CollectdServiceSettings {
  return {
    commands: {
      restart: `/bin/sh ${CTL} restart`,
      start: `/bin/sh ${CTL} start`,
      stop: `/bin/sh ${CTL} stop`,
    },
    ConfigPath: stand.conf,
    // A daemon's pid file is found from each config's PIDFile, as with no PIDPath in production.
    ...(stand.daemon ? {} : { PIDPath: stand.pidFile }),
  };
}

export function replacerFor(
  stand: Stand,
  events: Captured[] = [],
  stateDir = join(stand.dir, "state"),
) {
  return createConfigReplacer({
    service: service(stand),
    stateDir,
    logger: captureLogger(events),
    counters: createCounters(),
    run: stand.run,
    metricsSeen: stand.metricsSeen,
    timeoutMs: TIMEOUT_MS,
    pollMs: 100,
  });
}

export function alive(pid: number | null): boolean {
  if (pid === null) return false;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const message = (config: string, task_id: number | string = 1) => ({
  task_id,
  timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  config,
});
