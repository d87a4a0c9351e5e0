import type { Counter, Counters, Gauge, Logger } from "../model/mod.ts";

/**
 * Where the broker connection stands, as mqtt.js's events tell it: the broker of the latest
 * attempt, whether the connection is up, why the latest attempt on each broker failed, the
 * connection metrics, and who waits for the next connection.
 */
export class LinkState {
  /** Why the latest attempt on each broker failed; a broker's entry goes when it accepts one. */
  readonly failures = new Map<string, string>();
  #broker: string | null = null;
  #up = false;
  /** The latest attempt already has its failure reason (an error came before the close). */
  #attemptFailed = false;
  /** The broker of the previous connection (failovers). */
  #lastBroker: string | null = null;
  readonly #waiters = new Set<() => void>();
  readonly #log: Logger;
  readonly #connections: Counter | undefined;
  readonly #connected: Gauge | undefined;
  readonly #failovers: Counter | undefined;

  constructor(log: Logger, counters?: Counters) {
    this.#log = log;
    this.#connections = counters?.counter(
      "edge_agent_mqtt_connections_total",
      "Successful connections to an MQTT broker",
    );
    this.#connected = counters?.gauge(
      "edge_agent_mqtt_connected",
      "1 while connected to an MQTT broker, else 0",
    );
    this.#failovers = counters?.counter(
      "edge_agent_mqtt_failovers_total",
      "Connections to a different broker than the previous one",
    );
  }

  /** `host:port` of the latest attempt's broker (connected or not); null before the first. */
  get broker(): string | null {
    return this.#broker;
  }

  /** Whether a broker accepted the connection (CONNACK) and it is still open. */
  get up(): boolean {
    return this.#up;
  }

  /** A connection attempt to `broker` (`host:port`) begins. */
  attempting(broker: string): void {
    this.#broker = broker;
    this.#attemptFailed = false;
    this.#log.debug("connecting to broker", { broker });
  }

  /** The broker accepted the connection; whoever waits in `whenConnected` goes on. */
  accepted(sessionPresent: boolean): void {
    this.#up = true;
    this.#connections?.inc();
    this.#connected?.set(1);
    if (this.#lastBroker !== null && this.#lastBroker !== this.broker) this.#failovers?.inc();
    this.#lastBroker = this.broker;
    if (this.broker) this.failures.delete(this.broker);
    this.#log.info("connected to broker", {
      broker: this.broker,
      session_present: sessionPresent,
    });
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  /** The socket closed (`stopping`: the agent closed it; neither a failure nor a loss). */
  closed(stopping: boolean): void {
    if (!this.#up && !this.#attemptFailed && this.broker && !stopping) {
      this.failures.set(this.broker, "the connection closed before the broker accepted it");
    }
    if (this.#up && !stopping) this.#log.warn("disconnected from broker", { broker: this.broker });
    this.#up = false;
    this.#connected?.set(0);
  }

  /** mqtt.js reported an error: while connecting, it is why the attempt failed. */
  error(e: Error): void {
    if (!this.#up && this.broker) {
      this.#attemptFailed = true;
      this.failures.set(this.broker, e.message);
    }
    this.#log.warn("MQTT connection error", { broker: this.broker, error: e.message });
  }

  /** Resolves once connected (now or later); rejects when `signal` aborts first. */
  whenConnected(signal?: AbortSignal): Promise<void> {
    if (this.#up) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      const abort = () => {
        this.#waiters.delete(done);
        reject(signal?.reason ?? new Error("aborted"));
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      this.#waiters.add(done);
    });
  }
}
