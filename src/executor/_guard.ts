import type { CompiledCommand } from "./services.ts";

/** Why a rule-triggered run may not start now, or null when it may. */
export type Refusal = { reason: "cooldown" | "max_runs"; untilMs: number } | null;

/**
 * Restart-storm protection for one service/command (pure): `history` holds the epoch ms of its
 * earlier rule-triggered runs, oldest first, and is pruned here of runs outside the window.
 */
export function refusal(history: number[], cmd: CompiledCommand, now: number): Refusal {
  while (history.length && history[0]! <= now - cmd.windowMs) history.shift();
  if (history.length >= cmd.maxRuns) {
    return { reason: "max_runs", untilMs: history[0]! + cmd.windowMs };
  }
  const last = history[history.length - 1];
  if (last !== undefined && now < last + cmd.cooldownMs) {
    return { reason: "cooldown", untilMs: last + cmd.cooldownMs };
  }
  return null;
}
