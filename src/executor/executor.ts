import { rateLimited } from "../log/mod.ts";
import {
  Code,
  type Counters,
  type Logger,
  type Reporter,
  type RuleEvent,
  type RunRecord,
  type Stage,
  type Trigger,
} from "../model/mod.ts";
import { type Clock, systemClock } from "./clock.ts";
import { refusal } from "./_guard.ts";
import {
  endMaintenance,
  type Maintenance,
  readMaintenance,
  startMaintenance,
  type StartMaintenanceOptions,
} from "./maintenance.ts";
import { finished, refused } from "./_records.ts";
import { reportAll } from "./_report.ts";
import { createProcessRunner, type Runner } from "./runner.ts";
import {
  type CheckServicesOptions,
  type CompiledCommand,
  type CompiledServices,
  compileServices,
  type ServicesConfig,
} from "./services.ts";
import { loadState, type LoopEntry, stateWriter } from "./_state.ts";

/** A request to run `Services.<service>.commands.<command>` (remote, CLI). */
export interface RunRequest {
  service: string;
  command: string;
  trigger: Trigger;
  /** The result's task id. Default: a remote trigger's task_id, else a generated one. */
  task_id?: number | string;
}

/** The closed loop gave up: the handler kept firing after every allowed run. */
export interface Escalation {
  handler: string;
  key: string;
  service: string;
  command: string;
  /** Runs made for this condition. */
  attempts: number;
  /** Epoch ms of the first run. */
  since: number;
  /** The ESCALATED (0x1017) record also given to every reporter. */
  record: RunRecord;
}

/** Options of {@linkcode createExecutor}. */
export interface ExecutorOptions {
  logger: Logger;
  counters: Counters;
  /** Where the executor keeps its durable state and reads the maintenance switch. */
  stateDir: string;
  /** Every record goes to each of them; the one named "audit" first, awaited. */
  reporters: Reporter[];
  /** Default: {@linkcode createProcessRunner}(). */
  runner?: Runner;
  /** Default: the system clock. */
  clock?: Clock;
  /** Most runs at once over all services (config `MaxParallelCommands`). Default 4. */
  maxParallel?: number;
  /** Called after an escalation was logged and reported (e.g. to publish an MQTT event). */
  onEscalation?: (e: Escalation) => void;
  /** On stop, running commands get this long to finish before they are killed (SIGTERM, then
   * SIGKILL 5 s later; their result has code 0x1016). Default 10 000 ms. */
  stopGraceMs?: number;
  /** Effects of executable resolution and the permission check (tests). */
  check?: CheckServicesOptions;
}

/** The executor stage. Nothing may be called after `stop` except `stop`. */
export interface Executor extends Stage {
  /**
   * Runs a command now (remote and CLI requests): unknown service 0x1002, unknown command 0x1003,
   * service already running or global cap reached 0x1011 (BUSY: refused, not queued), shutting
   * down 0x1016. Maintenance does not apply. Resolves once every reporter has the record.
   */
  run(req: RunRequest): Promise<RunRecord>;
  /** Rule events: `fired` may start runs (maintenance, cooldown, max runs, closed loop apply);
   * `cleared` confirms a repair. Never throws, never blocks. */
  onRuleEvent(e: RuleEvent): void;
  /** The maintenance switch (the same file the CLI writes). */
  readonly maintenance: {
    on(forMs: number, options?: Omit<StartMaintenanceOptions, "now">): Maintenance;
    off(): boolean;
    status(): Maintenance | null;
  };
  /** The commands in force (absolute argv). */
  readonly commands: CompiledServices;
  /** Resolves when no rule-triggered run or report is in flight (tests, shutdown). */
  idle(): Promise<void>;
}

const ESCALATED_KEEP_MS = 7 * 86_400_000;

/**
 * Creates the executor for `services` (compiled here: throws when an executable is missing or
 * not permitted; the lead has normally checked that at config load with `checkServices`).
 */
