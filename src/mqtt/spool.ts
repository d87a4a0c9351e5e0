import { join } from "node:path";
import type { Counters, Logger } from "../model/mod.ts";

/** One message waiting for the broker's acknowledgement. */
export interface SpoolEntry {
  /** File name inside the spool folder (sorts in arrival order). */
  id: string;
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** Options of {@linkcode openSpool}. */
export interface SpoolOptions {
  /** Most entries kept; when full the OLDEST entry is dropped (logged, counted). */
  maxEntries: number;
  logger: Logger;
  counters?: Counters;
}

/**
 * A durable outbox folder: one JSON file per message, written (temp file + rename) before the
 * message is published and removed after the broker acknowledged it. Survives broker outages
 * and agent crashes (SIGKILL): the files are replayed on the next start. Bounded by
 * `maxEntries`; when full the oldest message is dropped with an error log line.
 */
export interface Spool {
  /** Entries left by earlier runs (or not yet acknowledged), oldest first. */
  pending(): SpoolEntry[];
  /** Writes a message durably and returns its entry. */
  add(message: Omit<SpoolEntry, "id">): Promise<SpoolEntry>;
  /** Forgets an acknowledged message. Idempotent. */
  remove(id: string): Promise<void>;
  readonly size: number;
}

/** Opens (creating it) the spool folder `dir` and loads what earlier runs left in it. */
export async function openSpool(dir: string, options: SpoolOptions): Promise<Spool> {
  await Deno.mkdir(dir, { recursive: true });
  const entries = new Map<string, SpoolEntry>();
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
    else if (e.isFile && e.name.endsWith(".tmp")) await Deno.remove(join(dir, e.name));
  }
  names.sort();
  for (const name of names) {
    try {
      const raw = JSON.parse(await Deno.readTextFile(join(dir, name)));
      entries.set(name, { id: name, ...raw });
    } catch (e) {
      options.logger.error("unreadable spool entry removed", {
        file: join(dir, name),
        error: (e as Error).message,
      });
      await Deno.remove(join(dir, name)).catch(() => {});
    }
  }
  const dropped = options.counters?.counter(
    "edge_agent_mqtt_spool_dropped_total",
    "Results dropped from the full MQTT spool (oldest first)",
  );
  const gauge = options.counters?.gauge(
    "edge_agent_mqtt_spool_entries",
    "Results waiting in the MQTT spool for the broker's acknowledgement",
  );
  gauge?.set(entries.size);
  let seq = 0;
  const stamp = Date.now().toString().padStart(15, "0");

  return {
    pending: () => [...entries.values()],
    get size() {
      return entries.size;
    },
    async add(message) {
      while (entries.size >= options.maxEntries) {
        const oldest = entries.keys().next().value!;
        const victim = entries.get(oldest)!;
        entries.delete(oldest);
        await Deno.remove(join(dir, oldest)).catch(() => {});
        dropped?.inc();
        options.logger.error("MQTT spool full: dropped the oldest result", {
          max: options.maxEntries,
          topic: victim.topic,
          payload: victim.payload.slice(0, 200),
        });
      }
      const id = `${stamp}-${(seq++).toString().padStart(9, "0")}.json`;
      const path = join(dir, id);
      await Deno.writeTextFile(path + ".tmp", JSON.stringify(message));
      await Deno.rename(path + ".tmp", path);
      const entry = { id, ...message };
      entries.set(id, entry);
      gauge?.set(entries.size);
      return entry;
    },
    async remove(id) {
      if (!entries.delete(id)) return;
      gauge?.set(entries.size);
      await Deno.remove(join(dir, id)).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    },
  };
}
