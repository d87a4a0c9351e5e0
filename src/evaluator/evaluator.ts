import { join } from "node:path";
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
import {
  defaultHostCommand,
  type HostCommand,
  type HostProcess,
  type Outcome,
  spawnHost,
} from "./_host_client.ts";
import {
  type FileResult,
  IN_FLIGHT,
  type Reply,
  type Request,
  type RuleLog,
  SLOW_FACTOR,
  STATE_SYNC_MS,
} from "./_protocol.ts";
import { PacketQueue } from "./_packet_queue.ts";
import { isRuleFile, readSources, type RuleProblem, type RuleSource } from "./_sources.ts";
import { exportLine } from "./_transpile.ts";
import { contextRuntime } from "./_context.ts";
import { watchDir } from "./_watch.ts";
import { escapeControl, writeRuleLog } from "./_rule_log.ts";
import { bisect } from "./_bisect.ts";

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
   * Called after each packet batch was decided, with the arrival times (performance.now()) of
   * its packets: for latency figures (bench, telemetry). Default: none.
   */
  onBatchDone?: (
    batch: { arrivals: Float64Array; doneAt: number; evaluations: number; busyMs: number },
  ) => void;
  /** Log each new rule-file problem (test-rule prints them itself). Default true. */
  logProblems?: boolean;
  /** Wait this long after the first packet before sending a batch (0: next tick). Default 0. */
  batchDelayMs?: number;
  /** Batches sent to the rule host and not yet answered, at most. Default 2 (IN_FLIGHT). */
  inFlight?: number;
}

/** What one `evaluate()` call decided. */
export interface EvaluateResult {
  events: RuleEvent[];
  logs: RuleLog[];
  evaluations: number;
  /** Milliseconds the sandbox worker spent on the batch. */
  busyMs: number;
}

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

/** Wait after the rule host failed to start before trying again. */
const HOST_RETRY_MS = 5000;

/** Merges the sandbox's state deltas into the agent's copy of handler state. */
const { applyDelta } = contextRuntime();

type Job =
  | { kind: "items"; items: readonly unknown[]; done: (r: EvaluateResult | Error) => void }
  | { kind: "load"; done: () => void };

