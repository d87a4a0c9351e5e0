import { dirname } from "node:path";
import { writeAll, writeFileDurable } from "../model/mod.ts";

/** Options of {@linkcode openSeenStore}. */
export interface SeenStoreOptions {
  /** How long a task id is remembered (ms). Keep it ≥ the maximum command age. */
  retentionMs: number;
  /** Most task ids remembered; the oldest are forgotten first. */
  maxEntries: number;
  now?: () => number;
}

/**
 * The task ids this agent accepted recently, kept durably so that a redelivered or repeated
 * command is refused (0x1100) instead of run twice, also across restarts; and whether each
 * one's result was produced, so that a command interrupted by a crash can still be answered.
 * An append-only file: `<ms>\t<task_id as JSON>` when accepted, the same plus `\tdone` when its
 * result was handed on; each line synced to disk before the call resolves; compacted (durably)
 * on open and when it doubles.
 */
export interface SeenStore {
  /** Records `taskId` as accepted; false (and nothing written) when it was already seen. */
  markSeen(taskId: number | string): Promise<boolean>;
  /** Records that `taskId`'s result was handed on (spooled). */
  markDone(taskId: number | string): Promise<void>;
  has(taskId: number | string): boolean;
  /** Accepted before this process started, without a result: the agent died handling them. */
  unfinished(): (number | string)[];
  readonly size: number;
  close(): void;
}

interface Entry {
  at: number;
  done: boolean;
}

/** Opens (creating it) the seen-task-id file `path`. */
export async function openSeenStore(path: string, options: SeenStoreOptions): Promise<SeenStore> {
  const now = options.now ?? Date.now;
  const seen = new Map<string, Entry>();
  const encoder = new TextEncoder();
  await Deno.mkdir(dirname(path), { recursive: true });
  try {
    const text = await Deno.readTextFile(path);
    for (const line of text.split("\n")) {
      const [stamp, key, flag] = line.split("\t");
      const at = Number(stamp);
      if (!Number.isFinite(at) || !key) continue;
      const old = seen.get(key);
      if (old) old.done ||= flag === "done";
      else seen.set(key, { at, done: flag === "done" });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  expire();
  const unfinished = [...seen].filter(([, e]) => !e.done).map(([k]) => JSON.parse(k));
  await rewrite();
  let lines = seen.size;
  let file = await Deno.open(path, { append: true, create: true });

  function expire() {
    const oldest = now() - options.retentionMs;
    for (const [key, e] of seen) {
      if (e.at < oldest || seen.size > options.maxEntries) seen.delete(key);
      else break;
    }
  }

  async function rewrite() {
    let text = "";
    for (const [key, e] of seen) text += `${e.at}\t${key}${e.done ? "\tdone" : ""}\n`;
    await writeFileDurable(path, encoder.encode(text));
  }

  async function append(line: string) {
    await writeAll(file, encoder.encode(line));
    await file.syncData(); // on disk before the broker's acknowledgement, also across a power loss
    lines++;
    if (lines > 2 * options.maxEntries || lines > 1000 + 2 * seen.size) {
      expire();
      file.close();
      await rewrite();
      file = await Deno.open(path, { append: true, create: true });
      lines = seen.size;
    }
  }

  return {
    async markSeen(taskId) {
      const key = JSON.stringify(taskId);
      if (seen.has(key)) return false;
      const at = now();
      seen.set(key, { at, done: false });
      await append(`${at}\t${key}\n`);
      return true;
    },
    async markDone(taskId) {
      const key = JSON.stringify(taskId);
      const e = seen.get(key);
      if (!e || e.done) return;
      e.done = true;
      await append(`${e.at}\t${key}\tdone\n`);
    },
    has: (taskId) => seen.has(JSON.stringify(taskId)),
    unfinished: () => [...unfinished],
    get size() {
      return seen.size;
    },
    close() {
      try {
        file.close();
      } catch {
        // already closed
      }
    },
  };
}
