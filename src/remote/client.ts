import { type Config, defaultConfigFile, loadConfig } from "../config/mod.ts";
import {
  type BrokerSettings,
  brokerSettings,
  createBrokerConnection,
  expandTopic,
  parseEndpoint,
  type QoS,
} from "../mqtt/mod.ts";
import type { CommandResult, Logger } from "../model/mod.ts";
import { createResultWaiter } from "./request.ts";
import { withSignature } from "./signature.ts";

/**
 * The options of the operator commands that talk to an agent over MQTT (`send-command`,
 * `send-config`): lua-collectd-monitor's send-command options plus `--config`, `--timeout`,
 * `--to`. A node:util parseArgs table.
 */
export const REMOTE_OPTIONS = {
  config: { type: "string", short: "c" },
  host: { type: "string" },
  user: { type: "string", short: "u" },
  password: { type: "string", short: "p" },
  secure: { type: "boolean", short: "s" },
  qos: { type: "string", short: "q" },
  topic: { type: "string", short: "t" },
  "result-topic": { type: "string", short: "r" },
  timeout: { type: "string" },
  to: { type: "string" },
} as const;

/** Where and how to send, after merging `--config FILE` with the flags (flags win). */
export interface RemoteTarget {
  settings: BrokerSettings;
  commandTopic: string;
  resultTopic: string | undefined;
  qos: QoS;
  timeoutMs: number;
  /** The addressed agent (`--to`): fills `{host}` and the message's `host` field. */
  to: string | undefined;
  signAs: Config["SignAs"];
}

/** A usage problem with the remote options (exit code 2). */
export class RemoteUsageError extends Error {
  override name = "RemoteUsageError";
}

/** Builds the RemoteTarget from parsed REMOTE_OPTIONS values. Throws ConfigError/RemoteUsageError. */
export async function remoteTargetFromArgs(values: Record<string, unknown>): Promise<RemoteTarget> {
  const str = (k: string) => typeof values[k] === "string" ? values[k] as string : undefined;
  // Without --config: the installed /etc/edge-agent/config.json when it exists (as every command).
  const file = str("config") ?? defaultConfigFile();
  const config = file !== null ? (await loadConfig(file)).config : undefined;
  const host = str("host") ?? config?.Host ?? "localhost";
  const secure = values.secure === true || (config?.Secure ?? false);
  const qos = Number(str("qos") ?? config?.QoS ?? 2);
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RemoteUsageError("--qos must be 0, 1 or 2");
  const timeout = Number(str("timeout") ?? 30);
  if (!(timeout > 0)) throw new RemoteUsageError("--timeout must be a positive number of seconds");
  const to = str("to");
  const fill = (t: string | undefined) => {
    if (t === undefined || !t.includes("{host}")) return t;
    if (to === undefined) throw new RemoteUsageError(`topic "${t}" has {host}: give --to HOST`);
    return expandTopic(t, to);
  };
  const commandTopic = fill(str("topic") ?? config?.CommandTopic);
  if (!commandTopic) throw new RemoteUsageError("no command topic: give --topic or --config");
  const resultTopic = fill(str("result-topic") ?? config?.CommandResultTopic);
  const clientId = `edge-agent-send-${crypto.randomUUID().slice(0, 8)}`;
  let settings: BrokerSettings;
  if (config) {
    settings = await brokerSettings(
      { ...config, Host: str("host") ?? config.Host ?? "localhost", Secure: secure },
      to ?? "send",
    );
  } else {
    settings = {
      endpoints: [],
      clientId,
      clean: true,
      reconnectMs: 1000,
      protocolVersion: 4,
      connectTimeoutMs: 10_000,
      keepaliveS: 30,
      ...(secure ? { tls: {} } : {}),
    };
  }
  settings = {
    ...settings,
    endpoints: [host].flat().map((h) => parseEndpoint(h, secure)),
    clientId,
    clean: true,
  };
  const user = str("user") ?? config?.User;
  const password = str("password") ?? config?.Password;
  if (user !== undefined) settings.username = user;
  if (password !== undefined) settings.password = password;
  return {
    settings,
    commandTopic,
    resultTopic,
    qos,
    timeoutMs: timeout * 1000,
    to,
    signAs: config?.SignAs,
  };
}

/** What {@linkcode sendAndAwaitResult} did. */
export interface SendOutcome {
  /** The message as published (with task_id, timestamp, host, signature). */
  sent: Record<string, unknown>;
  /** The agent's result, or null when none came before the timeout (or no result topic). */
  result: CommandResult | null;
  /** Why nothing could be sent (no broker reachable in time), else undefined. */
  error?: string;
}

/**
 * Connects, subscribes to the result topic, publishes `message` (adding `host` from `--to`
 * and a signature with SignAs), waits for the result with the same task_id, disconnects.
 */
export async function sendAndAwaitResult(
  target: RemoteTarget,
  message: Record<string, unknown>,
  options: { logger: Logger; onSent?: (sent: Record<string, unknown>) => void },
): Promise<SendOutcome> {
  const waiter = createResultWaiter();
  const connection = await createBrokerConnection(target.settings, {
    logger: options.logger,
    onMessage: (m) => void waiter.offer(m.payload),
  });
  let sent: Record<string, unknown> = target.to ? { ...message, host: target.to } : { ...message };
  if (target.signAs) sent = withSignature(sent, target.signAs);
  const deadline = AbortSignal.timeout(target.timeoutMs);
  try {
    if (target.resultTopic) await connection.subscribe(target.resultTopic, target.qos);
    connection.start();
    try {
      await connection.whenConnected(deadline);
    } catch {
      return { sent, result: null, error: unreachable(target, connection.failures) };
    }
    const waiting = target.resultTopic
      ? waiter.wait(sent.task_id as number | string, target.timeoutMs, deadline)
      : Promise.resolve(null);
    const published = connection.publish(target.commandTopic, JSON.stringify(sent), {
      qos: target.qos,
    });
    const timedOut = new Promise<"timeout">((resolve) => {
      if (deadline.aborted) resolve("timeout");
      deadline.addEventListener("abort", () => resolve("timeout"), { once: true });
    });
    let outcome: void | "timeout";
    try {
      outcome = await Promise.race([published, timedOut]);
    } catch (e) {
      return { sent, result: null, error: `cannot publish the command: ${(e as Error).message}` };
    }
    if (outcome === "timeout") {
      return { sent, result: null, error: "the broker did not acknowledge the command in time" };
    }
    options.onSent?.(sent);
    return { sent, result: await waiting };
  } finally {
    await connection.stop();
  }
}

/** "no broker reachable", with why each broker of the target could not be used. */
function unreachable(target: RemoteTarget, failures: ReadonlyMap<string, string>): string {
  const why = target.settings.endpoints.map((e) => {
    const broker = `${e.host}:${e.port}`;
    return `${broker}: ${failures.get(broker) ?? "no answer"}`;
  });
  return `no broker reachable before --timeout (${target.timeoutMs / 1000} s): ${why.join("; ")}`;
}
