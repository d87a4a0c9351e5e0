import type { Gauge, RunRecord, Trigger } from "../model/mod.ts";
import type { Clock } from "./clock.ts";
import { finished } from "./_records.ts";
import type { Runner } from "./runner.ts";
import type { CompiledCommand } from "./services.ts";

/** A command running now (`agent status`): epoch ms it started. */
export interface RunningCommand {
  service: string;
  command: string;
  trigger: Trigger;
  since: number;
}

/** What {@linkcode createSlots} runs with. */
export interface SlotsOptions {
  runner: Runner;
  clock: Clock;
  /** Most runs at once over all services (MaxParallelCommands). */
  maxParallel: number;
  /** Set to the number of runs in progress. */
  gauge: Gauge;
  /** Aborted when the executor stops: running commands are killed. */
  signal: AbortSignal;
}

/**
 * The executor's run slots: one run per service at a time, at most `maxParallel` in all. The
 * caller asks `busyReason` synchronously just before `execute`, which takes the slot at once.
 */
export function createSlots(options: SlotsOptions) {
  const { runner, clock, gauge } = options;
  const busy = new Set<string>();
  const now = new Set<RunningCommand>();
  let running = 0;
  return {
    /** Runs in progress. */
    get running() {
      return running;
    },
    /** The commands running now (copies; `agent status`). */
    inspect(): RunningCommand[] {
      return [...now].map((r) => ({ ...r }));
    },
    /** Why `cmd` cannot start now (its service busy, the global cap reached), or null. */
    busyReason(cmd: CompiledCommand): string | null {
      if (busy.has(cmd.service)) return `service "${cmd.service}" is already running a command`;
      if (running >= options.maxParallel) {
        return `${running} commands are running (MaxParallelCommands)`;
      }
      return null;
    },
    /** Runs `cmd` in a slot and returns its record (result `id`). */
    async execute(
      cmd: CompiledCommand,
      req: { service: string; command: string; trigger: Trigger },
      id: number | string,
    ): Promise<RunRecord> {
      busy.add(cmd.service);
      running++;
      gauge.set(running);
      const time = clock.now();
      const entry = {
        service: cmd.service,
        command: cmd.command,
        trigger: req.trigger,
        since: time,
      };
      now.add(entry);
      try {
        const outcome = await runner.run({
          argv: cmd.argv,
          env: cmd.env,
          timeoutMs: cmd.timeoutMs,
          signal: options.signal,
        });
        return finished(req, id, time, cmd.argv, outcome, cmd.timeoutMs);
      } finally {
        now.delete(entry);
        busy.delete(cmd.service);
        running--;
        gauge.set(running);
      }
    },
  };
}
