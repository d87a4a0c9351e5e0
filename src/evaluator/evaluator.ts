/**
 * The rule stage: loads the user's rule files into a sandboxed rule host and evaluates collectd
 * packets and decoded items with them. This file composes its parts:
 * - `_rule_set.ts`: the rule files, their versions (the last good one keeps running) and problems;
 * - `_offences.ts`: the offence policy (overruns and crashes disable a handler or a file);
 * - `_handler_states.ts`: the agent's copy of the handlers' state (kept across host restarts);
 * - `_host_keeper.ts`: the rule host process, started, configured, loaded and restarted;
 * - `_scheduler.ts`: packet and evaluate() batches in flight, loads between them, retries;
 * - `_firing.ts`: the conditions fired now (`agent status`).
 * @module
 */
import type { Config } from "../config/mod.ts";
import {
  AGENT_PLUGIN,
  type Counters,
  createCounters,
  type Logger,
  type Metric,
  type Notification,
  type RuleEvent,
  type Stage,
} from "../model/mod.ts";
import { ruleCounters } from "./counters.ts";
import { FiringConditions } from "./_firing.ts";
import { HandlerStates } from "./_handler_states.ts";
import { defaultHostCommand, type HostCommand } from "./_host_client.ts";
import { HostKeeper } from "./_host_keeper.ts";
import { OffencePolicy } from "./_offences.ts";
import { IN_FLIGHT, type Reply } from "./_protocol.ts";
import { writeRuleLog } from "./_rule_log.ts";
import { RuleSet } from "./_rule_set.ts";
import { type BatchDone, type EvaluateResult, Scheduler } from "./_scheduler.ts";
import type { RuleProblem } from "./_sources.ts";
import { watchDir } from "./_watch.ts";

export type { BatchDone, EvaluateResult } from "./_scheduler.ts";

/** Options of {@linkcode createEvaluator}. */
export interface EvaluatorOptions {
  /** Directory of the rule files. */
  rulesDir: string;
  /** types.db text (from the collectd stage's loadTypesDb()), used to decode packets. */
  typesDbText: string;
  /** The configured recovery commands; actions naming anything else are refused and logged. */
  services: Config["Services"];
  logger: Logger;
  /** Default: a private in-memory set. */
  counters?: Counters;
  /** Every fired/cleared decision. */
  onEvent(e: RuleEvent): void;
  /** Time budget of one batch in the sandbox, in ms (config RuleBudgetMs). Default 50. */
  budgetMs?: number;
  /** Time budget of loading the rule files (their top-level code), in ms. Default 5000. */
  loadBudgetMs?: number;
  /** Budget overruns after which a handler is disabled (config RuleMaxOverruns). Default 3. */
  maxOverruns?: number;
  /** Watch the directory and reload changed files. Default true. */
  watch?: boolean;
  /** Load only these rule files (basenames), e.g. for `test-rule`. Default: every rule file. */
  only?: string[];
  /** How to start the rule host. Default: {@linkcode defaultHostCommand}. */
  hostCommand?: HostCommand;
  /** Receives every decoded metric/notification (recording). Default: none. */
  record?: (item: Metric | Notification) => void;
  /** Most packets one batch carries (about 45 values each). Default 100. */
  maxBatchPackets?: number;
  /**
   * Most packet bytes one batch carries. Default 60 KiB: the frame fits the 64 KiB pipe to the
   * rule host, so the worker never waits for the rest of a frame the agent is still writing
   * (measured at saturation: 2.5 ms between batches with 140 KB frames, 0.3 ms with 56 KB).
   */
  maxBatchBytes?: number;
  /** Packets held while the host is busy or restarting; beyond, packets are dropped. Default 50000. */
  maxPendingPackets?: number;
  /**
   * Bytes of packets held while the host is busy or restarting; beyond, packets are dropped (and
   * counted). Default 16 MiB: about 2 s of a 300 k values/s flood, so a rule host restart loses
   * nothing while a host that cannot keep up costs at most this much memory.
   */
  maxPendingBytes?: number;
  /**
   * Called after each packet batch was decided, with the arrival times (performance.now()) of
   * its packets: for latency figures (bench, telemetry). Default: none.
   */
  onBatchDone?: (batch: BatchDone) => void;
  /** Log each new rule-file problem (test-rule prints them itself). Default true. */
  logProblems?: boolean;
  /** Wait this long after the first packet before sending a batch (0: next tick). Default 2. */
  batchDelayMs?: number;
  /** Batches sent to the rule host and not yet answered, at most. Default 2 (IN_FLIGHT). */
  inFlight?: number;
}

/**
 * Default of {@linkcode EvaluatorOptions.batchDelayMs}: 2 ms. Packets that arrive within 2 ms of
 * each other travel in one batch: at 100 k values/s that is one pipe write and one reply per ~4
 * packets instead of per packet, 15–20 % of the agent's CPU (scripts/bench/footprint.ts).
 */
export const BATCH_DELAY_MS = 2;

/** Default of {@linkcode EvaluatorOptions.maxPendingBytes}. */
export const MAX_PENDING_BYTES = 16 * 2 ** 20;

/** What the rule stage runs now (`agent status`); read-only copies. */
export interface RuleActivity {
  /** Rule files in the directory (loaded or not: see `problems`, `disabled`). */
  files: string[];
  /** Disabled handlers (`file::kind::name`) and files, each with what it did. */
  disabled: { name: string; kind: "handler" | "file"; reason: string }[];
  /** Conditions fired now: handler, series, epoch ms of the sample that fired. */
  firing: { handler: string; key: string; since: number }[];
}

