import { join } from "node:path";
import { readLineLog, type Reporter } from "../model/mod.ts";
import { AUDIT_FILE, auditLine } from "../reporters/mod.ts";
import { type Run, RunSchema } from "./schema.ts";

/** How many runs `agent status` shows. */
export const LAST_RUNS = 10;

/** The fields of an audit line status shows (audit lines hold more: argv, the whole message). */
const AuditRunSchema = RunSchema.strip();

/** An audit line (parsed JSON) as a run: the message's first line, at most 200 characters. */
export function runOf(line: unknown): Run | null {
  const parsed = AuditRunSchema.safeParse(line);
  if (!parsed.success) return null;
  const a = parsed.data;
  const message = a.message.split("\n", 1)[0]!;
  return RunSchema.parse({
    ...a,
    message: message.length > 200 ? message.slice(0, 199) + "…" : message,
  });
}

/** What {@linkcode readLastRuns} found. */
export interface LastRuns {
  runs: Run[];
  /** What was skipped (unreadable lines), one sentence each. */
  notes: string[];
}

/**
 * The last `count` runs of `StateDir/audit.jsonl` (and of `audit.jsonl.1` when the file was
 * just rotated), oldest first, read with the shared line-log reader in read-only mode: the
 * agent may be appending, so nothing is set aside or rewritten. `before` (epoch ms) keeps only
 * runs recorded before it. Throws only when a file exists and cannot be read.
 */
export async function readLastRuns(
  stateDir: string,
  options: { count?: number; before?: number } = {},
): Promise<LastRuns> {
  const count = options.count ?? LAST_RUNS;
  const notes: string[] = [];
  let runs: Run[] = [];
  for (const name of [AUDIT_FILE, `${AUDIT_FILE}.1`]) {
    const file = join(stateDir, name);
    // Cheap per line (a 10 MiB file holds ~35 000): only the last ones are parsed.
    const { records, setAside } = await readLineLog(file, {
      parse: (l) => l.startsWith("{") ? l : undefined,
      readOnly: true,
    });
    if (setAside) {
      notes.push(
        `${file}: ${setAside.lostLines} unreadable line(s) skipped` +
          (setAside.torn ? " (the last one torn: a write cut short, or one in progress)" : ""),
      );
    }
    const found: Run[] = [];
    let bad = 0;
    for (let i = records.length - 1; i >= 0 && found.length + runs.length < count; i--) {
      let run: Run | null = null;
      try {
        run = runOf(JSON.parse(records[i]!));
      } catch { /* not JSON: counted below */ }
      if (run === null) bad++;
      else if (options.before === undefined || Date.parse(run.time) < options.before) {
        found.push(run);
      }
    }
    if (bad > 0) notes.push(`${file}: ${bad} line(s) that are not audit records skipped`);
    runs = [...found.reverse(), ...runs];
    if (runs.length >= count) break;
  }
  return { runs, notes };
}

/**
 * The last runs of the running agent: a reporter (one of the executor's) keeps the newest
 * {@linkcode LAST_RUNS} in memory; the runs before this process started come from the audit
 * file, read once, at the first `recent()` (not at start: nobody may ever ask).
 */
export function createRunLog(options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  const createdAt = now();
  const ring: Run[] = [];
  let earlier: Promise<LastRuns> | null = null;

  const reporter: Reporter = {
    name: "status",
    report(record) {
      const run = runOf(auditLine(record, now()));
      if (run) {
        ring.push(run);
        if (ring.length > LAST_RUNS) ring.shift();
      }
      return Promise.resolve();
    },
  };

  return {
    reporter,
    /** The last runs, oldest first, with what could not be read of the audit file. */
    async recent(stateDir: string): Promise<LastRuns> {
      earlier ??= readLastRuns(stateDir, { before: createdAt }).catch((e) => ({
        runs: [],
        notes: [`cannot read the audit file: ${(e as Error).message}`],
      }));
      const before = await earlier;
      return { runs: [...before.runs, ...ring].slice(-LAST_RUNS), notes: before.notes };
    },
  };
}

export type RunLog = ReturnType<typeof createRunLog>;
