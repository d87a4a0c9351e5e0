import type mqtt from "mqtt";
import type { Logger } from "../model/mod.ts";
import type { QoS } from "./_incoming.ts";

/**
 * The connection's subscriptions, renewed on every connection (mqtt.js's own resubscribe is
 * off), and the QoS cap they reveal: a broker that downgrades QoS 2 subscriptions (RabbitMQ's
 * MQTT plugin before 3.13) also refuses QoS 2 publishes (it drops the connection), so publishes
 * are capped to the highest QoS it granted.
 */
export class Subscriptions {
  readonly #topics = new Map<string, QoS>();
  #cap: QoS = 2;
  readonly #log: Logger;
  /** The broker in use (log lines). */
  readonly #broker: () => string | null;

  constructor(log: Logger, broker: () => string | null) {
    this.#log = log;
    this.#broker = broker;
  }

  /**
   * Subscribes to `topic` on every future connection, and now on `client` when one is given
   * (connected): resolves when the broker granted it, rejects when it refused.
   */
  add(topic: string, qos: QoS, client: mqtt.MqttClient | null): Promise<void> {
    this.#topics.set(topic, qos);
    if (!client) return Promise.resolve();
    return new Promise((resolve, reject) => {
      client.subscribe(topic, { qos }, (err, granted) => {
        if (err) return reject(err);
        this.#granted(topic, qos, granted?.[0]?.qos);
        resolve();
      });
    });
  }

  /** Subscribes again to every topic on a new connection; a failure is logged. */
  renew(client: mqtt.MqttClient): void {
    for (const [topic, qos] of this.#topics) {
      client.subscribe(topic, { qos }, (err, granted) => {
        if (err) this.#log.error("subscribe failed", { topic, error: err.message });
        else this.#granted(topic, qos, granted?.[0]?.qos);
      });
    }
  }

  /** `qos` capped to what the broker grants. */
  cap(qos: QoS): QoS {
    return Math.min(qos, this.#cap) as QoS;
  }

  #granted(topic: string, asked: QoS, granted: number | undefined): void {
    if (granted === undefined || granted > 2) {
      if (granted !== undefined) {
        this.#log.error("the broker refused a subscription", { topic, granted });
      }
      return;
    }
    if (granted < asked && granted < this.#cap) {
      this.#cap = granted as QoS;
      this.#log.warn(
        `the broker granted QoS ${granted} for QoS ${asked}; publishing with QoS ${granted}`,
        { topic, broker: this.#broker() },
      );
    }
  }
}
