import type { Logger } from "../model/mod.ts";
import type { BrokerConnection, QoS } from "./connection.ts";
import type { Spool, SpoolEntry } from "./spool.ts";

/** Options of {@linkcode createOutbox}. */
export interface OutboxOptions {
  logger: Logger;
  /**
   * Most publishes handed to the connection and not yet acknowledged; the rest wait in order.
   * mosquitto 2.0.11 stalls with more than ~20 QoS 2 messages in flight. Default 10.
   */
  window?: number;
}

/**
 * Publishes messages that must not be lost: each is written to the spool first, handed to the
 * connection, and removed from the spool only once the broker acknowledged it. Entries left
 * by an earlier run are published by `replay()`.
 */
export interface Outbox {
  /** Spools and publishes; resolves once spooled (not when acknowledged). */
  send(topic: string, payload: string, options: { qos: QoS; retain?: boolean }): Promise<void>;
  /** Publishes what earlier runs left in the spool (call once, at start). */
  replay(): void;
  /** Resolves true once every message sent so far was acknowledged, false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean>;
}

/** An outbox over `spool` and `connection`. */
export function createOutbox(
  spool: Spool,
  connection: BrokerConnection,
  options: OutboxOptions,
): Outbox {
  const log = options.logger;
  const window = options.window ?? 10;
  const waiting: SpoolEntry[] = [];
  let active = 0;
  let idle: (() => void)[] = [];

  function pump() {
    while (active < window && waiting.length > 0) publish(waiting.shift()!);
    if (active === 0 && waiting.length === 0) {
      for (const w of idle) w();
      idle = [];
    }
  }

  function publish(entry: SpoolEntry) {
    active++;
    connection.publish(entry.topic, entry.payload, { qos: entry.qos, retain: entry.retain })
      .then(
        () => spool.remove(entry.id),
        (e) =>
          log.warn("publish not acknowledged; the result stays in the spool until the next start", {
            topic: entry.topic,
            error: (e as Error).message,
          }),
      )
      .catch((e) => log.error("cannot remove a spool entry", { error: (e as Error).message }))
      .finally(() => {
        active--;
        pump();
      });
  }

  return {
    async send(topic, payload, { qos, retain = false }) {
      waiting.push(await spool.add({ topic, payload, qos, retain }));
      pump();
    },
    replay() {
      const entries = spool.pending();
      if (entries.length > 0) {
        log.info("publishing results left in the spool", { count: entries.length });
      }
      waiting.push(...entries);
      pump();
    },
    async drain(timeoutMs) {
      if (active === 0 && waiting.length === 0) return true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ok = await Promise.race([
        new Promise<true>((r) => idle.push(() => r(true))),
        new Promise<false>((r) => timer = setTimeout(() => r(false), timeoutMs)),
      ]);
      clearTimeout(timer);
      return ok;
    },
  };
}
