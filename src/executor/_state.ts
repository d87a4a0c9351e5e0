import { join } from "node:path";
import { z } from "zod";
import { setAsideSync, writeFileDurable } from "../model/mod.ts";

/**
 * The executor's durable state (`StateDir/executor-state.json`): rule-triggered run times per
 * service/command (max runs per window) and the closed-loop entries, so an agent restart neither
 * resets the storm protection nor forgets a repair being verified or given up on.
 */
export const STATE_FILE = "executor-state.json";

const LoopSchema = z.strictObject({
  handler: z.string(),
  key: z.string(),
  service: z.string(),
  command: z.string(),
  /** Runs made so far for this condition (0: the trigger is still held back). */
  attempt: z.number().int().min(0),
  /** watching: waiting for `cleared` until `at`; waiting: next run (first or retry) at `at`;
   * escalated: gave up at `at`, no more runs until the handler clears. */
  phase: z.enum(["watching", "waiting", "escalated"]),
  at: z.number(),
  /** When the first run for this condition happened (the trigger, while none has run). */
  since: z.number(),
  /** When the latest run started (verification times are measured from it). */
  ran: z.number().optional(),
});
export type LoopEntry = z.infer<typeof LoopSchema>;

const StateSchema = z.strictObject({
  version: z.literal(1),
  history: z.record(z.string(), z.array(z.number())),
  loops: z.array(LoopSchema),
});
export type ExecutorState = z.infer<typeof StateSchema>;

export function emptyState(): ExecutorState {
  return { version: 1, history: {}, loops: [] };
}

/**
 * Reads the state; a missing file is a fresh start, an unreadable one (torn, not JSON, another
 * shape) is set aside as `executor-state.json.corrupt-<time>` and reported; the agent starts
 * with empty state. Never throws: no state file can stop the agent from starting.
 */
export async function loadState(
  stateDir: string,
  onInvalid: (why: string) => void,
): Promise<ExecutorState> {
  const file = join(stateDir, STATE_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      onInvalid(`cannot read ${file} (${(e as Error).message}); starting with empty state`);
    }
    return emptyState();
  }
  let why: string;
  try {
    const parsed = StateSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    why = `invalid: ${z.prettifyError(parsed.error).replace(/\s*\n\s*/g, "; ")}`;
  } catch (e) {
    why = `not JSON: ${(e as Error).message}`;
  }
  const saved = setAsideSync(file);
  onInvalid(
    `${file} is unreadable (${why}; ${text.length} bytes lost); ` +
      (saved ? `set aside as ${saved}` : "it could not be set aside") +
      "; starting with empty storm and closed-loop state",
  );
  return emptyState();
}

/**
 * Writes state atomically and durably (synced temp file, rename, folder synced); calls are
 * serialised, the last one wins.
 */
export function stateWriter(stateDir: string): (s: ExecutorState) => Promise<void> {
  const file = join(stateDir, STATE_FILE);
  let chain = Promise.resolve();
  return (s) => {
    const bytes = new TextEncoder().encode(JSON.stringify(s) + "\n");
    // A failed write (disk full) is the caller's to report; the next one is still tried.
    chain = chain.catch(() => {}).then(async () => {
      await Deno.mkdir(stateDir, { recursive: true });
      await writeFileDurable(file, bytes, { mode: 0o600 });
    });
    return chain;
  };
}
