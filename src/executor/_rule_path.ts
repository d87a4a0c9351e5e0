import { rateLimited } from "../log/mod.ts";
import type { Counters, Logger } from "../model/mod.ts";
import type { Clock } from "./clock.ts";
import { StormGuard } from "./_storm_guard.ts";
import type { Maintenance } from "./maintenance.ts";
import type { CompiledCommand } from "./services.ts";
import type { ExecutorState, LoopEntry } from "./_state.ts";

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

const ESCALATED_KEEP_MS = 7 * 86_400_000;

/** A closed-loop entry as `agent status` shows it: what holds it back (or what it waits for). */
export type LoopView = LoopEntry & {
  /**
   * `cooldown`, `busy`, `maintenance`: held back until `at`; `waiting`: the next run is due at
   * `at` (a retry after its backoff, or a trigger restored after a restart); `verifying`: ran,
   * waiting until `at` for the condition to clear; `escalated`: given up on at `at`.
   */
  state: "cooldown" | "busy" | "maintenance" | "waiting" | "verifying" | "escalated";
};

/**
 * Rule-triggered runs: maintenance, busy, cooldown and max runs per window (restart-storm
 * protection), and the closed loop (verify → retry with exponential backoff → escalate). Its
 * state (run times, loop entries) is persisted through `deps.write` on every change.
 */
