import mqtt from "mqtt";
import net from "node:net";
import { createLogger, type LogEvent } from "../../src/log/mod.ts";
import type { Logger } from "../../src/model/mod.ts";
import { PASSWORD, USER } from "./mosquitto.ts";

/** A logger that keeps every event (and prints them when EDGE_AGENT_TEST_LOG is set). */
export function captureLogger(): { logger: Logger; events: LogEvent[] } {
  const events: LogEvent[] = [];
  const show = Deno.env.get("EDGE_AGENT_TEST_LOG") !== undefined;
  const logger = createLogger({
    level: "debug",
    sink: (e) => {
      events.push(e);
      if (show) console.error(e.level, e.component, e.msg, JSON.stringify(e.fields ?? {}));
    },
  });
  return { logger, events };
}

/** An operator-side test client (Nagle off) connected to `port`. */
export async function testClient(
  port: number,
  options: { clientId?: string; user?: string; password?: string } = {},
): Promise<mqtt.MqttClient> {
  const client = new mqtt.MqttClient(() => {
    const s = net.createConnection({ host: "127.0.0.1", port });
    s.setNoDelay(true);
    return s;
  }, {
    clientId: options.clientId ?? `test-${crypto.randomUUID().slice(0, 8)}`,
    username: options.user ?? USER,
    password: options.password ?? PASSWORD,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    manualConnect: true,
  });
  client.on("error", () => {});
  client.connect();
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

/** Collects JSON messages of `topic` on `client`. */
export async function collect(
  client: mqtt.MqttClient,
  topic: string,
): Promise<
  { messages: Record<string, unknown>[]; waitFor(n: number, ms?: number): Promise<void> }
> {
  const messages: Record<string, unknown>[] = [];
  client.on("message", (t, payload) => {
    if (t === topic) messages.push(JSON.parse(payload.toString()));
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return {
    messages,
    async waitFor(n, ms = 10_000) {
      const until = Date.now() + ms;
      while (messages.length < n) {
        if (Date.now() > until) {
          throw new Error(
            `expected ${n} messages on ${topic}, got ${messages.length}: ${
              JSON.stringify(messages)
            }`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Polls `cond` until true or throws after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** lua-collectd-monitor's timestamp for "now". */
export function nowStamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}
