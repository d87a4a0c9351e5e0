import type mqtt from "mqtt";
import type { Counters, Logger } from "../model/mod.ts";
import { deliverBeforeAck, type IncomingMessage, type QoS } from "./_incoming.ts";
import { LinkState } from "./_link_state.ts";
import { EndpointRotation, loadBrokerSockets, openBrokerStream } from "./_stream.ts";
import { Subscriptions } from "./_subscriptions.ts";
import type { BrokerSettings } from "./settings.ts";

export type { IncomingMessage, QoS };

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
 * mqtt.js and the socket modules. One mqtt.js client reconnects for its whole life; each attempt
 * opens its own socket to the next broker of the rotation ({@linkcode EndpointRotation}), and its
 * events drive the {@linkcode LinkState}.
 */
export async function createBrokerConnection(
  settings: BrokerSettings,
  options: BrokerConnectionOptions,
): Promise<BrokerConnection> {
  mqttJs ??= import("mqtt").then((m) => m.default);
  const [lib] = await Promise.all([mqttJs, loadBrokerSockets()]);
  const log = options.logger;
  const rotation = new EndpointRotation(settings.endpoints, settings.reconnectMs);
  const link = new LinkState(log, options.counters);
  const subscriptions = new Subscriptions(log, () => link.broker);
  const delivery = deliverBeforeAck(options.onMessage, log, lib.Store);
  let client: mqtt.MqttClient | null = null;
  let stopped = false;

  function build(): mqtt.MqttClient {
    const c = new lib.MqttClient((c) => {
      const endpoint = rotation.next();
      link.attempting(`${endpoint.host}:${endpoint.port}`);
      c.options.reconnectPeriod = rotation.delayAfter();
      return openBrokerStream(endpoint, settings.tls);
    }, clientOptions(settings, delivery.store, options.will));
    c.handleMessage = delivery.handleMessage;
    c.on("connect", (connack) => {
      rotation.connected();
      c.options.reconnectPeriod = rotation.delayAfter();
      link.accepted(connack.sessionPresent);
      subscriptions.renew(c);
      options.onConnect?.(link.broker ?? "");
    });
    c.on("close", () => link.closed(stopped));
    c.on("error", (e) => link.error(e));
    c.on("offline", () => log.debug("MQTT client offline", { broker: link.broker }));
    return c;
  }

  return {
    start() {
      if (client || stopped) return;
      client = build();
      client.connect();
    },
    whenConnected: (signal) => link.whenConnected(signal),
    subscribe: (topic, qos) => subscriptions.add(topic, qos, link.up ? client : null),
    publish(topic, payload, { qos, retain = false }) {
      const c = client;
      if (!c) return Promise.reject(new Error("MQTT connection not started"));
      return new Promise((resolve, reject) => {
        const q = subscriptions.cap(qos);
        c.publish(topic, payload, { qos: q, retain }, (err) => err ? reject(err) : resolve());
      });
    },
    get connected() {
      return link.up;
    },
    get endpoint() {
      return link.up ? link.broker : null;
    },
    failures: link.failures,
    async stop(stopOptions = {}) {
      if (stopped) return;
      stopped = true;
      if (!client) return;
      await disconnect(client, link.up, stopOptions.beforeDisconnect);
      link.closed(true);
    },
  };
}

/**
 * mqtt.js's options: no automatic connect (our socket factory opens each attempt), no
 * resubscribe ({@linkcode Subscriptions} renews them), the delivering incoming store.
 */
function clientOptions(
  settings: BrokerSettings,
  incomingStore: mqtt.IStore,
  will: BrokerConnectionOptions["will"],
): mqtt.IClientOptions {
  const o: mqtt.IClientOptions = {
    clientId: settings.clientId,
    clean: settings.clean,
    protocolVersion: settings.protocolVersion,
    reconnectPeriod: settings.reconnectMs,
    connectTimeout: settings.connectTimeoutMs,
    keepalive: settings.keepaliveS,
    resubscribe: false,
    manualConnect: true,
    incomingStore,
    // mqtt-packet otherwise builds, on the first packet written, a cache of 65 536 two-byte
    // Buffers (one per packet id): about 9 MiB of heap held for good, for a handful of packets a
    // minute.
    writeCache: false,
  };
  if (settings.username !== undefined) o.username = settings.username;
  if (settings.password !== undefined) o.password = settings.password;
  if (will) o.will = { ...will };
  return o;
}

/** How long a stop waits for its `beforeDisconnect` (e.g. the farewell status message). */
const BEFORE_DISCONNECT_WAIT_MS = 2000;

/** Runs `beforeDisconnect` (when connected; bounded), then ends the client ({@linkcode endClient}). */
async function disconnect(
  c: mqtt.MqttClient,
  connected: boolean,
  beforeDisconnect?: () => Promise<void>,
): Promise<void> {
  if (connected && beforeDisconnect) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      beforeDisconnect().catch(() => {}),
      new Promise((r) => timer = setTimeout(r, BEFORE_DISCONNECT_WAIT_MS)),
    ]);
    clearTimeout(timer);
  }
  await endClient(c, connected);
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
