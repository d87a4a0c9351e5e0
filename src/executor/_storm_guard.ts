import type { CompiledCommand } from "./services.ts";

/** Why a rule-triggered run may not start now, or null when it may. */
export type Refusal = { reason: "cooldown" | "max_runs"; untilMs: number } | null;

/**
 * Restart-storm protection: the epoch ms of each service/command's rule-triggered runs, oldest
 * first, held against its Cooldown and MaxRuns per Window. Runs outside the window are pruned
 * when asked for a refusal. Persisted as the executor state's `history` (`service/command` →
 * run times).
 */
export class StormGuard {
  readonly #runs = new Map<string, number[]>();

  /** Why `cmd` may not run now (cooldown: until its end; max runs: until the oldest leaves). */
  refusal(cmd: CompiledCommand, now: number): Refusal {
    const runs = this.#of(cmd);
    while (runs.length && runs[0]! <= now - cmd.windowMs) runs.shift();
    if (runs.length >= cmd.maxRuns) return { reason: "max_runs", untilMs: runs[0]! + cmd.windowMs };
    const last = runs[runs.length - 1];
    if (last !== undefined && now < last + cmd.cooldownMs) {
      return { reason: "cooldown", untilMs: last + cmd.cooldownMs };
    }
    return null;
  }

  /** `cmd` ran for a rule at `at`. */
  ran(cmd: CompiledCommand, at: number): void {
    this.#of(cmd).push(at);
  }

  /** Rule-triggered runs of `cmd` in its window (as of the last `refusal`). */
  runs(cmd: CompiledCommand): number {
    return this.#of(cmd).length;
  }

  /** The run times by `service/command` (the state file's `history`). */
  toJSON(): Record<string, number[]> {
    return Object.fromEntries(this.#runs);
  }

  /** Takes over persisted run times of the commands `known` still names. */
  restore(
    history: Record<string, number[]>,
    known: (service: string, command: string) => boolean,
  ): void {
    for (const [where, times] of Object.entries(history)) {
      const slash = where.indexOf("/");
      if (known(where.slice(0, slash), where.slice(slash + 1))) this.#runs.set(where, times);
    }
  }

  #of(cmd: CompiledCommand): number[] {
    const where = `${cmd.service}/${cmd.command}`;
    let runs = this.#runs.get(where);
    if (!runs) this.#runs.set(where, runs = []);
    return runs;
  }
}
