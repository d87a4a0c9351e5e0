/**
 * The offence policy of the rule stage: a handler that runs past its time budget or crashes
 * the rule host commits an offence, and at `maxOverruns` offences it is disabled; a rule file
 * whose top-level code stalls or crashes the host while loading is disabled at once. Disabled
 * handlers and files are not loaded by the next rule host; every other rule keeps running.
 *
 * A changed file is forgiven (its offences and disabled handlers go) and, if its new version
 * does not load while the old one keeps running, given back what it had ({@linkcode Forgiven}).
 * `clear()` (SIGHUP, `reload()`) forgives everything.
 * @module
 */
import { join } from "node:path";
import type { Logger } from "../model/mod.ts";
import type { RuleCounters } from "./counters.ts";
import { escapeControl } from "./_rule_log.ts";

/** Options of {@linkcode OffencePolicy}. */
export interface OffencePolicyOptions {
  /** The rules directory (file paths in log lines). */
  dir: string;
  logger: Logger;
  counters: RuleCounters;
  /** Offences after which a handler is disabled. */
  maxOverruns: number;
}

/** What {@linkcode OffencePolicy.forgive} took away from a file, to give back if need be. */
export interface Forgiven {
  disabled: string[];
  offences: [string, number][];
}

/** One disabled handler (`file::kind::name`) or rule file, and what it did. */
export interface Disabled {
  name: string;
  reason: string;
}

/** Offences and disabled handlers and files (see the module comment). */
export class OffencePolicy {
  readonly #o: OffencePolicyOptions;
  /** Offences per handler (`file::kind::name`). */
  readonly #offences = new Map<string, number>();
  /** Disabled handlers and rule files. */
  readonly #disabled = new Set<string>();
  /** What each disabled rule file did (it stalled or crashed the host while loading). */
  readonly #fileReasons = new Map<string, string>();
  /** What each disabled handler did (its last offence). */
  readonly #handlerReasons = new Map<string, string>();

  constructor(options: OffencePolicyOptions) {
    this.#o = options;
  }

  /** Whether the handler or rule file `name` is disabled. */
  isDisabled(name: string): boolean {
    return this.#disabled.has(name);
  }

  /** Every disabled handler and rule file (what the rule host is told not to load). */
  get disabledNames(): string[] {
    return [...this.#disabled];
  }

  /** Each disabled handler and rule file with what it did, for an operator. */
  get disabled(): Disabled[] {
    return [...this.#disabled].map((name) => ({
      name,
      reason: this.#fileReasons.get(name) ?? this.#handlerReasons.get(name) ?? "",
    }));
  }

  /** The rule files disabled now (they stalled or crashed the host while loading), with why. */
  *disabledFiles(): Iterable<[file: string, reason: string]> {
    for (const [file, reason] of this.#fileReasons) {
      if (this.#disabled.has(file)) yield [file, reason];
    }
  }

  /** Counts an offence of `handler` (`what` it did) and disables it at maxOverruns. */
  offend(handler: string, what: string): void {
    const { dir, logger: log, maxOverruns } = this.#o;
    this.#o.counters.overruns(handler).inc();
    const n = (this.#offences.get(handler) ?? 0) + 1;
    this.#offences.set(handler, n);
    const file = escapeControl(join(dir, handler.split("::")[0]!));
    const name = escapeControl(handler);
    if (n >= maxOverruns) {
      this.#disabled.add(handler);
      this.#handlerReasons.set(handler, `${what} (offence ${n} of ${maxOverruns})`);
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

  /** Disables rule file `file` (it stalled or crashed the host while loading): `what` it did. */
  disableFile(file: string, what: string): void {
    this.#disabled.add(file);
    this.#fileReasons.set(file, what);
    const path = join(this.#o.dir, file);
    this.#o.logger.error(
      `rule file ${escapeControl(path)} ${what}; it is disabled and every other rule file ` +
        "keeps running. Fix the file and save it (or send SIGHUP) to load it again",
      { file: escapeControl(path) },
    );
  }

  /** A changed or removed file gets a fresh start: its offences and disabled handlers go. */
  forgive(file: string): Forgiven {
    const mine = (name: string) => name === file || name.startsWith(file + "::");
    const was: Forgiven = {
      disabled: [...this.#disabled].filter(mine),
      offences: [...this.#offences].filter(([name]) => mine(name)),
    };
    for (const name of was.disabled) this.#disabled.delete(name);
    for (const [name] of was.offences) this.#offences.delete(name);
    return was;
  }

  /** Gives back what forgive() took (the file's new version failed; the old one runs on). */
  restore(was: Forgiven): void {
    for (const name of was.disabled) this.#disabled.add(name);
    for (const [name, n] of was.offences) this.#offences.set(name, n);
  }

  /** Forgives everything (reload). */
  clear(): void {
    this.#disabled.clear();
    this.#offences.clear();
    this.#fileReasons.clear();
    this.#handlerReasons.clear();
  }
}
