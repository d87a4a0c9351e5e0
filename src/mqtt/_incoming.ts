/**
 * Incoming messages reach the connection's `onMessage` BEFORE the broker gets its
 * acknowledgement (PUBACK for QoS 1, PUBREC for QoS 2), so a crash while one is being taken on
 * leaves it with the broker, which delivers it again.
 * @module
 */
import type mqtt from "mqtt";
import type { Logger } from "../model/mod.ts";

/** MQTT quality of service: 0 at most once, 1 at least once, 2 exactly once. */
export type QoS = 0 | 1 | 2;

/** A message received on a subscribed topic. */
export interface IncomingMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  /** Set by the broker on a redelivery. */
  dup: boolean;
}

/** The two mqtt.js hooks that hand messages on before their acknowledgement. */
export interface Delivery {
  /** The client's `incomingStore`: QoS 2 messages are handed on when stored (before PUBREC). */
  store: mqtt.IStore;
  /** The client's `handleMessage`: QoS 0/1 messages are handed on before PUBACK. */
  handleMessage: mqtt.MqttClient["handleMessage"];
}

/**
 * The hooks handing every incoming message to `onMessage`, one at a time; the next waits for it.
 * A throw is logged; the message is acknowledged anyway. `Store` is mqtt.js's in-memory store
 * (passed in: mqtt.js is loaded when the first connection opens, not when the agent starts).
 */
export function deliverBeforeAck(
  onMessage: ((message: IncomingMessage) => Promise<void> | void) | undefined,
  log: Logger,
  Store: typeof mqtt.Store,
): Delivery {
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
      await onMessage?.(message);
    } catch (e) {
      log.error("handling an MQTT message failed", {
        topic: message.topic,
        error: (e as Error).message,
      });
    }
  }
  return {
    store: deliveringStore(deliver, new Store()),
    handleMessage(packet, callback) {
      // QoS 2 messages were handed on when stored, before PUBREC (deliveringStore).
      if (packet.qos === 2) return callback();
      void deliver(packet).then(() => callback());
    },
  };
}

/**
 * mqtt.js answers a QoS 2 PUBLISH with PUBREC right after putting it in its incoming store,
 * and only calls handleMessage at PUBREL; a crash in between would lose the command (the
 * broker then only repeats PUBREL). This store hands the message on at `put`, so PUBREC
 * waits for it like PUBACK does for QoS 1. A retransmitted PUBLISH (same packet id, still
 * stored) is not handed on twice.
 */
function deliveringStore(
  deliver: (packet: mqtt.IPublishPacket) => Promise<void>,
  memory: mqtt.IStore,
): mqtt.IStore {
  const held = new Set<number>();
  const store: mqtt.IStore = {
    put(packet, cb) {
      const id = packet.messageId;
      if (packet.cmd === "publish" && id !== undefined && !held.has(id)) {
        held.add(id);
        void deliver(packet).then(() => memory.put(packet, cb));
      } else memory.put(packet, cb);
      return store;
    },
    get(packet, cb) {
      memory.get(packet, cb);
      return store;
    },
    del(packet, cb) {
      if (packet.messageId !== undefined) held.delete(packet.messageId);
      memory.del(packet, cb);
      return store;
    },
    createStream: () => memory.createStream(),
    close: (cb) => memory.close(cb),
  };
  return store;
}
