/**
 * The rule-triggered repair path. A handler that fires asks for a service/command; each such
 * trigger (handler, series key, service/command) gets a closed-loop entry:
 *
 * - `waiting`: its next run is due at `at` (the first one, a held-back one, a retry after its
 *   backoff). Held back by the restart-storm guard (cooldown: until its end; MaxRuns per Window:
 *   given up on), the service being busy, or maintenance (re-checked each minute). A held-back
 *   trigger is not lost: it runs when the hold ends unless the handler cleared meanwhile (the
 *   rule engine reports `fired` once per activation, not again while the condition lasts).
 * - `watching`: it ran; the handler clearing within Verify confirms the repair, else it is
 *   retried with exponential backoff until Retries are spent.
 * - `escalated`: given up on (reported as ESCALATED); no more runs until the handler clears.
 *
 * Its state (run times, loop entries) is persisted through `deps.write` on every change.
 * @module
 */
import type { Counters, Logger } from "../model/mod.ts";
import type { Clock } from "./clock.ts";
import {
  giveUpMessage,
  maxRunsMessage,
  notConfirmedMessage,
  verifiedMessage,
} from "./_loop_messages.ts";
import type { Maintenance } from "./maintenance.ts";
import type { CompiledCommand } from "./services.ts";
import type { ExecutorState, LoopEntry } from "./_state.ts";
import { StormGuard } from "./_storm_guard.ts";
import { createSuppressions, type Suppress } from "./_suppressions.ts";

/** What the rule path needs from the executor around it. */
export interface RulePathDeps {
  clock: Clock;
  log: Logger;
  counters: Counters;
  lookup(service: string, command: string): CompiledCommand | undefined;
  /** Why `cmd` cannot start now (service busy, global cap), or null. */
  busyReason(cmd: CompiledCommand): string | null;
  maintenanceNow(): Maintenance | null;
  /** Runs `cmd` for a rule handler and reports the record; must start synchronously. */
  runForRule(cmd: CompiledCommand, handler: string): Promise<void>;
  /** Reports that the loop gave up (record to every reporter, onEscalation). */
  escalated(entry: LoopEntry, message: string): void;
  /** Keeps a promise in the executor's in-flight set (stop and idle wait for it). */
  track<T>(p: Promise<T>): Promise<T>;
  /** Persists the state (serialised, atomic). */
  write(state: ExecutorState): Promise<void>;
}

/** Escalated entries older than this are not restored: their condition has long changed. */
const ESCALATED_KEEP_MS = 7 * 86_400_000;
/** How often a loop held back by maintenance looks again (so `maintenance off` is noticed). */
const MAINTENANCE_RECHECK_MS = 60_000;
/** How long a loop whose service is busy waits before it tries again. */
const BUSY_RETRY_MS = 5000;

/** What holds a waiting loop back. */
type Hold = "cooldown" | "busy" | "maintenance";

/** A closed-loop entry as `agent status` shows it: what holds it back (or what it waits for). */
export type LoopView = LoopEntry & {
  /**
   * `cooldown`, `busy`, `maintenance`: held back until `at`; `waiting`: the next run is due at
   * `at` (a retry after its backoff, or a trigger restored after a restart); `verifying`: ran,
   * waiting until `at` for the condition to clear; `escalated`: given up on at `at`.
   */
  state: Hold | "waiting" | "verifying" | "escalated";
};

/** One loop per handler, series key and service/command. */
function loopId(e: { handler: string; key: string; service: string; command: string }): string {
  return `${e.handler}\u0000${e.key}\u0000${e.service}/${e.command}`;
}

/** Rule-triggered runs and their closed loops (see the module comment). */
export class RulePath {
  readonly #deps: RulePathDeps;
  readonly #storm = new StormGuard();
  readonly #suppress: Suppress;
  /** The closed-loop entries by {@linkcode loopId} (persisted). */
  readonly #loops = new Map<string, LoopEntry>();
  /** Each entry's timer, due at its `at`. */
  readonly #timers = new Map<string, unknown>();
  /** Entries whose run is in flight → when their condition cleared meanwhile (or null). */
  readonly #inRun = new Map<LoopEntry, number | null>();
  /** Loops whose give-up (escalation) maintenance holds back. */
  readonly #heldGiveUp = new Set<string>();
  /** What holds each held-back loop now (status only: `inspect()`). */
  readonly #holds = new Map<string, Hold>();
  #stopped = false;

  constructor(deps: RulePathDeps) {
    this.#deps = deps;
    this.#suppress = createSuppressions(deps);
  }

