import { join } from "node:path";
import { z } from "zod";
import { type Counters, type Logger, setAsideName, writeFileDurable } from "../model/mod.ts";

/**
 * What a spool file must hold: a topic the agent may publish to (no wildcard, no NUL, at most
 * 65 535 bytes), a string payload, a QoS and the retain flag. Anything else was not written by
 * this spool and cannot be published.
 */
const SpoolFileSchema = z.strictObject({
  topic: z.string().min(1).max(65_535).refine(
    (t) => !/[+#]/.test(t) && !t.includes("\u0000"),
    "must not hold + # or NUL",
  ),
  payload: z.string(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  retain: z.boolean(),
});

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
 * A durable outbox folder: one JSON file per message, written (temp file synced, renamed, folder
 * synced) before the message is published and removed after the broker acknowledged it.
 * Survives broker outages, agent crashes (SIGKILL) and power loss: the files are replayed on
 * the next start. Bounded by `maxEntries`; when full the oldest message is dropped with an
 * error log line. When the folder cannot be written (disk full, read-only, gone), the message
 * is kept in memory only, still published, and the failure is logged and counted. A file that
 * is not a spool entry (cut short, another shape: see SpoolFileSchema) is set aside at open as
 * `<name>.corrupt-<time>` with an error line naming it, and never published.
 */
export interface Spool {
  /** Entries left by earlier runs (or not yet acknowledged), oldest first. */
  pending(): SpoolEntry[];
  /** Writes a message durably (in memory only when the disk fails) and returns its entry. */
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
    const file = join(dir, name);
    let why: string;
    let text = "";
    try {
      text = await Deno.readTextFile(file);
      const parsed = SpoolFileSchema.safeParse(JSON.parse(text));
      if (parsed.success) {
        entries.set(name, { id: name, ...parsed.data });
        continue;
      }
      why = z.prettifyError(parsed.error).replace(/\s*\n\s*/g, "; ");
    } catch (e) {
      why = (e as Error).message;
    }
    // Set aside, not published (it would throw on publish and drop the connection) nor deleted.
    const savedAs = setAsideName(file);
    const moved = await Deno.rename(file, savedAs).then(() => true, () => false);
    if (!moved) await Deno.remove(file).catch(() => {});
    options.logger.error("unreadable spool entry set aside: it is not published", {
      file,
      offset: 0,
      error: why,
      lost: text.slice(0, 200),
      saved_as: moved ? savedAs : null,
    });
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
  const writeErrors = options.counters?.counter(
    "edge_agent_mqtt_spool_write_errors_total",
    "Results the MQTT spool could not write to disk (kept in memory and published anyway)",
  );
  /** Entries held in memory only (their file could not be written). */
  const memoryOnly = new Set<string>();
  /** Whether the last write failed (the next success is logged as the recovery). */
  let failing = false;
  let seq = 0;
  const encoder = new TextEncoder();
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
        if (!memoryOnly.delete(oldest)) await Deno.remove(join(dir, oldest)).catch(() => {});
        dropped?.inc();
        options.logger.error("MQTT spool full: dropped the oldest result", {
          max: options.maxEntries,
          topic: victim.topic,
          payload: victim.payload.slice(0, 200),
        });
      }
      const id = `${stamp}-${(seq++).toString().padStart(9, "0")}.json`;
      try {
        await writeFileDurable(join(dir, id), encoder.encode(JSON.stringify(message)));
        if (failing) options.logger.info("the MQTT spool is writable again", { dir });
        failing = false;
      } catch (e) {
        memoryOnly.add(id);
        writeErrors?.inc();
        if (!failing) {
          options.logger.error(
            "cannot write the MQTT spool: results are published from memory and lost if the " +
              "agent stops before the broker acknowledges them",
            { dir, error: (e as Error).message },
          );
        }
        failing = true;
      }
      const entry = { id, ...message };
      entries.set(id, entry);
      gauge?.set(entries.size);
      return entry;
    },
    async remove(id) {
      if (!entries.delete(id)) return;
      gauge?.set(entries.size);
      if (memoryOnly.delete(id)) return;
      await Deno.remove(join(dir, id)).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      // Without the folder sync a power loss could bring the removed name back: a duplicate,
      // which consumers tell apart by task_id; not worth a second sync per result.
    },
  };
}
