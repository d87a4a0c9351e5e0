/**
 * Soak harness: the generated world in one temp dir — ports, the agent's config.json, its rules,
 * the recovery scripts that leave marks, collectd.conf and the two brokers' mosquitto.conf.
 */
import { freeTcpPort, freeUdpPort } from "./proc.ts";

/** Everything the soak generated, with the paths and ports the parts share. */
export interface SoakLayout {
  dir: string;
  hostName: string;
  /** The agent's collectd listener (SecurityLevel Sign). */
  collectdPort: number;
  /** Telemetry endpoint (`/metrics`, `/healthz`). */
  telemetryPort: number;
  brokerPorts: [number, number];
  user: string;
  password: string;
  agentConfig: string;
  rulesDir: string;
  ruleFile: string;
  stateDir: string;
  /** Every recovery command appends `<unix time> <label> <phase>` here. */
  markerFile: string;
  collectdConf: string;
  brokerConfs: [string, string];
  commandTopic: string;
  resultTopic: string;
  /**
   * Remote commands available: `q<i>/run` (quick; one service each, since a service runs one
   * command at a time and refuses a second with 0x1011) and `slow/k<i>` (4 s).
   */
  quickCommands: number;
  slowCommands: number;
  /** Cooldown (s) of the rule-triggered command `rulefix/restart`. */
  cooldownS: number;
  /** Timeout (s) of the hanging command `broken/hang`. */
  hangTimeoutS: number;
}

/** Options of {@linkcode createLayout}. */
export interface LayoutOptions {
  quickCommands: number;
  slowCommands: number;
}

/**
 * The rule the soak expects to fire: on the `load` value list of every other second it asks for
 * `rulefix/restart`, and reports the condition gone in between, so it triggers every ~2 s (a
 * burst against the command's Cooldown).
 */
export const GOOD_RULE = `import type { MetricHandlers } from "./edge-agent.d.ts";

export const metrics = {
  load_seen(metric) {
    if (metric.plugin === "load" && Math.round(metric.time) % 2 === 0) {
      return { service: "rulefix", command: "restart" };
    }
  },
} satisfies MetricHandlers;
`;

/** The same handler spinning forever: the rule stage must stop it within its budget. */
export const LOOPING_RULE = `export const metrics = {
  load_seen(metric) {
    if (metric.plugin === "load") {
      for (;;) { /* spin */ }
    }
  },
};
`;

/** Not TypeScript at all: the load must fail with a message, the old version keeps running. */
export const BROKEN_RULE = `export const metrics = {{{ load_seen(metric) => ;\n`;

/** Writes every file of the soak into a new temp dir and picks free ports. */
export async function createLayout(options: LayoutOptions): Promise<SoakLayout> {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-soak-" });
  const l: SoakLayout = {
    dir,
    hostName: "soakhost",
    collectdPort: freeUdpPort(),
    telemetryPort: freeTcpPort(),
    brokerPorts: [freeTcpPort(), freeTcpPort()],
    user: "soak",
    password: "soak-password-" + crypto.randomUUID().slice(0, 8),
    agentConfig: `${dir}/agent/config.json`,
    rulesDir: `${dir}/agent/rules`,
    ruleFile: `${dir}/agent/rules/soak_rule.ts`,
    stateDir: `${dir}/agent/state`,
    markerFile: `${dir}/marks.log`,
    collectdConf: `${dir}/collectd/collectd.conf`,
    brokerConfs: [`${dir}/broker-a/mosquitto.conf`, `${dir}/broker-b/mosquitto.conf`],
    commandTopic: "soak/{host}/command",
    resultTopic: "soak/{host}/result",
    quickCommands: options.quickCommands,
    slowCommands: options.slowCommands,
    cooldownS: 5,
    hangTimeoutS: 2,
  };
  for (const d of ["agent/rules", "collectd", "broker-a", "broker-b", "bin"]) {
    await Deno.mkdir(`${dir}/${d}`, { recursive: true });
  }
  // mosquitto started as root drops to its own user: its persistence dirs must be writable.
  await Deno.chmod(dir, 0o755);
  for (const d of ["broker-a", "broker-b"]) await Deno.chmod(`${dir}/${d}`, 0o777);
  await writeScripts(l);
  await Deno.writeTextFile(`${dir}/agent/auth`, `${l.user}: ${l.password}\n`);
  await Deno.writeTextFile(l.agentConfig, JSON.stringify(agentConfig(l), null, 2));
  await Deno.chmod(l.agentConfig, 0o600);
  const types = new URL("../../rules/edge-agent.d.ts", import.meta.url);
  await Deno.copyFile(types, `${l.rulesDir}/edge-agent.d.ts`).catch(() => {});
  await Deno.writeTextFile(l.ruleFile, GOOD_RULE);
  await Deno.writeTextFile(l.collectdConf, collectdConf(l));
  for (const i of [0, 1] as const) {
    await Deno.writeTextFile(
      l.brokerConfs[i],
      mosquittoConf(l.brokerPorts[i], `${dir}/broker-${"ab"[i]}`),
    );
  }
  return l;
}