  /** A handler fired for series `key` asking for service/command. */
  fired(handler: string, key: string, service: string, command: string): void {
    if (this.#stopped) return;
    const { clock, counters } = this.#deps;
    counters.counter("edge_agent_executor_triggered_total", "Rule-triggered repair requests", {
      service,
    }).inc();
    const id = loopId({ handler, key, service, command });
    const entry = this.#loops.get(id);
    if (entry) {
      const reason = entry.phase === "escalated"
        ? "escalated"
        : entry.attempt === 0
        ? "pending"
        : "verifying";
      return this.#suppress(reason, entry, reason !== "escalated");
    }
    const cmd = this.#deps.lookup(service, command);
    if (!cmd) return this.#suppress("unknown_command", { handler, service, command });
    const now = clock.now();
    const fresh: LoopEntry = {
      handler,
      key,
      service,
      command,
      attempt: 0,
      phase: "waiting",
      at: now,
      since: now,
    };
    this.#loops.set(id, fresh);
    this.#tryRun(fresh, id, cmd);
  }

  /**
   * The handler reports its condition gone for `key`: repairs confirmed, loops re-armed.
   * `removed`: the handler itself went away; its loops end without a verdict.
   */
  cleared(handler: string, key: string, removed = false): void {
    if (this.#stopped) return;
    const { clock, log } = this.#deps;
    let changed = false;
    for (const [id, entry] of this.#loops) {
      if (entry.handler !== handler || entry.key !== key) continue;
      const fields = { handler, key, service_command: `${entry.service}/${entry.command}` };
      if (removed) {
        log.info("rule handler removed while its condition held; closed loop ended", fields);
      } else if (this.#inRun.has(entry)) {
        this.#inRun.set(entry, clock.now()); // judged once the run's own record is out
      } else if (entry.phase === "escalated") {
        log.info("condition cleared after escalation; closed loop re-armed", fields);
      } else if (entry.attempt === 0) {
        log.info("condition cleared before its held-back repair ran", fields);
      } else if (this.#heldGiveUp.has(id)) {
        log.info("condition cleared after its Verify window, during maintenance; not escalated", {
          ...fields,
          runs: entry.attempt,
        });
      } else this.#verdict(entry, this.#deps.lookup(entry.service, entry.command), clock.now());
      this.#forget(id);
      changed = true;
    }
    if (changed) this.save();
  }

  /** Takes over persisted state: commands no longer configured are forgotten. */
  restore(state: ExecutorState): Promise<void> {
    const { clock, log, lookup } = this.#deps;
    const now = clock.now();
    this.#storm.restore(state.history, (service, command) => !!lookup(service, command));
    for (const entry of state.loops) {
      if (!lookup(entry.service, entry.command)) continue;
      if (entry.phase === "escalated" && now - entry.at > ESCALATED_KEEP_MS) continue;
      this.#loops.set(loopId(entry), entry);
      if (entry.phase !== "escalated") this.#schedule(entry);
    }
    if (this.#loops.size) log.info("closed-loop state restored", { entries: this.#loops.size });
    return this.save();
  }

  /** Every loop now with its state (read-only copies, for `agent status`). */
  inspect(): LoopView[] {
    return [...this.#loops].map(([id, e]) => ({
      ...e,
      state: e.phase === "escalated"
        ? "escalated"
        : this.#holds.get(id) ?? (e.phase === "watching" ? "verifying" : "waiting"),
    }));
  }

  /** No more runs or timers; the executor saves the state once more. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) this.#deps.clock.clearTimeout(t);
    this.#timers.clear();
  }

  /** Persists the state now (a failure is logged); the executor's in-flight set holds it. */
  save(): Promise<void> {
    const { log } = this.#deps;
    const state: ExecutorState = {
      version: 1,
      history: this.#storm.toJSON(),
      loops: [...this.#loops.values()],
    };
    return this.#deps.track(
      this.#deps.write(state).catch((e) =>
        log.error("cannot save executor state", { error: (e as Error).message })
      ),
    );
  }

  /** Runs a waiting entry now unless something holds it back (see the module comment). */
  #tryRun(entry: LoopEntry, id: string, cmd: CompiledCommand): void {
    const now = this.#deps.clock.now();
    const r = this.#storm.refusal(cmd, now);
    if (r?.reason === "max_runs") {
      // maintenance holds an escalation back like a run
      if (this.#heldByMaintenance(entry, id)) return;
      this.#suppress("max_runs", entry, true);
      return this.#escalate(entry, id, maxRunsMessage(entry, cmd, this.#storm.runs(cmd)));
    }
    if (r) return this.#hold(entry, id, r.reason, r.untilMs);
    if (this.#deps.busyReason(cmd)) return this.#hold(entry, id, "busy", now + BUSY_RETRY_MS);
    if (this.#heldByMaintenance(entry, id)) return; // last: the only check that reads a file
    if (entry.attempt > 0) {
      this.#deps.counters.counter("edge_agent_executor_retries_total", "Closed-loop retries").inc();
    }
    entry.attempt++;
    this.#run(entry, cmd);
  }

  /** Holds `entry` back until `until` for `reason`. */
  #hold(entry: LoopEntry, id: string, reason: Hold, until: number): void {
    this.#suppress(reason, entry);
    this.#holds.set(id, reason);
    entry.at = until;
    this.#schedule(entry);
    this.save();
  }

  /** Holds `entry` back while maintenance is in force (re-checked each minute); false if off. */
  #heldByMaintenance(entry: LoopEntry, id: string): boolean {
    const m = this.#deps.maintenanceNow();
    if (!m) return false;
    const recheck = this.#deps.clock.now() + MAINTENANCE_RECHECK_MS;
    this.#hold(entry, id, "maintenance", Math.min(m.until, recheck));
    return true;
  }

