import { join } from "node:path";
import { createMqttChannel, type MqttChannel } from "../../src/remote/mod.ts";
import { type Config, parseConfig } from "../../src/config/mod.ts";
import { createExecutor, type Executor } from "../../src/executor/mod.ts";
import type { LogEvent } from "../../src/log/mod.ts";
import { type Counters, createCounters, type Logger } from "../../src/model/mod.ts";
import { createAuditReporter } from "../../src/reporters/mod.ts";
import { captureLogger } from "./mqtt.ts";
import { PASSWORD, USER } from "./mosquitto.ts";

export const SERVICES = {
  hello: { commands: { exec: '/bin/echo "Hello World!"' } },
  failing: { commands: { exit3: { Argv: ["/bin/sh", "-c", "echo broken; exit 3"] } } },
};

/** A config for host "edge1" with fleet topics, merged with `extra`. */
export function channelConfig(
  hosts: string | string[],
  stateDir: string,
  extra: Record<string, unknown> = {},
): Config {
  const raw = {
    Host: hosts,
    User: USER,
    Password: PASSWORD,
    QoS: 1,
    ReconnectInterval: 0.2,
    HostName: "edge1",
    CommandTopic: "cmd/{host}",
    CommandResultTopic: "result/{host}",
    StatusTopic: "status/{host}",
    StateDir: stateDir,
    Services: SERVICES,
    ...extra,
  };
  return parseConfig(JSON.stringify(raw), join(stateDir, "config.json")).config;
}

/** A channel wired to the real executor, as src/stages.ts wires them. */
export interface TestAgent {
  channel: MqttChannel;
  executor: Executor;
  config: Config;
  logger: Logger;
  /** Every log event so far. */
  events: LogEvent[];
  counters: Counters;
  stop(): Promise<void>;
}

export async function startTestAgent(config: Config): Promise<TestAgent> {
  const { logger, events } = captureLogger();
  const counters = createCounters();
  const late: { channel?: MqttChannel } = {};
  // Wired like the agent: the audit first, and the interrupted commands' lines.
  const audit = createAuditReporter(config.StateDir, { logger });
  const executor = createExecutor(config.Services, {
    logger,
    counters,
    stateDir: config.StateDir,
    audit,
    reporters: [{ name: "mqtt", report: (r) => late.channel!.reporter.report(r) }],
  });
  await executor.start();
  const channel = createMqttChannel(config, {
    logger,
    counters,
    stateDir: config.StateDir,
    execute: (req) => executor.run(req),
    onInterrupted: (record) => audit.report(record),
    status: () => ({ version: "test", rules: 0 }),
  });
  late.channel = channel;
  await channel.start();
  const ch = channel;
  return {
    channel: ch,
    executor,
    config,
    logger,
    events,
    counters,
    async stop() {
      await ch.stop();
      await executor.stop();
    },
  };
}
