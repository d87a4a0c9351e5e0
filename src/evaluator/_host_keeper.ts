/**
 * Keeps one rule host running with the current rule set loaded: starts it (the agent's own
 * program, see `_host_client.ts`), configures it, loads the rules into it (again when the rules
 * directory changed), and after a failure waits HOST_RETRY_MS before trying again (meanwhile
 * batches are dropped and counted). A rule file whose top-level code stalls or crashes the host
 * while loading is found (by bisection, in hosts of its own) and disabled through the offence
 * policy; the others load again.
 * @module
 */
import type { Logger, RuleEvent } from "../model/mod.ts";
import type { RuleCounters } from "./counters.ts";
import { bisect } from "./_bisect.ts";
import type { HandlerStates } from "./_handler_states.ts";
import { describeOutcome, type HostCommand, type HostProcess, spawnHost } from "./_host_client.ts";
import type { Forgiven, OffencePolicy } from "./_offences.ts";
import type { Request } from "./_protocol.ts";
import { writeRuleLog } from "./_rule_log.ts";
import type { RuleSet } from "./_rule_set.ts";
import type { RuleProblem } from "./_sources.ts";

/** Wait after the rule host failed to start (or to load) before trying again. */
const HOST_RETRY_MS = 5000;

/** Options of {@linkcode HostKeeper}. */
export interface HostKeeperOptions {
  /** How to start the rule host. */
  command: HostCommand;
  /** The `configure` request every new host gets first. */
  configure: Extract<Request, { t: "configure" }>;
  /** Time budget of loading the rule files, in ms. */
  loadBudgetMs: number;
  /** The rules directory (problem paths, rule log lines). */
  dir: string;
  logger: Logger;
  counters: RuleCounters;
  rules: RuleSet;
  offences: OffencePolicy;
  states: HandlerStates;
  /** Receives the `cleared` events of handlers that are gone after a load. */
  onEvent(e: RuleEvent): void;
}

/**
 * How a load ended: "ok" when it loaded, "disabled" when a file stalled or crashed the host
 * while loading (that file is disabled and the host killed), "failed" when the host failed with
 * no single file to blame (killed).
 */
export type LoadOutcome = "ok" | "disabled" | "failed";

/**
 * The rule host of the rule stage (see the module comment). Lifecycle: `ensure()` starts a host
 * when there is none; `reload()` loads a changed rules directory; `kill()` ends the current
 * host (the next `ensure()` starts another); after `stop()` no host is started again.
 */
export class HostKeeper {
  readonly #o: HostKeeperOptions;
  #host: HostProcess | null = null;
  /** Whether the last start failed (logged once until a start works again). */
  #hostDown = false;
  /** Whether the last load failed (logged once until a load works again). */
  #loadFailing = false;
  /** No start is tried before this time (performance.now()). */
  #retryAt = 0;
  #stopped = false;
  /** Set while the rule host cannot be started or loaded; cleared by a good load. */
  #problem: RuleProblem | null = null;
  /** Whether the rule set was loaded before (later loads log what was reloaded). */
  #loadedOnce = false;

  constructor(options: HostKeeperOptions) {
    this.#o = options;
  }

  /** The host running now, if any. */
  get host(): HostProcess | null {
    return this.#host;
  }

  /** Why no rule runs (the host cannot start or load), or null. */
  get problem(): RuleProblem | null {
    return this.#problem;
  }

