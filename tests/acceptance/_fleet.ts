/**
 * The world around one installed agent: a real mosquitto (plus a second listener the config does
 * not name, and a dead broker address first in `Host`), a real collectd 5.12 sending to the
 * agent, a rule, and the fleet config the package is built from. Loopback, free ports, a temp
 * folder; `close()` stops and removes everything.
 */
import { join } from "node:path";
import { freeTcpPort, freeUdpPort } from "../_helpers/ports.ts";
import { type Mosquitto, PASSWORD, startMosquitto, USER } from "../_helpers/mosquitto.ts";
import { start } from "../_helpers/run.ts";

export const HOST_NAME = "acc-edge";
export const COMMAND_TOPIC = `edge/${HOST_NAME}/command`;
export const RESULT_TOPIC = `edge/${HOST_NAME}/result`;
export const COLLECTD = "/usr/sbin/collectd";

export interface Fleet {
  dir: string;
  broker: Mosquitto;
  /** A listener of the same broker that the config does not name (send-command --host). */
  otherBroker: string;
  listenPort: number;
  /** Telemetry.Listen's port (/metrics, /healthz). */
  telemetryPort: number;
  /** collectd's folder, its collectd.conf and the pid file of a daemonized one. */
  collectdDir: string;
  conf: string;
  pidFile: string;
  rules: string;
  marker: string;
  /** The fleet config file the package is built from. */
  configFile: string;
  /** collectd.conf text: Hostname `host`, Interval 1, load+memory, sending to the agent. */
  collectdConf(host: string): string;
  /** Publishes with mosquitto_pub (QoS 1). */
  publish(topic: string, message: unknown): Promise<void>;
  /** mosquitto_sub on `topic` until `count` messages or `seconds`. */
  subscribe(topic: string, count: number, seconds: number): ReturnType<typeof start>;
  close(): Promise<void>;
}

/** What the fleet config says beside the broker, listener and topics. */
export type FleetServices = (f: Pick<Fleet, "dir" | "conf" | "pidFile" | "marker">) => unknown;

export async function openFleet(services: FleetServices): Promise<Fleet> {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-acceptance-" });
  const otherPort = freeTcpPort();
  const broker = await startMosquitto({ extra: [`listener ${otherPort} 127.0.0.1`] });
  const listenPort = freeUdpPort();
  const telemetryPort = freeTcpPort();
  const collectdDir = join(dir, "collectd");
  const rules = join(dir, "rules");
  await Deno.mkdir(collectdDir);
  await Deno.mkdir(rules);
  const conf = join(collectdDir, "collectd.conf");
  const pidFile = join(collectdDir, "collectd.pid");
  const marker = join(dir, "marker");
  await Deno.writeTextFile(
    join(rules, "acceptance_repair.ts"),
    `// Repairs once when collectd's load values of host acc-host arrive (the acceptance suite).
export const metrics = {
  load_seen(metric: { host: string; plugin: string }) {
    if (metric.host === "acc-host" && metric.plugin === "load") {
      return { service: "repair", command: "run" };
    }
  },
};
`,
  );
  const configFile = join(dir, "fleet.json");
  await Deno.writeTextFile(
    configFile,
    JSON.stringify(
      {
        HostName: HOST_NAME,
        // a dead broker first: the agent fails over to the live one
        Host: [`127.0.0.1:${freeTcpPort()}`, broker.address],
        User: USER,
        Password: PASSWORD,
        QoS: 1,
        ReconnectInterval: 1,
        CommandTopic: "edge/{host}/command",
        CommandResultTopic: "edge/{host}/result",
        // relative, as in lua-collectd-monitor's sample: the package maps it to /var/lib
        StateDir: "state",
        Listen: [{ Host: "127.0.0.1", Port: listenPort }],
        Telemetry: { Listen: `127.0.0.1:${telemetryPort}` },
        Services: services({ dir, conf, pidFile, marker }),
      },
      null,
      2,
    ),
  );
  const collectdConf = (host: string) =>
    `Hostname "${host}"
FQDNLookup false
BaseDir "${collectdDir}"
PIDFile "${pidFile}"
Interval 1
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "${join(collectdDir, "collectd.log")}"
</Plugin>
LoadPlugin load
LoadPlugin memory
LoadPlugin network
<Plugin network>
  Server "127.0.0.1" "${listenPort}"
</Plugin>
`;
  await Deno.writeTextFile(conf, collectdConf("acc-host"), { mode: 0o640 });
  const mqttArgs = ["-h", "127.0.0.1", "-p", String(broker.port), "-u", USER, "-P", PASSWORD];
  return {
    dir,
    broker,
    otherBroker: `127.0.0.1:${otherPort}`,
    listenPort,
    telemetryPort,
    collectdDir,
    conf,
    pidFile,
    rules,
    marker,
    configFile,
    collectdConf,
    async publish(topic, message) {
      const out = await new Deno.Command("/usr/bin/mosquitto_pub", {
        args: [...mqttArgs, "-q", "1", "-t", topic, "-m", JSON.stringify(message)],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    },
    subscribe: (topic, count, seconds) =>
      start("/usr/bin/mosquitto_sub", [
        ...mqttArgs,
        "-q",
        "1",
        "-t",
        topic,
        "-C",
        String(count),
        "-W",
        String(seconds),
      ]),
    async close() {
      await killCollectd(conf);
      await broker.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Pids of the collectd processes running `conf` (not zombies). */
export async function collectdPids(conf: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = (await Deno.readTextFile(`/proc/${e.name}/cmdline`)).split("\0");
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      if (cmd[0] === COLLECTD && cmd.includes(conf) && stat[stat.lastIndexOf(")") + 2] !== "Z") {
        pids.push(Number(e.name));
      }
    } catch { /* gone */ }
  }
  return pids;
}

/** SIGTERM, then SIGKILL, to every collectd running `conf`. */
export async function killCollectd(conf: string): Promise<void> {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    for (const pid of await collectdPids(conf)) {
      try {
        Deno.kill(pid, signal);
      } catch { /* gone */ }
    }
    for (let i = 0; i < 50 && (await collectdPids(conf)).length; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Live processes whose process group is `pgid` (zombies are not processes any more). */
export async function groupMembers(pgid: number): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") {
        out.push(`${e.name} ${stat.slice(stat.indexOf("("), stat.lastIndexOf(")") + 1)}`);
      }
    } catch { /* gone */ }
  }
  return out;
}