export function createRulePath(deps: RulePathDeps) {
  const { clock, log, counters } = deps;
  const storm = new StormGuard();
  const loops = new Map<string, LoopEntry>();
  const timers = new Map<string, unknown>();
  /** Entries whose run is in flight → when their condition cleared meanwhile (or null). */
  const inRun = new Map<LoopEntry, number | null>();
  /** Loops whose give-up (escalation) maintenance holds back. */
  const heldGiveUp = new Set<string>();
  /** What holds each held-back loop now (status only: `inspect()`). */
  const holds = new Map<string, "cooldown" | "busy" | "maintenance">();
  let stopped = false;

  const sc = (service: string, command: string) => `${service}/${command}`;
  const loopId = (e: { handler: string; key: string; service: string; command: string }) =>
    `${e.handler}\u0000${e.key}\u0000${e.service}/${e.command}`;
  const snapshot = (): ExecutorState => ({
    version: 1,
    history: storm.toJSON(),
    loops: [...loops.values()],
  });
  const save = () =>
    deps.track(
      deps.write(snapshot()).catch((e) =>
        log.error("cannot save executor state", { error: (e as Error).message })
      ),
    );

  const suppressedWarn = rateLimited((key, more) => {
    const [reason, where, handler] = key.split("\u0000") as [string, string, string];
    const fields = { service_command: where, handler, reason, suppressed_since_last: more };
    if (reason === "max_runs") {
      log.error(
        `REPAIR IS NOT WORKING: ${where} reached its maximum rule-triggered runs per window; ` +
          "further triggers are suppressed",
        fields,
      );
    } else if (reason === "maintenance") {
      log.info(`rule-triggered repair by ${where} held back (maintenance in force)`, fields);
    } else log.warn(`rule-triggered run of ${where} suppressed (${reason})`, fields);
  }, { intervalMs: 60_000, now: () => clock.now() });

  function suppress(reason: string, where: string, handler: string, quiet = false) {
    counters.counter("edge_agent_executor_suppressed_total", "Rule-triggered runs suppressed", {
      service: where.split("/")[0] ?? where,
      reason,
    }).inc();
    if (!quiet) suppressedWarn(`${reason}\u0000${where}\u0000${handler}`);
  }

  function schedule(entry: LoopEntry) {
    const id = loopId(entry);
    clock.clearTimeout(timers.get(id));
    timers.set(
      id,
      clock.setTimeout(() => {
        timers.delete(id);
        onDeadline(id);
      }, Math.max(0, entry.at - clock.now())),
    );
  }

  function forget(id: string) {
    clock.clearTimeout(timers.get(id));
    timers.delete(id);
    loops.delete(id);
    heldGiveUp.delete(id);
    holds.delete(id);
  }

  /** Holds `entry` back while maintenance is in force (re-checked each minute); false if off. */
  function heldByMaintenance(entry: LoopEntry, where: string): boolean {
    const m = deps.maintenanceNow();
    if (!m) return false;
    suppress("maintenance", where, entry.handler);
    holds.set(loopId(entry), "maintenance");
    entry.at = Math.min(m.until, clock.now() + 60_000);
    schedule(entry);
    save();
    return true;
  }

  /** One run of a closed-loop entry (first run or retry); then watch for `cleared`. */
  function loopRun(entry: LoopEntry, cmd: CompiledCommand) {
    const id = loopId(entry);
    const now = clock.now();
    holds.delete(id);
    storm.ran(cmd, now);
    if (entry.attempt === 1) entry.since = now;
    entry.ran = now;
    entry.phase = "watching";
    entry.at = now + cmd.timeoutMs + cmd.verifyMs; // bound, should the agent stop mid-run
    save();
    inRun.set(entry, null);
    deps.track((async () => {
      let clearedAt: number | null = null;
      await deps.runForRule(cmd, entry.handler).finally(() => {
        clearedAt = inRun.get(entry) ?? null;
        inRun.delete(entry);
      });
      // cleared during the run: the verdict comes after the run's own record
      if (clearedAt !== null) return verdict(entry, cmd, clearedAt);
      if (loops.get(id) !== entry || stopped) return; // handler removed meanwhile, or stopping
      if (cmd.verifyMs === 0) forget(id);
      else {
        entry.at = clock.now() + cmd.verifyMs;
        schedule(entry);
      }
      save();
    })());
  }

  function onDeadline(id: string) {
    const entry = loops.get(id);
    if (!entry || stopped) return;
    const cmd = deps.lookup(entry.service, entry.command);
    if (!cmd) {
      forget(id);
      save();
      return;
    }
    const where = sc(cmd.service, cmd.command);
    const now = clock.now();
    if (entry.phase === "watching") {
      if (entry.attempt > cmd.retries) {
        // maintenance holds the give-up back like a run; it comes if the condition outlasts it
        if (heldByMaintenance(entry, where)) return void heldGiveUp.add(id);
        return escalate(entry, id, giveUpMessage(entry, where));
      }
      entry.phase = "waiting";
      entry.at = now + cmd.backoffMs * 2 ** (entry.attempt - 1);
      log.warn(
        `repair not confirmed: ${entry.handler} still active for ${entry.key} ${
          cmd.verifyMs / 1000
        } s after running ${where}; retry ${entry.attempt}/${cmd.retries} in ${
          (entry.at - now) / 1000
        } s`,
      );
      schedule(entry);
      save();
      return;
    }
    if (entry.phase === "waiting") tryRun(entry, id, cmd);
  }

  /**
   * Runs a waiting entry now unless something holds it back: the storm guard (cooldown: wait
   * for its end; max runs: give up), the service being busy, maintenance (re-checked every
   * minute, so `maintenance off` is noticed). A held-back trigger is not lost: it runs when the
   * hold ends if the handler has not cleared meanwhile (the rule engine reports `fired` once per
   * activation, not again while the condition lasts).
   */
  function tryRun(entry: LoopEntry, id: string, cmd: CompiledCommand) {
    const where = sc(cmd.service, cmd.command);
    const now = clock.now();
    const hold = (reason: "cooldown" | "busy", until: number) => {
      suppress(reason, where, entry.handler);
      holds.set(id, reason);
      entry.at = until;
      schedule(entry);
      save();
    };
    const r = storm.refusal(cmd, now);
    if (r?.reason === "max_runs") {
      // maintenance holds an escalation back like a run
      if (heldByMaintenance(entry, where)) return;
      suppress("max_runs", where, entry.handler, true);
      return escalate(entry, id, maxRunsMessage(entry, cmd, storm.runs(cmd)));
    }
    if (r) return hold(r.reason, r.untilMs);
    if (deps.busyReason(cmd)) return hold("busy", now + 5000);
    if (heldByMaintenance(entry, where)) return; // last: the only check that reads a file
    if (entry.attempt > 0) {
      counters.counter("edge_agent_executor_retries_total", "Closed-loop retries").inc();
    }
    entry.attempt++;
    loopRun(entry, cmd);
  }

  function escalate(entry: LoopEntry, id: string, message: string) {
    clock.clearTimeout(timers.get(id));
    timers.delete(id);
    heldGiveUp.delete(id);
    holds.delete(id);
    entry.phase = "escalated";
    entry.at = clock.now();
    save();
    counters.counter("edge_agent_executor_escalations_total", "Repairs given up on").inc();
    log.error(message, { handler: entry.handler, key: entry.key });
    deps.escalated(entry, message);
  }

  /** The closed loop gave up: every allowed run was made and the condition still holds. */
  function giveUpMessage(entry: LoopEntry, where: string): string {
    return `repair did not work: ${entry.handler} still active for ${entry.key} after ` +
      `${entry.attempt} run(s) of ${where} since ${new Date(entry.since).toISOString()}; ` +
      "giving up: no more runs until the condition clears";
  }

  /** MaxRuns per Window reached: `runs` of the command (for any condition) are in the window. */
  function maxRunsMessage(entry: LoopEntry, cmd: CompiledCommand, runs: number): string {
    const where = sc(cmd.service, cmd.command);
    const window = cmd.windowMs / 1000;
    const own = entry.attempt === 0
      ? ""
      : `, after ${entry.attempt} run(s) for it since ${
        new Date(entry.since).toISOString()
      } that did not clear it`;
    return `REPAIR IS NOT WORKING: ${where} already ran ${runs} times in the last ${window} s ` +
      `(MaxRuns ${cmd.maxRuns} per Window ${window} s); not run for ${entry.handler} on ` +
      `${entry.key}${own}; giving up: no more runs for this condition until it clears`;
  }

  /**
   * The condition of `entry` cleared at `at` after a run: the repair is verified when the
   * command has a Verify window (from the run's start, never from the trigger); with Verify 0
   * nothing is claimed.
   */
  function verdict(entry: LoopEntry, cmd: CompiledCommand | undefined, at: number) {
    const where = sc(entry.service, entry.command);
    const fields = { handler: entry.handler, key: entry.key, service_command: where };
    if (!cmd || cmd.verifyMs === 0) {
      return log.debug(`condition cleared after ${where} ran (Verify 0: not verified)`, fields);
    }
    counters.counter("edge_agent_executor_repairs_verified_total", "Repairs confirmed").inc();
    const secs = (ms: number) => Math.round(ms / 100) / 10;
    const ran = entry.ran ?? entry.since;
    const first = entry.attempt > 1 ? `; ${secs(at - entry.since)} s after the first run` : "";
    log.info(
      `repair verified: the condition cleared ${secs(at - ran)} s after ${where} ran${first}`,
      { ...fields, runs: entry.attempt },
    );
  }

  return {
    /** A handler fired for series `key` asking for service/command. */
    fired(handler: string, key: string, service: string, command: string) {
      if (stopped) return;
      counters.counter("edge_agent_executor_triggered_total", "Rule-triggered repair requests", {
        service,
      }).inc();
      const where = sc(service, command);
      const id = loopId({ handler, key, service, command });
      const entry = loops.get(id);
      if (entry) {
        const reason = entry.phase === "escalated"
          ? "escalated"
          : entry.attempt === 0
          ? "pending"
          : "verifying";
        return suppress(reason, where, handler, reason !== "escalated");
      }
      const cmd = deps.lookup(service, command);
      if (!cmd) return suppress("unknown_command", where, handler);
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
      loops.set(id, fresh);
      tryRun(fresh, id, cmd);
    },

    /**
     * The handler reports its condition gone for `key`: repairs confirmed, loops re-armed.
     * `removed`: the handler itself went away; its loops end without a verdict.
     */
    cleared(handler: string, key: string, removed = false) {
      if (stopped) return;
      let changed = false;
      for (const [id, entry] of loops) {
        if (entry.handler !== handler || entry.key !== key) continue;
        const fields = { handler, key, service_command: sc(entry.service, entry.command) };
        if (removed) {
          log.info("rule handler removed while its condition held; closed loop ended", fields);
        } else if (inRun.has(entry)) {
          inRun.set(entry, clock.now()); // judged once the run's own record is out
        } else if (entry.phase === "escalated") {
          log.info("condition cleared after escalation; closed loop re-armed", fields);
        } else if (entry.attempt === 0) {
          log.info("condition cleared before its held-back repair ran", fields);
        } else if (heldGiveUp.has(id)) {
          log.info("condition cleared after its Verify window, during maintenance; not escalated", {
            ...fields,
            runs: entry.attempt,
          });
        } else verdict(entry, deps.lookup(entry.service, entry.command), clock.now());
        forget(id);
        changed = true;
      }
      if (changed) save();
    },

    /** Takes over persisted state: commands no longer configured are forgotten. */
    restore(state: ExecutorState) {
      const now = clock.now();
      storm.restore(state.history, (service, command) => !!deps.lookup(service, command));
      for (const entry of state.loops) {
        if (!deps.lookup(entry.service, entry.command)) continue;
        if (entry.phase === "escalated" && now - entry.at > ESCALATED_KEEP_MS) continue;
        loops.set(loopId(entry), entry);
        if (entry.phase !== "escalated") schedule(entry);
      }
      if (loops.size) log.info("closed-loop state restored", { entries: loops.size });
      return save();
    },

    /** Every loop now with its state (read-only copies, for `agent status`). */
    inspect(): LoopView[] {
      return [...loops].map(([id, e]) => ({
        ...e,
        state: e.phase === "escalated"
          ? "escalated"
          : holds.get(id) ?? (e.phase === "watching" ? "verifying" : "waiting"),
      }));
    },

    /** No more runs or timers; the state is saved once more. */
    stop() {
      stopped = true;
      for (const t of timers.values()) clock.clearTimeout(t);
      timers.clear();
    },

    save,
  };
}
