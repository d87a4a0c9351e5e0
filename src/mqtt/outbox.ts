import type { Logger } from "../model/mod.ts";
import type { BrokerConnection, QoS } from "./connection.ts";
import type { Spool, SpoolEntry } from "./spool.ts";

/** Options of {@linkcode createOutbox}. */
export interface OutboxOptions {
  logger: Logger;
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
  /** Resolves when every message sent so far was acknowledged (or `timeoutMs` passed). */
  drain(timeoutMs: number): Promise<boolean>;
}

/** An outbox over `spool` and `connection`. */
export function createOutbox(
  spool: Spool,
  connection: BrokerConnection,
  options: OutboxOptions,
): Outbox {
  const log = options.logger;
  const inFlight = new Set<Promise<void>>();

  function publish(entry: SpoolEntry) {
    const p = connection.publish(entry.topic, entry.payload, {
      qos: entry.qos,
      retain: entry.retain,
    }).then(
      () => spool.remove(entry.id),
      (e) =>
        log.warn("publish not acknowledged; the result stays in the spool until the next start", {
          topic: entry.topic,
          error: (e as Error).message,
        }),
    ).catch((e) => log.error("cannot remove a spool entry", { error: (e as Error).message }))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  return {
    async send(topic, payload, { qos, retain = false }) {
      const entry = await spool.add({ topic, payload, qos, retain });
      publish(entry);
    },
    replay() {
      const entries = spool.pending();
      if (entries.length > 0) {
        log.info("publishing results left in the spool", { count: entries.length });
      }
      for (const entry of entries) publish(entry);
    },
    async drain(timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<false>((r) => timer = setTimeout(() => r(false), timeoutMs));
      const all = Promise.all([...inFlight]).then(() => true);
      const ok = await Promise.race([all, timeout]);
      clearTimeout(timer);
      return ok;
    },
  };
}