  /** Starts the host if needed and loads the rules into it. Null when it cannot start. */
  async ensure(): Promise<HostProcess | null> {
    if (this.#host) return this.#host;
    for (;;) {
      // After a failed start, batches are dropped (counted) until the retry time.
      if (this.#stopped || performance.now() < this.#retryAt) return null;
      let h: HostProcess;
      try {
        h = await spawnHost(this.#o.command);
      } catch (e) {
        const message = (e as Error).message;
        if (!this.#hostDown) this.#o.logger.error("cannot start the rule host", { error: message });
        this.#hostDown = true;
        this.#problem = this.#dirProblem(`the rule host cannot start, so no rule runs: ${message}`);
        this.#retryAt = performance.now() + HOST_RETRY_MS;
        return null;
      }
      if (this.#stopped) {
        await h.kill();
        return null;
      }
      this.#hostDown = false;
      await h.send(this.#o.configure);
      this.#host = h;
      const loaded = await this.load(h, true);
      if (loaded === "ok") return h;
      if (this.#stopped) return null;
      // A file that stalled or crashed the host while loading is disabled now: try again
      // without it. Anything else (the host itself failing) waits for the retry time.
      if (loaded === "failed") {
        this.#retryAt = performance.now() + HOST_RETRY_MS;
        return null;
      }
    }
  }

  /**
   * Re-reads the rules directory and loads what changed; the old version of a file whose new
   * version fails keeps running (and stays disabled where it was).
   */
  async reload(): Promise<void> {
    const { rules, offences } = this.#o;
    const before = await rules.read();
    if (before === null) return;
    // A changed (or removed) file gets a fresh start: its offences are forgiven. If its new
    // version fails to load, the old one keeps running, and stays disabled where it was.
    const forgiven = new Map<string, Forgiven>();
    for (const [file, s] of before) {
      if (rules.sources.get(file)?.text !== s.text) forgiven.set(file, offences.forgive(file));
    }
    const hadHost = this.#host !== null;
    let h = await this.ensure(); // a newly started host is loaded by ensure()
    if (h !== null && hadHost && (await this.load(h, false)) !== "ok") h = await this.ensure();
    let again = false;
    for (const [file, was] of forgiven) {
      if (!rules.failedKeepingOld(file) || was.disabled.length === 0) continue;
      offences.restore(was);
      again = true;
    }
    if (again && h !== null && this.#host === h && (await this.load(h, false)) !== "ok") {
      await this.ensure();
    }
    if (this.#loadedOnce) rules.logReloaded(before);
    this.#loadedOnce = true;
  }

  /**
   * Sends the rule set to host `h` (`fresh`: a new process, which also gets every handler's
   * state and the last good version of files whose new version failed to load).
   */
  async load(h: HostProcess, fresh: boolean): Promise<LoadOutcome> {
    const { rules: ruleSet, offences, states, logger: log } = this.#o;
    const { modules, rules } = ruleSet.moduleSet(fresh, (name) => offences.isDisabled(name));
    const request: Request = {
      t: "load",
      modules,
      rules,
      states: fresh ? states.toRecord() : {},
      disabled: offences.disabledNames,
    };
    const reply = await h.request(request, this.#loadTimeoutMs(rules.length));
    if (reply.t === "loaded") {
      ruleSet.setHandlers(reply.handlers);
      this.#o.counters.handlers.set(reply.handlers.length);
      states.prune(reply.handlers, (name) => offences.isDisabled(name), this.#o.onEvent);
      for (const l of reply.logs ?? []) writeRuleLog(log, this.#o.dir, l);
      ruleSet.noteResults(reply.results, modules, offences.disabledFiles());
      this.#problem = null;
      this.#loadFailing = false;
      return "ok";
    }
    await this.kill();
    if (reply.t === "overrun" && reply.phase === "load") {
      offences.disableFile(
        reply.label,
        `did not finish loading within ${this.#o.loadBudgetMs} ms (endless loop in its top-level code?)`,
      );
      return "disabled";
    }
    // The host died while loading (a file's top-level code ran it out of memory?): the file
    // that does it is found by loading halves of the set in fresh hosts.
    const culprit = await bisect(rules, (subset) => this.#probeLoad(modules, subset));
    if (culprit !== null) {
      offences.disableFile(
        culprit,
        `crashed the rule host while loading (${describeOutcome(reply)})`,
      );
      return "disabled";
    }
    const error = describeOutcome(reply);
    this.#problem = this.#dirProblem(
      `the rule host failed while loading the rules, so no rule runs: ${error}`,
    );
    if (!this.#loadFailing) {
      log.error("the rule host failed while loading the rules; retrying in 5 s", { error });
    }
    this.#loadFailing = true;
    return "failed";
  }

  /** Kills the current host, if any (`restart`: counted as a restart of the rule host). */
  async kill(restart = true): Promise<void> {
    const h = this.#host;
    this.#host = null;
    if (h) {
      if (restart) this.#o.counters.restarts.inc();
      await h.kill();
    }
  }

  /** Kills the host for good: no host is started after this. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.kill(false);
  }

  /** Loads `rules` (of `modules`) in a fresh host of its own: true when that fails. */
  async #probeLoad(modules: Record<string, string>, rules: string[]): Promise<boolean | null> {
    if (this.#stopped) return null;
    let h: HostProcess;
    try {
      h = await spawnHost(this.#o.command);
    } catch {
      return null;
    }
    try {
      await h.send(this.#o.configure);
      const request: Request = { t: "load", modules, rules, states: {}, disabled: [] };
      return (await h.request(request, this.#loadTimeoutMs(rules.length))).t !== "loaded";
    } finally {
      await h.kill();
    }
  }

  /** How long a load of `files` rule files may take before the host counts as dead. */
  #loadTimeoutMs(files: number): number {
    return 2 * this.#o.loadBudgetMs + 2000 + 20 * files;
  }

  /** A problem of the rules directory as a whole. */
  #dirProblem(message: string): RuleProblem {
    return { file: "", path: this.#o.dir, line: 1, column: 1, message };
  }
}
