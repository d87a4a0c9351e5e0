/**
 * What the closed loop tells the operator: a repair not confirmed (a retry follows), given up on
 * (its runs did not clear the condition, or MaxRuns per Window was reached), or verified.
 * @module
 */
import type { LoopEntry } from "./_state.ts";
import type { CompiledCommand } from "./services.ts";

const where = (e: LoopEntry) => `${e.service}/${e.command}`;
const iso = (ms: number) => new Date(ms).toISOString();
const secs = (ms: number) => Math.round(ms / 100) / 10;

/** The condition outlasted the Verify window of run `entry.attempt`; the retry comes at `entry.at`. */
export function notConfirmedMessage(entry: LoopEntry, cmd: CompiledCommand, now: number): string {
  return `repair not confirmed: ${entry.handler} still active for ${entry.key} ${
    cmd.verifyMs / 1000
  } s after running ${where(entry)}; retry ${entry.attempt}/${cmd.retries} in ${
    (entry.at - now) / 1000
  } s`;
}

/** The closed loop gave up: every allowed run was made and the condition still holds. */
export function giveUpMessage(entry: LoopEntry): string {
  return `repair did not work: ${entry.handler} still active for ${entry.key} after ` +
    `${entry.attempt} run(s) of ${where(entry)} since ${iso(entry.since)}; ` +
    "giving up: no more runs until the condition clears";
}

/** MaxRuns per Window reached: `runs` of the command (for any condition) are in the window. */
export function maxRunsMessage(entry: LoopEntry, cmd: CompiledCommand, runs: number): string {
  const window = cmd.windowMs / 1000;
  const own = entry.attempt === 0
    ? ""
    : `, after ${entry.attempt} run(s) for it since ${iso(entry.since)} that did not clear it`;
  return `REPAIR IS NOT WORKING: ${
    where(entry)
  } already ran ${runs} times in the last ${window} s ` +
    `(MaxRuns ${cmd.maxRuns} per Window ${window} s); not run for ${entry.handler} on ` +
    `${entry.key}${own}; giving up: no more runs for this condition until it clears`;
}

/** The condition cleared at `at`, within the Verify window of the latest run. */
export function verifiedMessage(entry: LoopEntry, at: number): string {
  const ran = entry.ran ?? entry.since;
  const first = entry.attempt > 1 ? `; ${secs(at - entry.since)} s after the first run` : "";
  return `repair verified: the condition cleared ${secs(at - ran)} s after ${
    where(entry)
  } ran${first}`;
}
