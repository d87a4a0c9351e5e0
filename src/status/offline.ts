import type { Config } from "../config/mod.ts";
import { readMaintenance } from "../executor/mod.ts";
import { maintenanceView } from "./_collect.ts";
import { readLastRuns } from "./_runs.ts";
import { STATUS_VERSION, type StoppedReport } from "./schema.ts";
import { hashFile } from "./service.ts";

/**
 * What the state files of `config.StateDir` hold while the agent is not running: the last runs
 * of audit.jsonl (read-only: nothing set aside) and the maintenance switch. `why` says why the
 * agent counts as not running. Never throws: what cannot be read becomes a note.
 */
export async function stoppedReport(
  config: Config,
  why: string,
  options: { now?: number } = {},
): Promise<StoppedReport> {
  const now = options.now ?? Date.now();
  const notes: string[] = [];
  let runs: StoppedReport["recovery"]["last_runs"] = [];
  try {
    const read = await readLastRuns(config.StateDir);
    runs = read.runs;
    notes.push(...read.notes);
  } catch (e) {
    notes.push((e as Error).message);
  }
  let maintenance: StoppedReport["maintenance"] = { on: false };
  try {
    maintenance = maintenanceView(
      readMaintenance(config.StateDir, now, (problem) => notes.push(`maintenance: ${problem}`)),
    );
  } catch (e) {
    notes.push(`maintenance: ${(e as Error).message}`);
  }
  return {
    version: STATUS_VERSION,
    running: false,
    time: new Date(now).toISOString(),
    reason: why,
    state_dir: config.StateDir,
    config: { file: config.source, sha256: (await hashFile(config.source)) ?? null },
    recovery: { last_runs: runs },
    maintenance,
    notes,
  };
}
