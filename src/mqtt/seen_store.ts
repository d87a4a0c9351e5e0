import { dirname } from "node:path";

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
 * command is refused (0x1100) instead of run twice, also across restarts. An append-only file
 * of `<ms>\t<task_id as JSON>` lines, compacted on open and when it doubles.
 */
export interface SeenStore {
  /** Records `taskId`; false (and nothing written) when it was already seen. */
  markSeen(taskId: number | string): Promise<boolean>;
  has(taskId: number | string): boolean;
  readonly size: number;
  close(): void;
}

/** Opens (creating it) the seen-task-id file `path`. */
export async function openSeenStore(path: string, options: SeenStoreOptions): Promise<SeenStore> {
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>();
  await Deno.mkdir(dirname(path), { recursive: true });
  try {
    const text = await Deno.readTextFile(path);
    for (const line of text.split("\n")) {
      const tab = line.indexOf("\t");
      if (tab < 0) continue;
      const at = Number(line.slice(0, tab));
      const key = line.slice(tab + 1);
      if (Number.isFinite(at) && key !== "") seen.set(key, at);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  expire();
  await rewrite();
  let lines = seen.size;
  let file = await Deno.open(path, { append: true, create: true });
  const encoder = new TextEncoder();

  function expire() {
    const oldest = now() - options.retentionMs;
    for (const [key, at] of seen) {
      if (at < oldest || seen.size > options.maxEntries) seen.delete(key);
      else break;
    }
  }

  async function rewrite() {
    let text = "";
    for (const [key, at] of seen) text += `${at}\t${key}\n`;
    await Deno.writeTextFile(path + ".tmp", text);
    await Deno.rename(path + ".tmp", path);
  }

  return {
    async markSeen(taskId) {
      const key = JSON.stringify(taskId);
      if (seen.has(key)) return false;
      const at = now();
      seen.set(key, at);
      await file.write(encoder.encode(`${at}\t${key}\n`));
      lines++;
      if (lines > 2 * options.maxEntries || lines > 1000 + 2 * seen.size) {
        expire();
        file.close();
        await rewrite();
        file = await Deno.open(path, { append: true, create: true });
        lines = seen.size;
      }
      return true;
    },
    has: (taskId) => seen.has(JSON.stringify(taskId)),
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
