import { dirname } from "node:path";
import { z } from "zod";
import {
  type Logger,
  openLineAppender,
  readLineLog,
  taskKey,
  writeFileDurable,
} from "../model/mod.ts";

/** Options of {@linkcode openSeenStore}. */
export interface SeenStoreOptions {
  /** How long a task id is remembered (ms). Keep it ≥ the maximum command age. */
  retentionMs: number;
  /** Most task ids remembered; the oldest are forgotten first. */
  maxEntries: number;
  /**
   * Where what could not be read (set aside at open) or written (a finished task, disk full) is
   * reported.
   */
  logger?: Logger;
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
 * on open and when it doubles. Read by the one line-log reader (model/line_log.ts): a torn or
 * unreadable line is set aside (logged, the original kept as `<file>.corrupt-<time>`), every
 * complete line kept. Ids are compared in one form (`taskKey`: 154 and "154" are one task).
 */
export interface SeenStore {
  /**
   * Records `taskId` (and what it asks for, when it is a command) as accepted; false (and
   * nothing written) when it was already seen. Throws when the record cannot be written (disk
   * full): the id is then not accepted, so the same command may be sent again.
   */
  markSeen(taskId: number | string, task?: SeenTask): Promise<boolean>;
  /**
   * Records that `taskId`'s result was handed on (spooled). Never throws: a line that cannot be
   * written is logged and written with the next one.
   */
  markDone(taskId: number | string): Promise<void>;
  has(taskId: number | string): boolean;
  /** Accepted before this process started, without a result: the agent died handling them. */
  unfinished(): UnfinishedTask[];
  readonly size: number;
  /** Writes what markDone() could not (best effort; call before close()). */
  flush(): Promise<void>;
  close(): void;
}

interface Entry {
  /** The id as it was sent (number or string): answers echo it. */
  id: number | string;
  at: number;
  done: boolean;
  task: SeenTask | undefined;
}

/** A task id as stored: what the command router accepts (see message.ts's TaskIdSchema). */
const StoredIdSchema = z.union([
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  // deno-lint-ignore no-control-regex
  z.string().min(1).max(128).regex(/^[^\u0000-\u001f\u007f-\u009f]+$/),
]);

/** One parsed line of the file. */
interface Line {
  key: string;
  id: number | string;
  at: number;
  done: boolean;
  task: SeenTask | undefined;
}

/** Opens (creating it) the seen-task-id file `path`. */
export async function openSeenStore(path: string, options: SeenStoreOptions): Promise<SeenStore> {
  const now = options.now ?? Date.now;
  const log = options.logger;
  const seen = new Map<string, Entry>();
  await Deno.mkdir(dirname(path), { recursive: true });
  const { records } = await readLineLog(path, {
    parse: parseLine,
    ...(log ? { logger: log } : {}),
    now,
  });
  for (const r of records) {
    const old = seen.get(r.key);
    // A finished task's service and command are no longer needed (only unfinished ones are
    // audited on restart): not kept in memory.
    if (!old) {
      seen.set(r.key, { id: r.id, at: r.at, done: r.done, task: r.done ? undefined : r.task });
    } else if (r.done) [old.done, old.task] = [true, undefined];
  }
  expire();
  const unfinished: UnfinishedTask[] = [...seen.values()].filter((e) => !e.done)
    .map((e) => ({ task_id: e.id, ...e.task }));
  await rewrite().catch((e) =>
    log?.error("cannot compact the seen-task-id file; appending to it as it is", {
      file: path,
      error: (e as Error).message,
    })
  );
  let lines = seen.size;
  let file = await openLineAppender(path);
  /** `done` lines whose append failed (disk full): written before the next line. */
  let backlog = "";

  function expire() {
    const oldest = now() - options.retentionMs;
    for (const [key, e] of seen) {
      if (e.at < oldest || seen.size > options.maxEntries) seen.delete(key);
      else break;
    }
  }

  async function rewrite() {
    let text = "";
    for (const e of seen.values()) text += line(e);
    await writeFileDurable(path, new TextEncoder().encode(text), { mode: 0o600 });
  }

  async function append(text: string) {
    await file.append(backlog + text); // synced: on disk before the broker's acknowledgement
    backlog = "";
    lines++;
    if (lines > 2 * options.maxEntries || lines > 1000 + 2 * seen.size) {
      expire();
      file.close();
      await rewrite().catch((e) =>
        log?.error("cannot compact the seen-task-id file", { file: path, error: e.message })
      );
      file = await openLineAppender(path);
      lines = seen.size;
    }
  }

  return {
    async markSeen(taskId, task) {
      const key = taskKey(taskId);
      if (seen.has(key)) return false;
      const entry: Entry = { id: taskId, at: now(), done: false, task };
      seen.set(key, entry);
      try {
        await append(line(entry));
      } catch (e) {
        seen.delete(key); // not recorded: not accepted, so it may be sent again
        throw new Error(`cannot record the task id in ${path}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      return true;
    },
    async markDone(taskId) {
      const e = seen.get(taskKey(taskId));
      if (!e || e.done) return;
      e.done = true;
      e.task = undefined; // needed only while unfinished
      try {
        await append(line(e));
      } catch (err) {
        if (backlog === "") {
          log?.error(
            "cannot record a finished task in the seen-task-id file; retried with the next one",
            { file: path, task_id: taskId, error: (err as Error).message },
          );
        }
        backlog += line(e);
      }
    },
    has: (taskId) => seen.has(taskKey(taskId)),
    unfinished: () => unfinished.map((u) => ({ ...u })),
    get size() {
      return seen.size;
    },
    async flush() {
      if (backlog === "") return;
      try {
        await file.append(backlog);
        backlog = "";
      } catch (e) {
        log?.error("finished tasks not recorded: they are answered 0x1009 after the restart", {
          file: path,
          error: (e as Error).message,
        });
      }
    },
    close() {
      file.close();
    },
  };
}

/** One line of the file (JSON escapes tabs and newlines, so neither field can contain them). */
function line(e: Entry): string {
  const id = JSON.stringify(e.id);
  if (e.done) return `${e.at}\t${id}\tdone\n`;
  return e.task ? `${e.at}\t${id}\tseen\t${JSON.stringify(e.task)}\n` : `${e.at}\t${id}\n`;
}

/**
 * A complete line: `<ms>\t<id>`, `<ms>\t<id>\tseen\t<task>` or `<ms>\t<id>\tdone`; anything
 * else (garbage, a field of the wrong shape) is unreadable and set aside by the reader.
 */
function parseLine(text: string): Line | undefined {
  const [stamp, idText, flag, task, ...rest] = text.split("\t");
  if (rest.length > 0 || !stamp || !/^\d{1,16}$/.test(stamp) || idText === undefined) return;
  const id = StoredIdSchema.safeParse(JSON.parse(idText));
  if (!id.success) return;
  const at = Number(stamp);
  if (flag === undefined) {
    return { key: taskKey(id.data), id: id.data, at, done: false, task: undefined };
  }
  if (flag === "done" && task === undefined) {
    return { key: taskKey(id.data), id: id.data, at, done: true, task: undefined };
  }
  if (flag !== "seen" || task === undefined) return;
  const parsed = SeenTaskSchema.safeParse(JSON.parse(task));
  if (!parsed.success) return;
  return { key: taskKey(id.data), id: id.data, at, done: false, task: parsed.data };
}
