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
import { type LoopView, RulePath } from "./_rule_path.ts";
import {
  endMaintenance,
  type Maintenance,
  readMaintenance,
  startMaintenance,
  type StartMaintenanceOptions,
} from "./maintenance.ts";
import { refused } from "./_records.ts";
import { createReport } from "../reporters/mod.ts";
import { createProcessRunner, type Runner } from "./runner.ts";
import { createSlots, type RunningCommand } from "./_slots.ts";
import {
  type CheckServicesOptions,
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

/** What the executor is doing now (`agent status`); read-only copies. */
export interface ExecutorActivity {
  running: RunningCommand[];
  /** Rule-triggered repairs the closed loop holds: held back, waiting, verifying, escalated. */
  loops: LoopView[];
}

/** Options of {@linkcode createExecutor}. */
export interface ExecutorOptions {
  logger: Logger;
  counters: Counters;
  /** Where the executor keeps its durable state and reads the maintenance switch. */
  stateDir: string;
  /**
   * The audit reporter: every record reaches it, awaited, before any of `reporters` sees it
   * (the reporters' one door, reporters/report.ts).
   */
  audit?: Reporter;
  /** Every record goes to each of them, in parallel, once the audit has it. */
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
  /**
   * Hands a record no run of this executor made (central mode: another agent's result to a
   * rule's command) to every reporter, audit first. Also after `stop` (a wait it ended).
   */
  report(record: RunRecord): Promise<void>;
  /** Resolves when no rule-triggered run or report is in flight (tests, shutdown). */
  idle(): Promise<void>;
  /** What runs and what the closed loop holds now (`agent status`). */
  inspect(): ExecutorActivity;
}

/**
 * Creates the executor for `services` (compiled here: throws when an executable is missing or
 * not permitted; the lead has normally checked that at config load with `checkServices`).
 */
export function createExecutor(services: ServicesConfig, options: ExecutorOptions): Executor {
  const commands = compileServices(services, options.check);
  const log = options.logger;
  const clock = options.clock ?? systemClock;
  const runner = options.runner ?? createProcessRunner({ onWarning: (m) => log.warn(m) });
  const shutdown = new AbortController();
  const door = createReport({ audit: options.audit, others: options.reporters, logger: log });
  const slots = createSlots({
    runner,
    clock,
    maxParallel: options.maxParallel ?? 4,
    gauge: options.counters.gauge("edge_agent_executor_running", "Recovery commands running"),
    signal: shutdown.signal,
  });
  const countRun = runCounter(options.counters, commands);
  const maintenance = maintenanceIn(options.stateDir, clock, log);
  let stopping = false;
  let seq = 0;
  const { track, settled } = inFlight();

  const taskId = () => `${clock.now().toString(36)}-${(++seq).toString(36)}`;
  async function publish(rec: RunRecord) {
    countRun(rec);
    await door.report(rec);
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
    } else if ((why = slots.busyReason(cmd)) !== null) {
      rec = refused(req, id, now, Code.BUSY, `busy: ${why}`);
    }
    // one tracked promise from spawn to the last reporter, so stop() waits for all of it
    return track((async () => {
      const done = rec ?? await slots.execute(cmd!, req, id);
      await publish(done);
      return done;
    })());
  }

  const rules = new RulePath({
    clock,
    log,
    counters: options.counters,
    lookup: (service, command) => commands.get(service)?.get(command),
    busyReason: slots.busyReason,
    maintenanceNow: maintenance.status,
    track,
    write: stateWriter(options.stateDir),
    runForRule: async (cmd, handler) => {
      const req = { service: cmd.service, command: cmd.command, trigger: rule(handler) };
      await publish(await slots.execute(cmd, req, taskId()));
    },
    escalated(entry, message) {
      const trigger = rule(entry.handler);
      const rec = refused({ ...entry, trigger }, taskId(), entry.at, Code.ESCALATED, message);
      track(publish(rec).then(() => options.onEscalation?.(escalation(entry, rec))));
    },
  });

  return {
    commands,
    run,
    report: (record) => track(door.report(record)),
    onRuleEvent(e) {
      if (stopping) return;
      try {
        if (e.kind === "cleared") return rules.cleared(e.handler, e.key, e.removed);
        for (const a of e.actions) {
          if (a.host === undefined) rules.fired(e.handler, e.key, a.service, a.command);
        }
      } catch (err) {
        log.error("rule event not handled", { error: (err as Error).message, handler: e.handler });
      }
    },
    maintenance,
    idle: settled,
    inspect: () => ({ running: slots.inspect(), loops: rules.inspect() }),
    async start() {
      await rules.restore(await loadState(options.stateDir, (why) => log.error(why)));
      const m = maintenance.status();
      if (m) {
        log.info("maintenance in force: rule-triggered runs are suppressed", {
          until: new Date(m.until).toISOString(),
          ...(m.reason !== undefined ? { reason: m.reason } : {}),
        });
      }
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      rules.stop();
      const grace = clock.setTimeout(() => {
        const running = slots.running;
        if (running) log.warn("stopping: killing the recovery commands still running", { running });
        shutdown.abort();
      }, options.stopGraceMs ?? 10_000);
      await settled();
      clock.clearTimeout(grace);
      await rules.save();
    },
  };
}

/**
 * The executor's work in flight (runs, reports, state writes): `settled` resolves once none is
 * left, including work that began while it waited.
 */
function inFlight() {
  const pending = new Set<Promise<unknown>>();
  return {
    track<T>(p: Promise<T>): Promise<T> {
      pending.add(p);
      p.finally(() => pending.delete(p)).catch(() => {});
      return p;
    },
    async settled(): Promise<void> {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}

/** The maintenance switch in `stateDir` (the file `agent maintenance` writes), read per call. */
function maintenanceIn(stateDir: string, clock: Clock, log: Logger): Executor["maintenance"] {
  return {
    on: (forMs, o = {}) => startMaintenance(stateDir, forMs, { ...o, now: clock.now() }),
    off: () => endMaintenance(stateDir),
    status: () => readMaintenance(stateDir, clock.now(), (why) => log.error(`maintenance: ${why}`)),
  };
}

/** Counts each record in `edge_agent_executor_runs_total` by service, trigger and outcome. */
function runCounter(counters: Counters, commands: CompiledServices): (rec: RunRecord) => void {
  return (rec) => {
    const code = rec.result.code;
    const result = code === 0
      ? "ok"
      : rec.timedOut
      ? "timeout"
      : rec.argv.length && rec.durationMs > 0
      ? "failed"
      : "refused";
    counters.counter("edge_agent_executor_runs_total", "Recovery command requests by outcome", {
      // A remote message can name any service: the unknown ones share one series.
      service: commands.has(rec.service) ? rec.service : UNKNOWN_SERVICE_LABEL,
      trigger: rec.trigger.kind,
      result,
    }).inc();
  };
}

/** The escalation of a loop entry that gave up, with its ESCALATED record. */
function escalation(entry: LoopEntry, record: RunRecord): Escalation {
  return {
    handler: entry.handler,
    key: entry.key,
    service: entry.service,
    command: entry.command,
    attempts: entry.attempt,
    since: entry.since,
    record,
  };
}

/** The `service` label of runs asking for a service the config does not define. */
export const UNKNOWN_SERVICE_LABEL = "_unknown";

function rule(handler: string): Trigger {
  return { kind: "rule", handler };
}