  /** One run of a closed-loop entry (first run or retry); then watch for `cleared`. */
  #run(entry: LoopEntry, cmd: CompiledCommand): void {
    const now = this.#deps.clock.now();
    this.#holds.delete(loopId(entry));
    this.#storm.ran(cmd, now);
    if (entry.attempt === 1) entry.since = now;
    entry.ran = now;
    entry.phase = "watching";
    entry.at = now + cmd.timeoutMs + cmd.verifyMs; // bound, should the agent stop mid-run
    this.save();
    this.#inRun.set(entry, null);
    this.#deps.track(this.#afterRun(entry, cmd));
  }

  /** Starts the run at once; after it, judges a clear that came meanwhile, or starts Verify. */
  async #afterRun(entry: LoopEntry, cmd: CompiledCommand): Promise<void> {
    let clearedAt: number | null = null;
    await this.#deps.runForRule(cmd, entry.handler).finally(() => {
      clearedAt = this.#inRun.get(entry) ?? null;
      this.#inRun.delete(entry);
    });
    // cleared during the run: the verdict comes after the run's own record
    if (clearedAt !== null) return this.#verdict(entry, cmd, clearedAt);
    const id = loopId(entry);
    if (this.#loops.get(id) !== entry || this.#stopped) return; // handler removed, or stopping
    if (cmd.verifyMs === 0) this.#forget(id);
    else {
      entry.at = this.#deps.clock.now() + cmd.verifyMs;
      this.#schedule(entry);
    }
    this.save();
  }

  /** An entry's `at` came: a Verify window ended (retry or give up), or its run is due. */
  #onDeadline(id: string): void {
    const entry = this.#loops.get(id);
    if (!entry || this.#stopped) return;
    const cmd = this.#deps.lookup(entry.service, entry.command);
    if (!cmd) {
      this.#forget(id);
      this.save();
      return;
    }
    if (entry.phase === "waiting") return this.#tryRun(entry, id, cmd);
    if (entry.phase !== "watching") return;
    if (entry.attempt > cmd.retries) {
      // maintenance holds the give-up back like a run; it comes if the condition outlasts it
      if (this.#heldByMaintenance(entry, id)) return void this.#heldGiveUp.add(id);
      return this.#escalate(entry, id, giveUpMessage(entry));
    }
    const now = this.#deps.clock.now();
    entry.phase = "waiting";
    entry.at = now + cmd.backoffMs * 2 ** (entry.attempt - 1);
    this.#deps.log.warn(notConfirmedMessage(entry, cmd, now));
    this.#schedule(entry);
    this.save();
  }

  /** Gives up on `entry`: no more runs until its condition clears; reported as ESCALATED. */
  #escalate(entry: LoopEntry, id: string, message: string): void {
    const { clock, counters, log } = this.#deps;
    this.#release(id);
    entry.phase = "escalated";
    entry.at = clock.now();
    this.save();
    counters.counter("edge_agent_executor_escalations_total", "Repairs given up on").inc();
    log.error(message, { handler: entry.handler, key: entry.key });
    this.#deps.escalated(entry, message);
  }

  /**
   * The condition of `entry` cleared at `at` after a run: the repair is verified when the
   * command has a Verify window (from the run's start, never from the trigger); with Verify 0
   * nothing is claimed.
   */
  #verdict(entry: LoopEntry, cmd: CompiledCommand | undefined, at: number): void {
    const { counters, log } = this.#deps;
    const where = `${entry.service}/${entry.command}`;
    const fields = { handler: entry.handler, key: entry.key, service_command: where };
    if (!cmd || cmd.verifyMs === 0) {
      return log.debug(`condition cleared after ${where} ran (Verify 0: not verified)`, fields);
    }
    counters.counter("edge_agent_executor_repairs_verified_total", "Repairs confirmed").inc();
    log.info(verifiedMessage(entry, at), { ...fields, runs: entry.attempt });
  }

  /** (Re)arms `entry`'s timer for its `at`. */
  #schedule(entry: LoopEntry): void {
    const { clock } = this.#deps;
    const id = loopId(entry);
    clock.clearTimeout(this.#timers.get(id));
    this.#timers.set(
      id,
      clock.setTimeout(() => {
        this.#timers.delete(id);
        this.#onDeadline(id);
      }, Math.max(0, entry.at - clock.now())),
    );
  }

  /** Ends loop `id`'s timer and holds; the entry stays (escalated). */
  #release(id: string): void {
    this.#deps.clock.clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
    this.#heldGiveUp.delete(id);
    this.#holds.delete(id);
  }

  /** Ends loop `id` altogether. */
  #forget(id: string): void {
    this.#release(id);
    this.#loops.delete(id);
  }
}