/** Builds the rule stage (see the README's "Rule API" for the semantics). */
export function createEvaluator(options: EvaluatorOptions): Evaluator {
  const log = options.logger;
  const dir = options.rulesDir;
  const budgetMs = options.budgetMs ?? 50;
  const loadBudgetMs = options.loadBudgetMs ?? 5000;
  const maxOverruns = options.maxOverruns ?? 3;
  /** The host answers within SLOW_FACTOR budgets (then it reports an overrun); plus slack. */
  const replyTimeoutMs = budgetMs * SLOW_FACTOR + 2000;
  const maxBatch = options.maxBatchPackets ?? 100;
  const maxBatchBytes = options.maxBatchBytes ?? 60 * 1024;
  const inFlight = options.inFlight ?? IN_FLIGHT;
  const maxPending = options.maxPendingPackets ?? 50_000;
  const hostCommand = options.hostCommand ?? defaultHostCommand();
  const services = Object.fromEntries(
    Object.entries(options.services).map(([s, v]) => [s, Object.keys(v.commands ?? {})]),
  );
  const counters = options.counters ?? createCounters();
  const c = {
    evaluations: counters.counter(
      "edge_agent_rules_evaluations_total",
      "Handler calls made by the rule stage",
    ),
    errors: counters.counter("edge_agent_rules_errors_total", "Handler calls that threw"),
    fired: counters.counter("edge_agent_rules_fired_total", "fired events of rule handlers"),
    restarts: counters.counter(
      "edge_agent_rules_host_restarts_total",
      "Restarts of the rule host (budget overruns, crashes)",
    ),
    dropped: counters.counter(
      "edge_agent_rules_dropped_packets_total",
      "Packets not evaluated (queue full or rule host down)",
    ),
    handlers: counters.gauge("edge_agent_rules_handlers", "Rule handlers running"),
  };

  let sources = new Map<string, RuleSource>();
  /** Problems of the rules directory as a whole (too many files). */
  let dirProblems: RuleProblem[] = [];
  /** Why each disabled rule file is disabled (it crashed or stalled the host while loading). */
  const fileDisabled = new Map<string, string>();
  /** Set while the rule host cannot be started or loaded; cleared by a good load. */
  let hostProblem: RuleProblem | null = null;
  /** Last JavaScript of each rule file that loaded, kept while a newer version fails. */
  const good = new Map<string, string>();
  /** Rule files whose current version failed to load in the host. */
  const failedInHost = new Set<string>();
  let problems: RuleProblem[] = [];
  let handlers: string[] = [];
  const states = new Map<string, unknown>();
  const offences = new Map<string, number>();
  const disabled = new Set<string>();
  /** What each disabled handler did (status); files: `fileDisabled`. */
  const handlerDisabled = new Map<string, string>();
  /** Conditions fired now, by `handler\0key` (status; kept from fired/cleared events). */
  const firing = new Map<string, { handler: string; key: string; since: number }>();
  let host: HostProcess | null = null;
  let hostDown = false;
  let retryAt = 0;
  let stopped = false;
  let watcher: { close(): void } | null = null;
  let loadedOnce = false;

  const queue = new PacketQueue(options.onBatchDone !== undefined);
  const jobs: Job[] = [];
  let running = false;
  let scheduled = false;
  let batchId = 0;

  function submit(packet: Uint8Array) {
    if (stopped) return;
    if (queue.count >= maxPending) {
      c.dropped.inc();
      return;
    }
    queue.push(packet);
    schedule();
  }

  function schedule() {
    if (running || scheduled) return;
    scheduled = true;
    const go = () => {
      scheduled = false;
      void pump();
    };
    if (options.batchDelayMs) setTimeout(go, options.batchDelayMs);
    else queueMicrotask(go);
  }

  /** One batch ready to send: how to build its request, and what to do with the outcome. */
  interface Batch {
    make: (id: number, skip: string[]) => Request;
    done: (r: EvaluateResult | Error) => void;
  }

  /** When handler-state changes last travelled with a packet batch (see STATE_SYNC_MS). */
  let lastSync = 0;
  function syncDue(): boolean {
    const now = performance.now();
    if (now - lastSync < STATE_SYNC_MS) return false;
    lastSync = now;
    return true;
  }

  /** The next batch: a queued evaluate() call, else pending packets; null before a load. */
  function nextBatch(): Batch | null {
    const job = jobs[0];
    if (job?.kind === "items") {
      jobs.shift();
      return {
        make: (id, skip) => ({ t: "batch", id, items: job.items, skip, sync: true }),
        done: job.done,
      };
    }
    if (job?.kind === "load") return null;
    const packets = queue.take(maxBatch, maxBatchBytes);
    if (packets === null) return null;
    const { data, ends: packetEnds, arrivals: times } = packets;
    return {
      make: (id, skip) => ({ t: "packets", id, data, ends: packetEnds, skip, sync: syncDue() }),
      done: (r) => {
        if (r instanceof Error) c.dropped.inc(packetEnds.length);
        else {
          options.onBatchDone?.({
            arrivals: times,
            doneAt: performance.now(),
            evaluations: r.evaluations,
            busyMs: r.busyMs,
          });
        }
      },
    };
  }

  /** A batch sent to the host, waiting for its outcome. */
  interface Flight {
    b: Batch;
    host: HostProcess;
    reply: Promise<Outcome>;
  }

  /**
   * Keeps up to `inFlight` batches in the host (a new one goes out as soon as one comes back,
   * so the worker never waits for the agent); loads run between batches, after the batches in
   * flight have come back. A batch that did not get a result (overrun, crash) is re-run alone
   * by runBatch().
   */
  async function pump() {
    if (running) return;
    running = true;
    const flights: Flight[] = [];
    try {
      while (!stopped) {
        const job = jobs[0];
        if (job?.kind === "load") {
          while (flights.length !== 0) await land(flights.shift()!);
          jobs.shift();
          await loadNow();
          job.done();
          continue;
        }
        while (flights.length < inFlight) {
          const b = nextBatch();
          if (b === null) break;
          const h = await ensureHost();
          if (h === null) {
            b.done(new Error("the rule host is not running"));
            continue;
          }
          const id = ++batchId;
          flights.push({ b, host: h, reply: h.request(b.make(id, []), 2 * replyTimeoutMs) });
        }
        const next = flights.shift();
        if (next === undefined) break;
        await land(next);
      }
      while (flights.length !== 0) await land(flights.shift()!);
    } finally {
      running = false;
    }
    if (!stopped && (jobs.length !== 0 || queue.count !== 0)) schedule();
  }

  /**
   * Takes the outcome of a batch in flight. Without a result, the host is restarted (the
   * batches still in flight share the outcome: an overrun or a crash ends them all) and the
   * batch is re-run alone, without the handler that overran.
   */
  async function land(f: Flight) {
    const outcome = await f.reply;
    if (outcome.t === "result") {
      f.b.done(accept(outcome));
      return;
    }
    if (stopped) {
      f.b.done(new Error("the rule stage stopped"));
      return;
    }
    const skip: string[] = [];
    if (host === f.host) {
      await killHost();
      // The first batch to land with the outcome counts the offence (once per overrun).
      if (outcome.t === "overrun" && outcome.phase === "evaluate") {
        offend(
          outcome.label,
          `ran past the ${budgetMs} ms budget (stopped after ${outcome.ms} ms)`,
        );
      } else if (outcome.t !== "overrun" || outcome.phase === "unknown") {
        log.error("the rule host stopped during a batch; restarting it", {
          error: why(outcome),
        });
      }
    }
    // A handler disabled meanwhile is not loaded by the new host; one that overran but is not
    // disabled yet is skipped for the batches that were in flight with it.
    if (outcome.t === "overrun" && outcome.phase === "evaluate" && !disabled.has(outcome.label)) {
      skip.push(outcome.label);
    }
    try {
      f.b.done(await runBatch(f.b.make, skip));
    } catch (e) {
      f.b.done(e as Error);
    }
  }

  /** The `configure` request every new host gets first. */
  function configureRequest(): Request {
    return {
      t: "configure",
      services,
      agentPlugin: AGENT_PLUGIN,
      typesDb: options.typesDbText,
      budgetMs,
      loadBudgetMs,
      record: options.record !== undefined,
    };
  }

  /** How long a load of `files` rule files may take before the host counts as dead. */
  function loadTimeoutMs(files: number): number {
    return 2 * loadBudgetMs + 2000 + 20 * files;
  }

  /** Starts the host if needed and loads the rules into it. Null when it cannot start. */
  async function ensureHost(): Promise<HostProcess | null> {
    if (host) return host;
    for (;;) {
      // After a failed start, batches are dropped (counted) until the retry time.
      if (stopped || performance.now() < retryAt) return null;
      let h: HostProcess;
      try {
        h = await spawnHost(hostCommand);
      } catch (e) {
        const message = (e as Error).message;
        if (!hostDown) log.error("cannot start the rule host", { error: message });
        hostDown = true;
        hostProblem = dirProblem(`the rule host cannot start, so no rule runs: ${message}`);
        retryAt = performance.now() + HOST_RETRY_MS;
        return null;
      }
      if (stopped) {
        await h.kill();
        return null;
      }
      hostDown = false;
      await h.send(configureRequest());
      host = h;
      const loaded = await sendLoad(h, true);
      if (loaded === "ok") return h;
      if (stopped) return null;
      // A file that stalled or crashed the host while loading is disabled now: try again
      // without it. Anything else (the host itself failing) waits for the retry time.
      if (loaded === "failed") {
        retryAt = performance.now() + HOST_RETRY_MS;
        return null;
      }
    }
  }

  /** A problem of the rules directory as a whole. */
  function dirProblem(message: string): RuleProblem {
    return { file: "", path: dir, line: 1, column: 1, message };
  }

  /** Whether the load failed the last time (logged once until a load works again). */
  let loadFailing = false;

  /**
   * Sends the rule set: "ok" when it loaded, "disabled" when a file stalled or crashed the host
   * while loading (that file is disabled and the host killed), "failed" when the host failed
   * with no single file to blame (killed).
   */
  async function sendLoad(h: HostProcess, fresh: boolean): Promise<"ok" | "disabled" | "failed"> {
    const modules: Record<string, string> = {};
    const rules: string[] = [];
    for (const s of sources.values()) {
      if (disabled.has(s.file)) continue; // (a helper too: its import stalled the host)
      // A fresh host gets the last good version of a file whose new version failed to load.
      const js = (fresh && failedInHost.has(s.file) ? good.get(s.file) : undefined) ?? s.js ??
        good.get(s.file);
      if (js === undefined) continue;
      modules[s.file] = js;
      if (isRuleFile(s.file) && selected(s.file)) rules.push(s.file);
    }
    const request: Request = {
      t: "load",
      modules,
      rules,
      states: fresh ? Object.fromEntries(states) : {},
      disabled: [...disabled],
    };
    const reply = await h.request(request, loadTimeoutMs(rules.length));
    if (reply.t === "loaded") {
      handlers = reply.handlers;
      c.handlers.set(handlers.length);
      for (const name of [...states.keys()]) {
        if (!handlers.includes(name) && !disabled.has(name)) forgetHandler(name);
      }
      for (const l of reply.logs ?? []) writeLog(l);
      noteResults(reply.results, modules);
      hostProblem = null;
      loadFailing = false;
      return "ok";
    }
    await killHost();
    if (reply.t === "overrun" && reply.phase === "load") {
      disableFile(
        reply.label,
        `did not finish loading within ${loadBudgetMs} ms (endless loop in its top-level code?)`,
      );
      return "disabled";
    }
    // The host died while loading (a file's top-level code ran it out of memory?): the file
    // that does it is found by loading halves of the set in fresh hosts.
    const culprit = await bisect(rules, (subset) => probeLoad(modules, subset));
    if (culprit !== null) {
      disableFile(culprit, `crashed the rule host while loading (${why(reply)})`);
      return "disabled";
    }
    const error = why(reply);
    hostProblem = dirProblem(
      `the rule host failed while loading the rules, so no rule runs: ${error}`,
    );
    if (!loadFailing) {
      log.error("the rule host failed while loading the rules; retrying in 5 s", { error });
    }
    loadFailing = true;
    return "failed";
  }

  /** Loads `rules` (of `modules`) in a fresh host of its own: true when that fails. */
  async function probeLoad(
    modules: Record<string, string>,
    rules: string[],
  ): Promise<boolean | null> {
    if (stopped) return null;
    let h: HostProcess;
    try {
      h = await spawnHost(hostCommand);
    } catch {
      return null;
    }
    try {
      await h.send(configureRequest());
      const request: Request = { t: "load", modules, rules, states: {}, disabled: [] };
      return (await h.request(request, loadTimeoutMs(rules.length))).t !== "loaded";
    } finally {
      await h.kill();
    }
  }

  /** Disables rule file `file` (it stalled or crashed the host while loading): `what` it did. */
  function disableFile(file: string, what: string) {
    disabled.add(file);
    fileDisabled.set(file, what);
    const path = join(dir, file);
    log.error(
      `rule file ${escapeControl(path)} ${what}; it is disabled and every other rule file ` +
        "keeps running. Fix the file and save it (or send SIGHUP) to load it again",
      { file: escapeControl(path) },
    );
  }

  /**
   * A handler that is gone (its file changed or was deleted): its state goes, and every series
   * it had fired for is reported `cleared` (marked `removed`), so nothing waits on it forever.
   */
  function forgetHandler(name: string) {
    const fired = (states.get(name) as { fired?: Record<string, unknown> } | undefined)?.fired;
    states.delete(name);
    const time = Date.now() / 1000;
    for (const key of Object.keys(fired ?? {})) {
      firing.delete(`${name}\u0000${key}`);
      options.onEvent({ kind: "cleared", handler: name, key, time, removed: true });
    }
  }

  function selected(file: string) {
    return options.only === undefined || options.only.includes(file);
  }

  function noteResults(results: FileResult[], modules: Record<string, string>) {
    const next: RuleProblem[] = [...dirProblems];
    for (const [file, what] of fileDisabled) {
      if (disabled.has(file) && sources.has(file) && (!isRuleFile(file) || selected(file))) {
        next.push({
          file,
          path: join(dir, file),
          line: 1,
          column: 1,
          message: `${what}: disabled`,
        });
      }
    }
    for (const s of sources.values()) {
      if (s.problem && (isRuleFile(s.file) ? selected(s.file) : true)) {
        next.push({ ...s.problem, message: s.problem.message + keptNote(s.file) });
      }
    }
    failedInHost.clear();
    for (const r of results) {
      if (!r.ok) failedInHost.add(r.file);
      if (r.ok) {
        good.set(r.file, modules[r.file]!);
        continue;
      }
      if (!r.kept) good.delete(r.file);
      const text = sources.get(r.file)?.text ?? "";
      const line = r.line ?? (r.exportName ? exportLine(text, r.exportName, r.member) : 1);
      next.push({
        file: r.file,
        path: join(dir, r.file),
        line,
        column: 1,
        message: r.message + (r.kept ? "; the previous version keeps running" : ""),
      });
    }
    const before = new Set(problems.map(problemKey));
    for (const p of next) {
      if (options.logProblems !== false && !before.has(problemKey(p))) {
        log.error(escapeControl(`rule file ${p.path}:${p.line}:${p.column}: ${p.message}`), {
          file: escapeControl(p.path),
        });
      }
    }
    problems = next;
  }

  function keptNote(file: string) {
    return good.has(file) ? "; the previous version keeps running" : "";
  }

  async function killHost(restart = true) {
    const h = host;
    host = null;
    if (h) {
      if (restart) c.restarts.inc();
      await h.kill();
    }
  }

  /** Takes a result in: state deltas, counters, logs, events, recording. */
  function accept(reply: Extract<Reply, { t: "result" }>): EvaluateResult {
    for (const [name, delta] of Object.entries(reply.states ?? {})) {
      states.set(name, applyDelta(states.get(name), delta));
    }
    c.evaluations.inc(reply.evaluations);
    if (reply.errors) c.errors.inc(reply.errors);
    for (const l of reply.logs) writeLog(l);
    for (const [handler, n] of Object.entries(reply.errorsBy ?? {})) {
      counters.counter(
        "edge_agent_rules_handler_errors_total",
        "Handler calls that threw, per handler",
        {
          handler,
        },
      ).inc(n);
    }
    const events = reply.events as RuleEvent[]; // schema-checked; `host` absent, not undefined
    for (const e of events) {
      const id = `${e.handler}\u0000${e.key}`;
      if (e.kind === "cleared") firing.delete(id);
      else if (!firing.has(id)) {
        firing.set(id, { handler: e.handler, key: e.key, since: e.time * 1e3 });
      }
      if (e.kind === "fired") c.fired.inc();
      options.onEvent(e);
    }
    if (reply.items && options.record) {
      for (const item of reply.items) options.record(item as Metric | Notification);
    }
    return { events, logs: reply.logs, evaluations: reply.evaluations, busyMs: reply.busyMs };
  }

  /**
   * Runs one batch alone, restarting the host and retrying without the culprit of an overrun.
   * When the host dies on the batch (not a budget: a crash, e.g. out of memory), the culprit is
   * found by bisection over the handlers before the batch is re-run without it.
   */
  async function runBatch(
    make: (id: number, skip: string[]) => Request,
    skip: string[] = [],
  ): Promise<EvaluateResult> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const h = await ensureHost();
      if (h === null) throw new Error("the rule host is not running");
      const id = ++batchId;
      const reply = await h.request(make(id, skip), replyTimeoutMs);
      if (reply.t === "result") return accept(reply);
      await killHost();
      if (reply.t === "overrun" && reply.phase === "evaluate" && reply.id === id) {
        offend(reply.label, `ran past the ${budgetMs} ms budget (stopped after ${reply.ms} ms)`);
        skip.push(reply.label);
        continue;
      }
      log.error("the rule host stopped during a batch; restarting it", { error: why(reply) });
      if (reply.t === "died") {
        const culprit = await findCrasher(make, skip);
        if (culprit !== null) {
          offend(culprit, `crashed the rule host (${reply.message})`);
          skip.push(culprit);
          continue;
        }
      }
      throw new Error("batch lost");
    }
    throw new Error("batch abandoned after repeated budget overruns");
  }

  /**
   * The one handler that makes the host fail on a batch, by bisection (each probe runs the
   * batch in a fresh host with part of the handlers, and its results are discarded); null when
   * the failure does not follow one handler.
   */
  async function findCrasher(
    make: (id: number, skip: string[]) => Request,
    skip: string[],
  ): Promise<string | null> {
    const fails = async (only: string[]): Promise<boolean | null> => {
      const h = await ensureHost();
      if (h === null) return null;
      const others = handlers.filter((n) => !only.includes(n));
      const reply = await h.request(make(++batchId, others), replyTimeoutMs);
      await killHost(); // a probe's state changes are never kept
      return reply.t !== "result";
    };
    return await bisect(handlers.filter((n) => !skip.includes(n)), fails);
  }

  /** Counts an offence of `handler` (what it did) and disables it at maxOverruns. */
  function offend(handler: string, what: string) {
    counters.counter(
      "edge_agent_rules_overruns_total",
      "Budget overruns and crashes, per handler",
      {
        handler,
      },
    ).inc();
    const n = (offences.get(handler) ?? 0) + 1;
    offences.set(handler, n);
    const file = escapeControl(join(dir, handler.split("::")[0]!));
    const name = escapeControl(handler);
    if (n >= maxOverruns) {
      disabled.add(handler);
      handlerDisabled.set(handler, `${what} (offence ${n} of ${maxOverruns})`);
      log.error(
        `rule handler ${name} disabled: it ${what}, offence ${n} of ${maxOverruns}. The ` +
          `other rules keep running. To re-enable it, fix ${file} and save it (the file is ` +
          "reloaded) or send SIGHUP to the agent",
        { handler: name, file },
      );
    } else {
      log.error(
        `rule handler ${name} ${what}; offence ${n} of ${maxOverruns} before it is ` +
          "disabled; the rule host was restarted and the batch re-run without it",
        { handler: name, file },
      );
    }
  }

  function writeLog(l: RuleLog) {
    writeRuleLog(log, dir, l);
  }

  /** Re-reads the directory and loads what changed (the old version of a failing file stays). */
  async function loadNow() {
    const before = sources;
    try {
      const read = await readSources(dir, before);
      sources = read.files;
      dirProblems = read.problems;
    } catch (e) {
      log.error(`cannot read the rules directory ${dir}`, { error: (e as Error).message });
      return;
    }
    // A changed (or removed) file gets a fresh start: its offences are forgiven. If its new
    // version fails to load, the old one keeps running, and stays disabled where it was.
    const forgiven = new Map<string, Forgiven>();
    for (const [file, s] of before) {
      if (sources.get(file)?.text !== s.text) forgiven.set(file, forgive(file));
      if (!sources.has(file)) good.delete(file); // deleted: its last good version goes too
    }
    const hadHost = host !== null;
    let h = await ensureHost(); // a newly started host is loaded by ensureHost()
    if (h !== null && hadHost && (await sendLoad(h, false)) !== "ok") h = await ensureHost();
    let again = false;
    for (const [file, was] of forgiven) {
      const source = sources.get(file);
      const broken = source !== undefined && (source.js === null || failedInHost.has(file));
      if (!broken || !good.has(file) || was.disabled.length === 0) continue;
      for (const name of was.disabled) disabled.add(name);
      for (const [name, n] of was.offences) offences.set(name, n);
      again = true;
    }
    if (again && h !== null && host === h && (await sendLoad(h, false)) !== "ok") {
      await ensureHost();
    }
    if (loadedOnce && options.logProblems !== false) logReloaded(before);
    loadedOnce = true;
  }

  /** One info line per saved or removed file that loaded, so an operator sees a fix took. */
  function logReloaded(before: ReadonlyMap<string, RuleSource>) {
    const total = handlers.length;
    for (const [file, s] of sources) {
      if (before.get(file)?.text === s.text || problems.some((p) => p.file === file)) continue;
      const path = join(dir, file);
      if (!isRuleFile(file)) log.info("rule helper file reloaded", { file: path, handlers: total });
      else {
        const own = handlers.filter((name) => name.startsWith(`${file}::`)).length;
        log.info("rule file reloaded", { file: path, handlers: own, total_handlers: total });
      }
    }
    for (const file of before.keys()) {
      if (!sources.has(file)) {
        log.info("rule file removed", { file: join(dir, file), handlers: total });
      }
    }
  }

  /** What forgive() took away from a file, to give back if its new version does not load. */
  interface Forgiven {
    disabled: string[];
    offences: [string, number][];
  }

  function forgive(file: string): Forgiven {
    const mine = (name: string) => name === file || name.startsWith(file + "::");
    const was: Forgiven = {
      disabled: [...disabled].filter(mine),
      offences: [...offences].filter(([name]) => mine(name)),
    };
    for (const name of was.disabled) disabled.delete(name);
    for (const [name] of was.offences) offences.delete(name);
    return was;
  }

  function enqueueLoad(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    jobs.push({ kind: "load", done: resolve });
    schedule();
    return promise;
  }

  return {
    get problems() {
      return hostProblem === null ? problems : [...problems, hostProblem];
    },
    get handlers() {
      return handlers;
    },
    inspect: () => ({
      files: [...sources.keys()].filter((f) => isRuleFile(f) && selected(f)),
      disabled: [...disabled].map((name) => ({
        name,
        kind: name.includes("::") ? "handler" as const : "file" as const,
        reason: fileDisabled.get(name) ?? handlerDisabled.get(name) ?? "disabled",
      })),
      firing: [...firing.values()].map((f) => ({ ...f })),
    }),
    submit,
    evaluate(items) {
      const { promise, resolve, reject } = Promise.withResolvers<EvaluateResult>();
      jobs.push({ kind: "items", items, done: (r) => r instanceof Error ? reject(r) : resolve(r) });
      schedule();
      return promise;
    },
    async reload() {
      disabled.clear();
      offences.clear();
      fileDisabled.clear();
      await enqueueLoad();
    },
    async start() {
      await enqueueLoad();
      if (options.watch ?? true) {
        watcher = watchDir(dir, () => void enqueueLoad(), { logger: log });
      }
      log[options.logProblems === false ? "debug" : "info"]("rules loaded", {
        dir,
        handlers: handlers.length,
        problems: problems.length,
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      watcher?.close();
      for (const j of jobs.splice(0)) {
        if (j.kind === "items") j.done(new Error("the rule stage stopped"));
        else j.done();
      }
      await killHost(false);
    },
  };
}

/** Why a request ended without a result, for the log. */
function why(o: Outcome): string {
  if (o.t === "died" || o.t === "fatal") return o.message;
  if (o.t === "overrun" && o.phase === "unknown") {
    return `the batch was still running after ${o.ms} ms with no single handler call stuck ` +
      "(an overloaded machine, or batches too large for RuleBudgetMs)";
  }
  return `unexpected ${o.t}`;
}

function problemKey(p: RuleProblem) {
  return `${p.file}:${p.line}:${p.message}`;
}
