import { join } from "node:path";
import { z } from "zod";
import { renameDurable, setAsideSync } from "../../model/mod.ts";
import { removeIfPresent } from "./_files.ts";

/** File name of the journal inside StateDir. */
export const JOURNAL_FILE = "collectd-config-replace.json";

const ResultSchema = z.strictObject({
  task_id: z.union([z.number(), z.string()]),
  timestamp: z.string(),
  message: z.string(),
  code: z.number().int(),
});

/**
 * How far one replacement got, written before each step that changes collectd.conf or collectd,
 * so an agent restarted in the middle can finish it:
 * - `prepared`: the new file is written next to the old one; collectd.conf is unchanged.
 * - `swapped`: the new file is collectd.conf; the old one is at `backup`; restart pending.
 * - `rolling_back`: the new config failed (`cause`); the old file is being put back.
 * - `done`: `result` is final and not yet handed back.
 */
export const JournalSchema = z.strictObject({
  task_id: z.union([z.number(), z.string()]),
  timestamp: z.string(),
  sender: z.string().optional(),
  phase: z.enum(["prepared", "swapped", "rolling_back", "done"]),
  config: z.string(),
  next: z.string(),
  backup: z.string(),
  /** Pid of the collectd running before the restart (null: none was running). */
  oldPid: z.number().int().nullable(),
  /** Pid files of the old and the new config (they may differ). */
  oldPidFile: z.string(),
  newPidFile: z.string(),
  /** `Hostname` of the old and the new config, when set: whose metrics prove collectd is back. */
  oldHost: z.string().optional(),
  newHost: z.string().optional(),
  /** sha256 (hex) of the new text, to tell which file is in place after a crash. */
  newSha256: z.string(),
  startedAt: z.number(),
  cause: z.strictObject({ code: z.number().int(), message: z.string() }).optional(),
  result: ResultSchema.optional(),
});

export type Journal = z.infer<typeof JournalSchema>;

/** The durable record of the replacement in progress (at most one). */
export interface JournalStore {
  /**
   * The pending journal, or null. A corrupt file is set aside (`<file>.corrupt-<time>`, so it
   * blocks no later replacement) and reported as an Error naming both files.
   */
  read(): Promise<Journal | null>;
  write(journal: Journal): Promise<void>;
  clear(): Promise<void>;
}

/** A journal kept as one JSON file in `stateDir`, replaced atomically on every write. */
export function createJournalStore(stateDir: string): JournalStore {
  const path = join(stateDir, JOURNAL_FILE);
  const tmp = `${path}.tmp`;
  return {
    async read() {
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return null;
        throw e;
      }
      let why: string;
      try {
        const parsed = JournalSchema.safeParse(JSON.parse(text));
        if (parsed.success) return parsed.data;
        why = z.prettifyError(parsed.error).replace(/\s*\n\s*/g, "; ");
      } catch (e) {
        why = `not JSON: ${(e as Error).message}`;
      }
      const saved = setAsideSync(path);
      throw new Error(
        `${path} is not a valid replacement journal (${why}); ` +
          (saved ? `set aside as ${saved}` : "it could not be set aside") +
          ": check collectd.conf and collectd by hand",
      );
    },
    async write(journal) {
      await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
      const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
      try {
        await file.write(new TextEncoder().encode(JSON.stringify(journal) + "\n"));
        await file.sync();
      } finally {
        file.close();
      }
      await renameDurable(tmp, path);
    },
    clear: () => removeIfPresent(path),
  };
}
