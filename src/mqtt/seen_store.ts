import { dirname } from "node:path";
import { z } from "zod";
import { writeAll, writeFileDurable } from "../model/mod.ts";

/** Options of {@linkcode openSeenStore}. */
export interface SeenStoreOptions {
  /** How long a task id is remembered (ms). Keep it ≥ the maximum command age. */
  retentionMs: number;
  /** Most task ids remembered; the oldest are forgotten first. */
  maxEntries: number;
  now?: () => number;
}

/** What a task asked for, kept with its id so that an interrupted one can still be audited. */
const SeenTaskSchema = z.strictObject({
  service: z.string(),
  command: z.string(),
  sender: z.string().optional(),
});

/** What a command asked for (see {@linkcode SeenStore.markSeen}). */
export type SeenTask = z.infer<typeof SeenTaskSchema>;

/** A task an earlier process accepted and did not finish: its id and, when known, what it was. */
export interface UnfinishedTask extends Partial<SeenTask> {
  task_id: number | string;
}

/**
 * The task ids this agent accepted recently, kept durably so that a redelivered or repeated
 * command is refused (0x1100) instead of run twice, also across restarts; and whether each
 * one's result was produced, so that a command interrupted by a crash can still be answered.
 * An append-only file: `<ms>\t<task_id as JSON>\tseen\t<SeenTask as JSON>` when accepted (files
 * written before the task was kept have `<ms>\t<task_id as JSON>`), `<ms>\t<task_id>\tdone` when
 * its result was handed on; each line synced to disk before the call resolves; compacted (durably)
 * on open and when it doubles.
 */
export interface SeenStore {
  /**
   * Records `taskId` (and what it asks for, when it is a command) as accepted; false (and
   * nothing written) when it was already seen.
   */
  markSeen(taskId: number | string, task?: SeenTask): Promise<boolean>;
  /** Records that `taskId`'s result was handed on (spooled). */
  markDone(taskId: number | string): Promise<void>;
  has(taskId: number | string): boolean;
  /** Accepted before this process started, without a result: the agent died handling them. */
  unfinished(): UnfinishedTask[];
  readonly size: number;
  close(): void;
}

interface Entry {
  at: number;
  done: boolean;
  task: SeenTask | undefined;
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
      const [stamp, key, flag, task] = line.split("\t");
      const at = Number(stamp);
      if (!Number.isFinite(at) || !key) continue;
      const old = seen.get(key);
      const done = flag === "done";
      // A finished task's service and command are no longer needed (only unfinished ones are
      // audited on restart): not kept in memory.
      if (!old) seen.set(key, { at, done, task: done ? undefined : parseTask(task) });
      else if (done) [old.done, old.task] = [true, undefined];
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  expire();
  const unfinished: UnfinishedTask[] = [...seen].filter(([, e]) => !e.done)
    .map(([k, e]) => ({ task_id: JSON.parse(k), ...e.task }));
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
    for (const [key, e] of seen) text += line(key, e);
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
    async markSeen(taskId, task) {
      const key = JSON.stringify(taskId);
      if (seen.has(key)) return false;
      const entry: Entry = { at: now(), done: false, task };
      seen.set(key, entry);
      await append(line(key, entry));
      return true;
    },
    async markDone(taskId) {
      const key = JSON.stringify(taskId);
      const e = seen.get(key);
      if (!e || e.done) return;
      e.done = true;
      e.task = undefined; // needed only while unfinished
      await append(line(key, e));
    },
    has: (taskId) => seen.has(JSON.stringify(taskId)),
    unfinished: () => unfinished.map((u) => ({ ...u })),
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

/** One line of the file (JSON escapes tabs and newlines, so neither field can contain them). */
function line(key: string, e: Entry): string {
  if (e.done) return `${e.at}\t${key}\tdone\n`;
  return e.task ? `${e.at}\t${key}\tseen\t${JSON.stringify(e.task)}\n` : `${e.at}\t${key}\n`;
}

/** The task field of a line; undefined when absent or not what markSeen() wrote. */
function parseTask(text: string | undefined): SeenTask | undefined {
  if (!text) return undefined;
  try {
    const parsed = SeenTaskSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // a torn last line
  }
}