async function writeScripts(l: SoakLayout) {
  const mark = `#!/bin/sh\necho "$(date +%s.%N) $1 run $$" >> ${l.markerFile}\necho "ran $1"\n`;
  const slow = `#!/bin/sh\necho "$(date +%s.%N) $1 start $$" >> ${l.markerFile}\nsleep 4\n` +
    `echo "$(date +%s.%N) $1 done $$" >> ${l.markerFile}\necho "slow $1 done"\n`;
  await Deno.writeTextFile(`${l.dir}/bin/mark.sh`, mark, { mode: 0o755 });
  await Deno.writeTextFile(`${l.dir}/bin/slow.sh`, slow, { mode: 0o755 });
}

/** The agent's config.json: every key the soak relies on. */
export function agentConfig(l: SoakLayout): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (let i = 0; i < l.quickCommands; i++) {
    services[`q${i}`] = {
      commands: { run: { Argv: ["/bin/sh", `${l.dir}/bin/mark.sh`, `q${i}`], Timeout: 20 } },
    };
  }
  const slow: Record<string, unknown> = {};
  for (let i = 0; i < l.slowCommands; i++) {
    slow[`k${i}`] = { Argv: ["/bin/sh", `${l.dir}/bin/slow.sh`, `k${i}`], Timeout: 30 };
  }
  return {
    LogLevel: "info",
    StateDir: "state",
    RulesDir: "rules",
    HostName: l.hostName,
    Listen: [{
      Host: "127.0.0.1",
      Port: l.collectdPort,
      SecurityLevel: "Sign",
      AuthFile: "auth",
    }],
    Host: l.brokerPorts.map((p) => `127.0.0.1:${p}`),
    ReconnectInterval: 1,
    QoS: 1,
    CommandTopic: l.commandTopic,
    CommandResultTopic: l.resultTopic,
    StatusTopic: "soak/{host}/status",
    Services: {
      ...services,
      slow: { commands: slow },
      hang: { commands: { run: { Argv: ["/bin/sleep", "600"], Timeout: l.hangTimeoutS } } },
      fail: {
        commands: { run: { Argv: ["/bin/sh", "-c", "echo failing on purpose >&2; exit 3"] } },
      },
      rulefix: {
        commands: {
          restart: {
            Argv: ["/bin/sh", `${l.dir}/bin/mark.sh`, "rule"],
            Cooldown: l.cooldownS,
            MaxRuns: 100000,
            Window: 60,
            Verify: 0,
          },
        },
      },
    },
    MaxParallelCommands: 8,
    Telemetry: { Listen: `127.0.0.1:${l.telemetryPort}`, HealthWindow: 10 },
  };
}

/** collectd 5.12 on loopback: memory, load, cpu, interface every second, signed to the agent. */
export function collectdConf(l: SoakLayout): string {
  return `Hostname "${l.hostName}"
FQDNLookup false
Interval 1
BaseDir "${l.dir}/collectd"
PIDFile "${l.dir}/collectd/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
  Timestamp true
</Plugin>
LoadPlugin memory
LoadPlugin load
LoadPlugin cpu
LoadPlugin interface
LoadPlugin network
<Plugin network>
  <Server "127.0.0.1" "${l.collectdPort}">
    SecurityLevel Sign
    Username "${l.user}"
    Password "${l.password}"
  </Server>
</Plugin>
`;
}

/**
 * One mosquitto 2.0 broker on loopback with Nagle off; persistence saved every second so a
 * SIGKILLed broker comes back with (almost all of) its sessions, as a clustered one would.
 */
export function mosquittoConf(port: number, dir: string): string {
  return `listener ${port} 127.0.0.1
allow_anonymous true
set_tcp_nodelay true
persistence true
persistence_location ${dir}/
autosave_interval 1
max_queued_messages 10000
log_dest stdout
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
log_timestamp true
`;
}
