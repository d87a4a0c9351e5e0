import type mqtt from "mqtt";
import type { Counters, Logger } from "../model/mod.ts";
import { EndpointRotation, loadBrokerSockets, openBrokerStream } from "./_stream.ts";
import type { BrokerSettings } from "./settings.ts";

export type QoS = 0 | 1 | 2;

/** A message received on a subscribed topic. */
export interface IncomingMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  /** Set by the broker on a redelivery. */
  dup: boolean;
}

/** Options of {@linkcode createBrokerConnection}. */
export interface BrokerConnectionOptions {
  logger: Logger;
  counters?: Counters;
  /**
   * Called for every incoming message BEFORE the broker gets its acknowledgement (PUBACK /
   * PUBCOMP); the next message waits for it. Keep it short: durable bookkeeping, then hand the
   * work off. A throw is logged; the message is acknowledged anyway.
   */
  onMessage?: (message: IncomingMessage) => Promise<void> | void;
  /** Called after every successful (re)connection, after the subscriptions were renewed. */
  onConnect?: (endpoint: string) => void;
  /** Last will (published by the broker if the connection dies without DISCONNECT). */
  will?: { topic: string; payload: string; qos: QoS; retain: boolean };
}

/**
 * The one broker connection of the agent (shared by the command router, the result outbox and
 * central mode). Survives broker outages: redundant brokers are tried in turn; subscriptions
 * are renewed on every connection; publishes made while offline wait in memory (the outbox
 * keeps the durable copy).
 */
export interface BrokerConnection {
  /** Starts connecting; resolves at once (the broker may be down: the agent runs anyway). */
  start(): void;
  /** Resolves once connected (now or later); rejects when `signal` aborts first. */
  whenConnected(signal?: AbortSignal): Promise<void>;
  /** Subscribes now (when connected) and on every future connection. */
  subscribe(topic: string, qos: QoS): Promise<void>;
  /** Resolves when the broker acknowledged (QoS 1/2) or the packet was written (QoS 0). */
  publish(topic: string, payload: string, options: { qos: QoS; retain?: boolean }): Promise<void>;
  readonly connected: boolean;
  /** `host:port` of the broker in use, or null while disconnected. */
  readonly endpoint: string | null;
  /**
   * Why the latest attempt on each broker failed (`host:port` → reason, e.g. a TLS error);
   * a broker's entry goes when a connection to it succeeds.
   */
  readonly failures: ReadonlyMap<string, string>;
  /** Disconnects (with DISCONNECT: the last will is not sent). Idempotent. */
  stop(options?: { beforeDisconnect?: () => Promise<void> }): Promise<void>;
}

/**
 * mqtt.js, loaded on first use: evaluating it (and its streams) costs ~25 ms of start-up, which
 * an agent without a broker never spends and one with a broker spends after its collectd
 * listener is open.
 */
let mqttJs: Promise<typeof mqtt> | null = null;

/**
 * Opens the agent's broker connection (see {@linkcode BrokerConnection}); the first call loads
 * mqtt.js and the socket modules.
 */
