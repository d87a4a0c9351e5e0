import { join } from "node:path";
import type mqtt from "mqtt";
import { type AgentProcess, startAgent } from "../_helpers/agent_process.ts";
import { freeTcpPort, freeUdpPort } from "../_helpers/ports.ts";
import { collect, nowStamp, testClient } from "../_helpers/mqtt.ts";
import { type Mosquitto, PASSWORD, startMosquitto, USER } from "../_helpers/mosquitto.ts";

/** A command's result as the operator sees it. */
export type Result = Record<string, unknown>;

/** Options of {@linkcode brokerAgent}. */
export interface BrokerAgentOptions {
  /** StateDir (absolute); default `<dir>/state`. */
  stateDir?: string;
  /** Extra config keys. */
  config?: Record<string, unknown>;
  /** Runs before the first start, with the StateDir (to leave files in it). */
  prepare?: (stateDir: string) => Promise<void>;
  /** Serve /metrics on a free port. */
  telemetry?: boolean;
}

/**
 * The real agent (scripts/agent, production flags) on a real mosquitto, with an operator client
 * subscribed to its results: the way an operator meets it. `hello/exec` echoes, `fix/touch`
 * touches `<dir>/ran-<n>` files.
 */
export async function brokerAgent(options: BrokerAgentOptions = {}) {
  const broker: Mosquitto = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-hostile-" });
  const stateDir = options.stateDir ?? join(dir, "state");
  await Deno.mkdir(join(dir, "rules"));
  const metricsPort = options.telemetry ? freeTcpPort() : 0;
  const configFile = join(dir, "config.json");
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({
      Host: broker.address,
      User: USER,
      Password: PASSWORD,
      QoS: 1,
      ReconnectInterval: 0.2,
      HostName: "edge1",
      CommandTopic: "cmd/{host}",
      CommandResultTopic: "result/{host}",
      StateDir: stateDir,
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: freeUdpPort() }],
      Services: {
        hello: { commands: { exec: '/bin/echo "Hello World!"' } },
        fix: { commands: { touch: { Argv: ["/usr/bin/touch", join(dir, "ran")] } } },
      },
      ...(options.telemetry ? { Telemetry: { Listen: `127.0.0.1:${metricsPort}` } } : {}),
      ...options.config,
    }),
  );
  await Deno.chmod(configFile, 0o600);
  await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
  await options.prepare?.(stateDir);
  const subacks = () => broker.log().split("Sending SUBACK to edge-agent-edge1").length - 1;

  const client: mqtt.MqttClient = await testClient(broker.port);
  const results = await collect(client, "result/edge1");
  let agent: AgentProcess;
  try {
    agent = await launch();
  } catch (e) {
    await client.endAsync();
    await broker.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }

  async function launch(): Promise<AgentProcess> {
    const before = subacks();
    const a = startAgent(["--config", configFile]);
    try {
      await a.waitFor(/MQTT channel started/, 60_000);
      await a.waitFor(/connected to broker/, 30_000);
      // Subscribed (else a command sent now is not delivered: no session yet at the first start)
      for (let i = 0; subacks() === before; i++) {
        if (i > 1500) throw new Error(`the agent never subscribed:\n${broker.log()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } catch (e) {
      a.kill("SIGKILL");
      await a.status;
      throw e;
    }
    return a;
  }

  return {
    dir,
    stateDir,
    configFile,
    broker,
    results,
    get agent() {
      return agent;
    },
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    /** Publishes `msg` (QoS 1) to the agent's command topic; `timestamp` defaults to now. */
    send(msg: Record<string, unknown>) {
      const body = "timestamp" in msg ? msg : { timestamp: nowStamp(), ...msg };
      return client.publishAsync("cmd/edge1", JSON.stringify(body), { qos: 1 });
    },
    /** Publishes raw bytes to the command topic. */
    sendRaw(payload: string | Uint8Array) {
      return client.publishAsync("cmd/edge1", payload as string, { qos: 1 });
    },
    /** Waits for the result of `taskId` (compared as text) and returns it. */
    async result(taskId: unknown, ms = 20_000): Promise<Result> {
      const end = Date.now() + ms;
      for (;;) {
        const r = results.messages.find((m) => String(m.task_id) === String(taskId));
        if (r) return r;
        if (Date.now() > end) {
          throw new Error(
            `no result for ${taskId}: ${JSON.stringify(results.messages)}\n${
              agent.lines.join("\n")
            }`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    /**
     * Stops the agent (SIGTERM), runs `between` (e.g. to damage a state file as a power loss
     * would), and starts it again on the same config and StateDir.
     */
    async restart(between?: () => Promise<void>) {
      agent.kill("SIGTERM");
      await agent.status;
      await between?.();
      agent = await launch();
    },
    /** The agent's audit lines (parsed). */
    async audit(): Promise<Record<string, unknown>[]> {
      const text = await Deno.readTextFile(join(stateDir, "audit.jsonl")).catch(() => "");
      return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
    },
    async stop() {
      agent.kill("SIGTERM");
      const status = await agent.status;
      await client.endAsync();
      await broker.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      return status;
    },
  };
}