/** The rule stage. `start` loads the rules (problems are logged, not thrown) and the host. */
export interface Evaluator extends Stage {
  /** Queues one plaintext collectd packet (copied: the caller may reuse its buffer). */
  submit(packet: Uint8Array): void;
  /** Evaluates metric/notification objects (test-rule, replay). */
  evaluate(items: readonly (Metric | Notification)[]): Promise<EvaluateResult>;
  /** Re-reads every rule file; re-enables disabled rules. Resolves when the new set runs. */
  reload(): Promise<void>;
  /** Problems of the rule files as last loaded (syntax, shape, load errors). */
  readonly problems: readonly RuleProblem[];
  /** Handlers running now (`file::metric::name`). */
  readonly handlers: readonly string[];
  /** Rule files, what is disabled and why, conditions fired now (`agent status`). */
  inspect(): RuleActivity;
}

/** Builds the rule stage (see docs/rules.md for the semantics). */
export function createEvaluator(options: EvaluatorOptions): Evaluator {
  const log = options.logger;
  const dir = options.rulesDir;
  const budgetMs = options.budgetMs ?? 50;
  const loadBudgetMs = options.loadBudgetMs ?? 5000;
  const logProblems = options.logProblems !== false;
  const counters = options.counters ?? createCounters();
  const c = ruleCounters(counters);
  const firing = new FiringConditions();
  const onEvent = (e: RuleEvent) => {
    firing.note(e);
    options.onEvent(e);
  };

  const rules = new RuleSet({ dir, logger: log, only: options.only, logProblems });
  const offences = new OffencePolicy({
    dir,
    logger: log,
    counters: c,
    maxOverruns: options.maxOverruns ?? 3,
  });
  const states = new HandlerStates();
  const keeper = new HostKeeper({
    command: options.hostCommand ?? defaultHostCommand(),
    configure: configureRequest(options, budgetMs, loadBudgetMs),
    loadBudgetMs,
    dir,
    logger: log,
    counters: c,
    rules,
    offences,
    states,
    onEvent,
  });
  const scheduler = new Scheduler({
    keeper,
    offences,
    handlers: () => rules.handlers,
    accept,
    logger: log,
    counters: c,
    budgetMs,
    maxBatchPackets: options.maxBatchPackets ?? 100,
    maxBatchBytes: options.maxBatchBytes ?? 60 * 1024,
    maxPendingPackets: options.maxPendingPackets ?? 50_000,
    maxPendingBytes: options.maxPendingBytes ?? MAX_PENDING_BYTES,
    inFlight: options.inFlight ?? IN_FLIGHT,
    batchDelayMs: options.batchDelayMs ?? BATCH_DELAY_MS,
    onBatchDone: options.onBatchDone,
    recording: options.record !== undefined,
  });
  let stopped = false;
  let watcher: { close(): void } | null = null;

  /** Takes a result in: state deltas, counters, logs, events, recording. */
  function accept(reply: Extract<Reply, { t: "result" }>): EvaluateResult {
    states.apply(reply.states);
    c.evaluations.inc(reply.evaluations);
    if (reply.errors) c.errors.inc(reply.errors);
    for (const l of reply.logs) writeRuleLog(log, dir, l);
    for (const [handler, n] of Object.entries(reply.errorsBy ?? {})) {
      c.handlerErrors(handler).inc(n);
    }
    const events = reply.events as RuleEvent[]; // schema-checked; `host` absent, not undefined
    for (const e of events) {
      if (e.kind === "fired") c.fired.inc();
      onEvent(e);
    }
    if (reply.items && options.record) {
      for (const item of reply.items) options.record(item as Metric | Notification);
    }
    return { events, logs: reply.logs, evaluations: reply.evaluations, busyMs: reply.busyMs };
  }

  return {
    get problems() {
      const hostProblem = keeper.problem;
      return hostProblem === null ? rules.problems : [...rules.problems, hostProblem];
    },
    get handlers() {
      return rules.handlers;
    },
    inspect: () => ({
      files: rules.ruleFiles,
      disabled: offences.disabled.map(({ name, reason }) => ({
        name,
        kind: name.includes("::") ? "handler" as const : "file" as const,
        reason: reason || "disabled",
      })),
      firing: firing.list(),
    }),
    submit: (packet) => scheduler.submit(packet),
    evaluate: (items) => scheduler.evaluate(items),
    async reload() {
      offences.clear();
      await scheduler.load();
    },
    async start() {
      await scheduler.load();
      if (options.watch ?? true) {
        watcher = watchDir(dir, () => void scheduler.load(), { logger: log });
      }
      log[logProblems ? "info" : "debug"]("rules loaded", {
        dir,
        handlers: rules.handlers.length,
        problems: rules.problems.length,
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      watcher?.close();
      scheduler.stop();
      await keeper.stop();
    },
  };
}

/** The rule host's `configure` request: what to check actions against, budgets, types.db. */
function configureRequest(options: EvaluatorOptions, budgetMs: number, loadBudgetMs: number) {
  return {
    t: "configure" as const,
    services: commandNames(options.services),
    agentPlugin: AGENT_PLUGIN,
    typesDb: options.typesDbText,
    budgetMs,
    loadBudgetMs,
    record: options.record !== undefined,
  };
}

/** The command names of each configured service (what the rule host checks actions against). */
function commandNames(services: Config["Services"]): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(services).map(([s, v]) => [s, Object.keys(v.commands ?? {})]),
  );
}