export async function createBrokerConnection(
  settings: BrokerSettings,
  options: BrokerConnectionOptions,
): Promise<BrokerConnection> {
  mqttJs ??= import("mqtt").then((m) => m.default);
  const [lib] = await Promise.all([mqttJs, loadBrokerSockets()]);
  const log = options.logger;
  const rotation = new EndpointRotation(settings.endpoints, settings.reconnectMs);
  const subscriptions = new Map<string, QoS>();
  let current: string | null = null;
  let connectedNow = false;
  let stopped = false;
  let client: mqtt.MqttClient | null = null;
  const waiters = new Set<() => void>();
  /**
   * The highest QoS the broker granted a subscription. A broker that downgrades QoS 2
   * subscriptions (RabbitMQ's MQTT plugin before 3.13) also refuses QoS 2 publishes (it drops
   * the connection), so publishes are capped to it.
   */
  let qosCap: QoS = 2;
  const noteGranted = (topic: string, asked: QoS, granted: number | undefined) => {
    if (granted === undefined || granted > 2) {
      if (granted !== undefined) log.error("the broker refused a subscription", { topic, granted });
      return;
    }
    if (granted < asked && granted < qosCap) {
      qosCap = granted as QoS;
      log.warn(
        `the broker granted QoS ${granted} for QoS ${asked}; publishing with QoS ${granted}`,
        {
          topic,
          broker: current,
        },
      );
    }
  };
  const reconnects = options.counters?.counter(
    "edge_agent_mqtt_connections_total",
    "Successful connections to an MQTT broker",
  );
  const connectedGauge = options.counters?.gauge(
    "edge_agent_mqtt_connected",
    "1 while connected to an MQTT broker, else 0",
  );
  const failovers = options.counters?.counter(
    "edge_agent_mqtt_failovers_total",
    "Connections to a different broker than the previous one",
  );
  let lastBroker: string | null = null;
  const failures = new Map<string, string>();
  let attemptFailed = false;

  /** Hands one message to onMessage; resolves when it is done (never rejects). */
  async function deliver(packet: mqtt.IPublishPacket): Promise<void> {
    const message: IncomingMessage = {
      topic: packet.topic,
      payload: typeof packet.payload === "string"
        ? new TextEncoder().encode(packet.payload)
        : packet.payload,
      qos: packet.qos,
      dup: packet.dup,
    };
    try {
      await options.onMessage?.(message);
    } catch (e) {
      log.error("handling an MQTT message failed", {
        topic: message.topic,
        error: (e as Error).message,
      });
    }
  }

  /**
   * mqtt.js answers a QoS 2 PUBLISH with PUBREC right after putting it in its incoming store,
   * and only calls handleMessage at PUBREL; a crash in between would lose the command (the
   * broker then only repeats PUBREL). This store hands the message on at `put`, so PUBREC
   * waits for it like PUBACK does for QoS 1. A retransmitted PUBLISH (same packet id, still
   * stored) is not handed on twice.
   */
  const memory = new lib.Store();
  const heldQos2 = new Set<number>();
  const incomingStore: mqtt.IStore = {
    put(packet, cb) {
      const id = packet.messageId;
      if (packet.cmd === "publish" && id !== undefined && !heldQos2.has(id)) {
        heldQos2.add(id);
        void deliver(packet).then(() => memory.put(packet, cb));
      } else memory.put(packet, cb);
      return incomingStore;
    },
    get(packet, cb) {
      memory.get(packet, cb);
      return incomingStore;
    },
    del(packet, cb) {
      if (packet.messageId !== undefined) heldQos2.delete(packet.messageId);
      memory.del(packet, cb);
      return incomingStore;
    },
    createStream: () => memory.createStream(),
    close: (cb) => memory.close(cb),
  };

  function build(): mqtt.MqttClient {
    const clientOptions: mqtt.IClientOptions = {
      clientId: settings.clientId,
      clean: settings.clean,
      protocolVersion: settings.protocolVersion,
      reconnectPeriod: settings.reconnectMs,
      connectTimeout: settings.connectTimeoutMs,
      keepalive: settings.keepaliveS,
      resubscribe: false,
      manualConnect: true,
      incomingStore,
    };
    if (settings.username !== undefined) clientOptions.username = settings.username;
    if (settings.password !== undefined) clientOptions.password = settings.password;
    if (options.will) clientOptions.will = { ...options.will };
    const c = new lib.MqttClient((c) => {
      const endpoint = rotation.next();
      current = `${endpoint.host}:${endpoint.port}`;
      attemptFailed = false;
      c.options.reconnectPeriod = rotation.delayAfter();
      log.debug("connecting to broker", { broker: current });
      return openBrokerStream(endpoint, settings.tls);
    }, clientOptions);
    c.handleMessage = (packet, callback) => {
      // QoS 2 messages were handled when stored, before PUBREC (see incomingStore below).
      if (packet.qos === 2) return callback();
      void deliver(packet).then(() => callback());
    };
    c.on("connect", (connack) => {
      connectedNow = true;
      rotation.connected();
      c.options.reconnectPeriod = rotation.delayAfter();
      reconnects?.inc();
      connectedGauge?.set(1);
      if (lastBroker !== null && lastBroker !== current) failovers?.inc();
      lastBroker = current;
      if (current) failures.delete(current);
      log.info("connected to broker", {
        broker: current,
        session_present: connack.sessionPresent,
      });
      for (const [topic, qos] of subscriptions) {
        c.subscribe(topic, { qos }, (err, granted) => {
          if (err) log.error("subscribe failed", { topic, error: err.message });
          else noteGranted(topic, qos, granted?.[0]?.qos);
        });
      }
      for (const w of waiters) w();
      waiters.clear();
      options.onConnect?.(current ?? "");
    });
    c.on("close", () => {
      if (!connectedNow && !attemptFailed && current && !stopped) {
        failures.set(current, "the connection closed before the broker accepted it");
      }
      if (connectedNow && !stopped) log.warn("disconnected from broker", { broker: current });
      connectedNow = false;
      connectedGauge?.set(0);
    });
    c.on("error", (e) => {
      if (!connectedNow && current) {
        attemptFailed = true;
        failures.set(current, e.message);
      }
      log.warn("MQTT connection error", { broker: current, error: e.message });
    });
    c.on("offline", () => {
      log.debug("MQTT client offline", { broker: current });
    });
    return c;
  }

  return {
    start() {
      if (client || stopped) return;
      client = build();
      client.connect();
    },
    whenConnected(signal) {
      if (connectedNow) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const done = () => {
          signal?.removeEventListener("abort", abort);
          resolve();
        };
        const abort = () => {
          waiters.delete(done);
          reject(signal?.reason ?? new Error("aborted"));
        };
        if (signal?.aborted) return abort();
        signal?.addEventListener("abort", abort, { once: true });
        waiters.add(done);
      });
    },
    subscribe(topic, qos) {
      subscriptions.set(topic, qos);
      const c = client;
      if (!c || !connectedNow) return Promise.resolve();
      return new Promise((resolve, reject) => {
        c.subscribe(topic, { qos }, (err, granted) => {
          if (err) return reject(err);
          noteGranted(topic, qos, granted?.[0]?.qos);
          resolve();
        });
      });
    },
    publish(topic, payload, { qos, retain = false }) {
      const c = client;
      if (!c) return Promise.reject(new Error("MQTT connection not started"));
      return new Promise((resolve, reject) => {
        const q = Math.min(qos, qosCap) as QoS;
        c.publish(topic, payload, { qos: q, retain }, (err) => err ? reject(err) : resolve());
      });
    },
    get connected() {
      return connectedNow;
    },
    get endpoint() {
      return connectedNow ? current : null;
    },
    failures,
    async stop(stopOptions = {}) {
      if (stopped) return;
      stopped = true;
      const c = client;
      if (!c) return;
      if (connectedNow && stopOptions.beforeDisconnect) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          stopOptions.beforeDisconnect().catch(() => {}),
          new Promise((r) => timer = setTimeout(r, 2000)),
        ]);
        clearTimeout(timer);
      }
      await endClient(c, connectedNow);
      connectedNow = false;
    },
  };
}

/** How long a clean stop waits for the broker to take unacknowledged publishes and DISCONNECT. */
const DISCONNECT_WAIT_MS = 2000;

/**
 * Ends the client. Connected: with DISCONNECT (mqtt.js's `end(false)`, which first waits for
 * publishes still awaiting their acknowledgement), so the broker discards the last will; a
 * broker that does not answer in time gets the socket closed without it (the will then follows,
 * as after a crash). Not connected: the socket (and any reconnect) is dropped at once.
 */
function endClient(c: mqtt.MqttClient, connected: boolean): Promise<void> {
  if (!connected) return new Promise((resolve) => c.end(true, {}, () => resolve()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      c.stream?.destroy();
      resolve();
    }, DISCONNECT_WAIT_MS);
    c.end(false, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
