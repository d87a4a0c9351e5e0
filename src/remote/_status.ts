import type { BrokerConnection } from "../mqtt/mod.ts";
import { type Logger, resultTimestamp } from "../model/mod.ts";

/** What the retained status topic needs. */
export interface StatusOptions {
  /** StatusTopic with `{host}` expanded; undefined: no status is published. */
  topic: string | undefined;
  hostName: string;
  /** Seconds between refreshes while connected (StatusInterval); 0: only on (re)connect. */
  intervalS: number;
  /** Extra fields of the "online" message (version, uptime, rules loaded, figures). */
  fields(): Record<string, unknown>;
  logger: Logger;
  now: () => number;
}

/**
 * The retained status message: "online" with live figures on every (re)connection and every
 * StatusInterval, "offline" as the last will and as the last word before a clean DISCONNECT.
 */
export function createStatus(options: StatusOptions) {
  const { topic, hostName, now } = options;
  let connection: BrokerConnection | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  function payload(online: boolean): string {
    return JSON.stringify(
      online
        ? {
          status: "online",
          host: hostName,
          timestamp: resultTimestamp(now()),
          ...options.fields(),
        }
        : { status: "offline", host: hostName, timestamp: resultTimestamp(now()) },
    );
  }

  function publish() {
    if (!topic || !connection) return;
    connection.publish(topic, payload(true), { qos: 1, retain: true })
      .catch((e) => options.logger.warn("cannot publish the status", { error: e.message }));
  }

  return {
    /** Publishes "online" now (the connection's onConnect). */
    publish,
    /** The last will: "offline", retained; undefined without a status topic. */
    will: () =>
      topic ? { topic, payload: payload(false), qos: 1 as const, retain: true } : undefined,
    /** Starts the periodic refresh over `conn`. */
    start(conn: BrokerConnection) {
      connection = conn;
      if (topic && options.intervalS > 0) {
        timer = setInterval(() => {
          if (conn.connected) publish();
        }, options.intervalS * 1000);
      }
    },
    /** Stops the refresh. */
    stop() {
      clearInterval(timer);
    },
    /** For `stop({beforeDisconnect})`: publishes "offline", or nothing without a topic. */
    farewell(conn: BrokerConnection): { beforeDisconnect?: () => Promise<void> } {
      return topic
        ? { beforeDisconnect: () => conn.publish(topic, payload(false), { qos: 1, retain: true }) }
        : {};
    },
  };
}