export function createExecutor(services: ServicesConfig, options: ExecutorOptions): Executor {
  const commands = compileServices(services, options.check);
  const log = options.logger;
  const clock = options.clock ?? systemClock;
  const runner = options.runner ?? createProcessRunner();
  const maxParallel = options.maxParallel ?? 4;
  const counters = options.counters;
  const writeState = stateWriter(options.stateDir);
  const shutdown = new AbortController();

  const busy = new Set<string>();
  let running = 0;
  let stopping = false;
  let seq = 0;
  const inflight = new Set<Promise<unknown>>();
  const history = new Map<string, number[]>();
  const loops = new Map<string, LoopEntry>();
  const timers = new Map<string, unknown>();

  const runningGauge = counters.gauge("edge_agent_executor_running", "Recovery commands running");
  const suppressedWarn = rateLimited((key, more) => {
    const [reason, sc, handler] = key.split("\u0000") as [string, string, string];
    const fields = { service_command: sc, handler, reason, suppressed_since_last: more };
    if (reason === "max_runs") {
      log.error(
        `REPAIR IS NOT WORKING: ${sc} reached its maximum rule-triggered runs per window; ` +
          "further triggers are suppressed",
        fields,
      );
    } else log.warn(`rule-triggered run of ${sc} suppressed (${reason})`, fields);
  }, { intervalMs: 60_000, now: () => clock.now() });

  const sc = (service: string, command: string) => `${service}/${command}`;
  const lookup = (service: string, command: string) => commands.get(service)?.get(command);
  const taskId = () => `${clock.now().toString(36)}-${(++seq).toString(36)}`;
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => {});
    return p;
  };
  const hist = (key: string) => {
    let h = history.get(key);
    if (!h) history.set(key, h = []);
    return h;
  };
  const save = () =>
    track(
      writeState({
        version: 1,
        history: Object.fromEntries(history),
        loops: [...loops.values()],
      }).catch((e) => log.error("cannot save executor state", { error: (e as Error).message })),
    );

  function countRun(rec: RunRecord) {
    const code = rec.result.code;
    const result = code === 0
      ? "ok"
      : rec.timedOut
      ? "timeout"
      : rec.argv.length && rec.durationMs > 0
      ? "failed"
      : "refused";
    counters.counter("edge_agent_executor_runs_total", "Recovery command requests by outcome", {
      trigger: rec.trigger.kind,
      result,
    }).inc();
  }

  function busyReason(cmd: CompiledCommand): string | null {
    if (busy.has(cmd.service)) return `service "${cmd.service}" is already running a command`;
    if (running >= maxParallel) return `${running} commands are running (MaxParallelCommands)`;
    return null;
  }

  /** Runs `cmd` (the caller checked busyReason synchronously just before). */
  async function execute(cmd: CompiledCommand, req: RunRequest, id: number | string) {
    busy.add(cmd.service);
    running++;
    runningGauge.set(running);
    const time = clock.now();
    try {
      const outcome = await runner.run({
        argv: cmd.argv,
        env: cmd.env,
        timeoutMs: cmd.timeoutMs,
        signal: shutdown.signal,
      });
      return finished(req, id, time, cmd.argv, outcome, cmd.timeoutMs);
    } finally {
      busy.delete(cmd.service);
      running--;
      runningGauge.set(running);
    }
  }

  async function publish(rec: RunRecord) {
    countRun(rec);
    await reportAll(rec, options.reporters, log);
  }

  function run(req: RunRequest): Promise<RunRecord> {
    const id = req.task_id ?? (req.trigger.kind === "remote" ? req.trigger.task_id : taskId());
    const now = clock.now();
    const svc = commands.get(req.service);
    const cmd = svc?.get(req.command);
    let why: string | null = null;
    let rec: RunRecord | null = null;
    if (stopping) {
      rec = refused(req, id, now, Code.SHUTTING_DOWN, "the agent is shutting down");
    } else if (!svc) {
      rec = refused(req, id, now, Code.NO_SERVICE, `no such service: "${req.service}"`);
    } else if (!cmd) {
      const what = `no such command: "${req.command}" of service "${req.service}"`;
      rec = refused(req, id, now, Code.NO_COMMAND, what);
    } else if ((why = busyReason(cmd)) !== null) {
      rec = refused(req, id, now, Code.BUSY, `busy: ${why}`);
    }
    // one tracked promise from spawn to the last reporter, so stop() waits for all of it
    return track((async () => {
      const done = rec ?? await execute(cmd!, req, id);
      await publish(done);
      return done;
    })());
  }

  function suppress(reason: string, key: string, handler: string) {
    counters.counter("edge_agent_executor_suppressed_total", "Rule-triggered runs suppressed", {
      reason,
    }).inc();
    if (reason !== "verifying") suppressedWarn(`${reason}\u0000${key}\u0000${handler}`);
  }

  function maintenanceNow(): Maintenance | null {
    return readMaintenance(
      options.stateDir,
      clock.now(),
      (why) => log.error("maintenance file ignored (maintenance counts as off)", { error: why }),
    );
  }

  const loopId = (e: { handler: string; key: string; service: string; command: string }) =>
    `${e.handler}\u0000${e.key}\u0000${e.service}/${e.command}`;

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
  }

  /** One run of a closed-loop entry (first run or retry); then watch for `cleared`. */
  function loopRun(entry: LoopEntry, cmd: CompiledCommand) {
    const id = loopId(entry);
    const now = clock.now();
    hist(sc(cmd.service, cmd.command)).push(now);
    entry.phase = "watching";
    entry.at = now + cmd.timeoutMs + cmd.verifyMs; // bound, should the agent stop mid-run
    save();
    const req = { service: cmd.service, command: cmd.command, trigger: rule(entry.handler) };
    track((async () => {
      const rec = await execute(cmd, req, taskId());
      await publish(rec);
      if (loops.get(id) !== entry || stopping) return; // cleared meanwhile, or stopping
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
    if (!entry || stopping) return;
    const cmd = lookup(entry.service, entry.command);
    if (!cmd) {
      forget(id);
      save();
      return;
    }
    const now = clock.now();
    if (entry.phase === "watching") {
      if (entry.attempt > cmd.retries) return escalate(entry, id);
      entry.phase = "waiting";
      entry.at = now + cmd.backoffMs * 2 ** (entry.attempt - 1);
      log.warn(
        `repair not confirmed: ${entry.handler} still active for ${entry.key} ${
          cmd.verifyMs / 1000
        } s after running ${sc(cmd.service, cmd.command)}; retry ${entry.attempt}/${cmd.retries} ` +
          `in ${(entry.at - now) / 1000} s`,
      );
      schedule(entry);
      save();
      return;
    }
    if (entry.phase !== "waiting") return;
    const m = maintenanceNow();
    if (m) {
      suppress("maintenance", sc(cmd.service, cmd.command), entry.handler);
      entry.at = m.until;
      schedule(entry);
      return save();
    }
    if (busyReason(cmd)) {
      entry.at = now + 5000;
      schedule(entry);
      return;
    }
    const r = refusal(hist(sc(cmd.service, cmd.command)), cmd, now);
    if (r?.reason === "max_runs") {
      suppress("max_runs", sc(cmd.service, cmd.command), entry.handler);
      return escalate(entry, id);
    }
    entry.attempt++;
    counters.counter("edge_agent_executor_retries_total", "Closed-loop retries").inc();
    loopRun(entry, cmd);
  }

  function escalate(entry: LoopEntry, id: string) {
    clock.clearTimeout(timers.get(id));
    timers.delete(id);
    entry.phase = "escalated";
    entry.at = clock.now();
    save();
    counters.counter("edge_agent_executor_escalations_total", "Repairs given up on").inc();
    const message = `repair did not work: ${entry.handler} still active for ${entry.key} after ` +
      `${entry.attempt} run(s) of ${entry.service}/${entry.command} since ${
        new Date(entry.since).toISOString()
      }; giving up: no more runs until the condition clears`;
    log.error(message, { handler: entry.handler, key: entry.key });
    const rec = refused(
      { service: entry.service, command: entry.command, trigger: rule(entry.handler) },
      taskId(),
      entry.at,
      Code.ESCALATED,
      message,
    );
    track(
      publish(rec).then(() =>
        options.onEscalation?.({
          handler: entry.handler,
          key: entry.key,
          service: entry.service,
          command: entry.command,
          attempts: entry.attempt,
          since: entry.since,
          record: rec,
        })
      ),
    );
  }

  function fired(handler: string, key: string, service: string, command: string) {
    const where = sc(service, command);
    const id = loopId({ handler, key, service, command });
    const entry = loops.get(id);
    if (entry) {
      return suppress(entry.phase === "escalated" ? "escalated" : "verifying", where, handler);
    }
    const cmd = lookup(service, command);
    if (!cmd) return suppress("unknown_command", where, handler);
    if (maintenanceNow()) return suppress("maintenance", where, handler);
    if (busyReason(cmd)) return suppress("busy", where, handler);
    const now = clock.now();
    const r = refusal(hist(where), cmd, now);
    if (r) return suppress(r.reason, where, handler);
    const fresh: LoopEntry = {
      handler,
      key,
      service,
      command,
      attempt: 1,
      phase: "watching",
      at: now,
      since: now,
    };
    loops.set(id, fresh);
    loopRun(fresh, cmd);
  }

  function cleared(handler: string, key: string) {
    let changed = false;
    for (const [id, entry] of loops) {
      if (entry.handler !== handler || entry.key !== key) continue;
      const after = (clock.now() - entry.since) / 1000;
      if (entry.phase === "escalated") {
        log.info(`condition cleared after escalation; closed loop re-armed`, {
          handler,
          key,
          service_command: sc(entry.service, entry.command),
        });
      } else {
        counters.counter("edge_agent_executor_repairs_verified_total", "Repairs confirmed").inc();
        log.info(`repair verified: the condition cleared ${after} s after the first run`, {
          handler,
          key,
          service_command: sc(entry.service, entry.command),
          runs: entry.attempt,
        });
      }
      forget(id);
      changed = true;
    }
    if (changed) save();
  }

  return {
    commands,
    run,
    onRuleEvent(e) {
      if (stopping) return;
      try {
        if (e.kind === "cleared") return cleared(e.handler, e.key);
        for (const a of e.actions) {
          if (a.host === undefined) fired(e.handler, e.key, a.service, a.command);
        }
      } catch (err) {
        log.error("rule event not handled", { error: (err as Error).message, handler: e.handler });
      }
    },
    maintenance: {
      on: (forMs, o = {}) => startMaintenance(options.stateDir, forMs, { ...o, now: clock.now() }),
      off: () => endMaintenance(options.stateDir),
      status: () => readMaintenance(options.stateDir, clock.now()),
    },
    async idle() {
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
    async start() {
      const state = await loadState(options.stateDir, (why) => log.error(why));
      const now = clock.now();
      const known = new Set(
        [...commands.values()].flatMap((m) => [...m.values()].map((c) => sc(c.service, c.command))),
      );
      for (const [key, times] of Object.entries(state.history)) {
        if (known.has(key)) history.set(key, times); // removed commands are forgotten
      }
      for (const entry of state.loops) {
        const cmd = lookup(entry.service, entry.command);
        if (!cmd) continue;
        if (entry.phase === "escalated" && now - entry.at > ESCALATED_KEEP_MS) continue;
        loops.set(loopId(entry), entry);
        if (entry.phase !== "escalated") schedule(entry);
      }
      if (loops.size) {
        log.info("closed-loop state restored", { entries: loops.size });
      }
      await save();
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      for (const t of timers.values()) clock.clearTimeout(t);
      timers.clear();
      const grace = clock.setTimeout(() => {
        if (running) log.warn("stopping: killing the recovery commands still running", { running });
        shutdown.abort();
      }, options.stopGraceMs ?? 10_000);
      while (inflight.size) await Promise.allSettled([...inflight]);
      clock.clearTimeout(grace);
      await save();
    },
  };
}

function rule(handler: string): Trigger {
  return { kind: "rule", handler };
}
