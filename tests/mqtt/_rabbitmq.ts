import { join } from "node:path";
import { freeTcpPort } from "../_helpers/ports.ts";
import { PASSWORD, USER } from "../_helpers/mosquitto.ts";

const SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/** A private RabbitMQ (Debian rabbitmq-server) with the MQTT plugin, on free loopback ports. */
export interface RabbitMq {
  readonly port: number;
  readonly address: string;
  stop(): Promise<void>;
}

/**
 * Starts RabbitMQ with its own node name, Erlang port mapper port, data folder and HOME (cookie),
 * so it neither needs nor touches a system instance. Takes 10–30 s on a busy machine.
 */
export async function startRabbitMq(): Promise<RabbitMq> {
  try {
    await Deno.stat(SERVER);
  } catch {
    throw new Error(
      `${SERVER} is missing: the RabbitMQ interop test needs the Debian package rabbitmq-server`,
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-rabbitmq-" });
  const [mqtt, amqp, epmd, dist] = [freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpPort()];
  await Deno.writeTextFile(
    join(dir, "rabbitmq.conf"),
    [
      `listeners.tcp.default = 127.0.0.1:${amqp}`,
      `mqtt.listeners.tcp.default = 127.0.0.1:${mqtt}`,
      "mqtt.allow_anonymous = false",
      `default_user = ${USER}`,
      `default_pass = ${PASSWORD}`,
      "loopback_users = none",
    ].join("\n") + "\n",
  );
  await Deno.writeTextFile(join(dir, "enabled_plugins"), "[rabbitmq_mqtt].\n");
  const env = {
    HOME: dir,
    RABBITMQ_NODENAME: `edgeagent${mqtt}@localhost`,
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_PID_FILE: join(dir, "pid"),
    ERL_EPMD_PORT: String(epmd),
    RABBITMQ_DIST_PORT: String(dist),
  };
  const child = new Deno.Command(SERVER, { env, stdout: "piped", stderr: "piped" }).spawn();
  const output: string[] = [];
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) output.push(chunk);
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then(async (s) => {
    exited = true;
    await pumps;
    return s;
  });
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // gone
    }
    await status;
    await new Deno.Command("/usr/bin/epmd", {
      args: ["-port", String(epmd), "-kill"],
      stdout: "null",
      stderr: "null",
    }).output();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const until = Date.now() + 90_000;
  while (!exited && Date.now() < until) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port: mqtt })).close();
      return { port: mqtt, address: `127.0.0.1:${mqtt}`, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  await stop();
  throw new Error(`RabbitMQ did not open its MQTT port: ${output.join("").slice(-2000)}`);
}
