/** Soak harness: everything observed during a run, gathered for the checks. */
import type { FaultLog } from "./context.ts";
import type { SeenResult, SentTask } from "./operator.ts";
import type { RssSample } from "./rss.ts";
import type { Scrape } from "./scrape.ts";
import type { SoakLayout } from "./setup.ts";

/** One line of the marker file: a recovery command started/ran/finished. */
export interface Mark {
  at: number;
  label: string;
  phase: "run" | "start" | "done";
  pid: number;
}

/** One line of the agent's audit file (the fields the checks use). */
export interface AuditEntry {
  time: string;
  task_id: string | number;
  trigger: string;
  service: string;
  command: string;
  code: number;
}

/** What the checks look at. */
export interface SoakFacts {
  layout: SoakLayout;
  startedAt: number;
  endedAt: number;
  tasks: SentTask[];
  results: SeenResult[];
  marks: Mark[];
  audit: AuditEntry[];
  selfExits: string[];
  generations: number;
  generationStarts: number[];
  rss: RssSample[];
  scrapes: Scrape[];
  /** /healthz status codes seen (null: unreachable). */
  health: (number | null)[];
  faults: FaultLog;
  peerCrashes: string[];
  /** Highest accepted loss of valid values during floods (default 0.1). */
  floodLossLimit?: number;
  /** Exit status of the final SIGTERM stop (0 expected). */
  finalExit: number | null;
}

/** Parses the marker file (`<unix seconds> <label> <phase> <pid>` per line). */
export function parseMarks(text: string): Mark[] {
  const out: Mark[] = [];
  for (const line of text.split("\n")) {
    const [t, label, phase, pid] = line.trim().split(" ");
    if (!t || !label || (phase !== "run" && phase !== "start" && phase !== "done")) continue;
    out.push({ at: Number(t) * 1000, label, phase, pid: Number(pid) });
  }
  return out;
}

/** Reads StateDir/audit.jsonl and its rotated copies (oldest first); bad lines are skipped. */
export async function readAudit(stateDir: string): Promise<AuditEntry[]> {
  const files: string[] = [];
  for (let i = 9; i >= 1; i--) files.push(`${stateDir}/audit.jsonl.${i}`);
  files.push(`${stateDir}/audit.jsonl`);
  const out: AuditEntry[] = [];
  for (const f of files) {
    const text = await Deno.readTextFile(f).catch(() => "");
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line));
      } catch { /* a torn last line after SIGKILL */ }
    }
  }
  return out;
}
