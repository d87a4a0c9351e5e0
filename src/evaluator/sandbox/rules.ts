/**
 * The rule set in the worker: loads rule files into handlers, runs every handler of its kind
 * on every item (the hot loop), turns return values into fired/cleared events, and collects the
 * handler-state changes for the agent. This file composes its parts:
 * - `rule_files.ts`: loading rule files (the last good version of a file keeps running);
 * - `handler_table.ts`: the handlers, their contexts and state copies;
 * - `dispatch.ts`: the hot loop; `decide.ts`: fired/cleared from a return value;
 * - `handler_log.ts`: a handler's errors and warnings as log lines;
 * - `state_sync.ts`: the state changes for the agent, and the expiry of old series.
 *
 * Every piece of rule code runs while the host's budget watch knows whose it is: a handler
 * call (phase 2, its index), a rule file's top-level code and its exports (phase 1, the file),
 * the serialization of a handler's state (phase 2, its index: a `toJSON`, getter or proxy
 * trap in `ctx.state` is the handler's own time), and the promise jobs rule code leaves
 * (`jobs.ts`).
 * @module
 */
import type { ContextRuntime } from "../_context.ts";
import type { ProgressView } from "../_progress.ts";
import type { Services } from "./actions.ts";
import { createDecide } from "./decide.ts";
import { createDispatch } from "./dispatch.ts";
import type { Glue } from "./enclose.ts";
import { createHandlerLog } from "./handler_log.ts";
import { HandlerTable } from "./handler_table.ts";
import { createJobs } from "./jobs.ts";
import type { Loader } from "./loader.ts";
import type { LogBook } from "./logs.ts";
import { createRuleFiles } from "./rule_files.ts";
import { createStateSync } from "./state_sync.ts";
import type { Batch, FileResult, Item, LoadRequest, RuleEvent } from "./types.ts";

export type { Batch, FileResult, Item, LoadRequest, RuleEvent };
export { MAX_HANDLERS } from "./rule_files.ts";

/** Options of {@linkcode createRuleSet}. */
export interface RuleSetOptions {
  glue: Glue;
  loader: Loader;
  runtime: ContextRuntime;
  progress: ProgressView;
  logs: LogBook;
  /** `value` as JSON text (bigints tagged): the protocol's encoder. */
  toJson(value: unknown): string;
}

/** The rule set of one worker. */
export function createRuleSet(o: RuleSetOptions) {
  const { glue, loader, progress, logs, toJson } = o;
  const describe = loader.describe;
  const jobs = createJobs(glue, progress);
  const files = createRuleFiles(loader, progress, jobs);
  const table = new HandlerTable(o.runtime, glue, (name) => sync.dirty(name));
  const sync = createStateSync({ table, progress, logs, describe, toJson, now: glue.now });
  const log = createHandlerLog(glue, logs, describe);
  const decide = createDecide({ log, firedNow: sync.firedNow, toJson });
  const dispatch = createDispatch({
    table,
    progress,
    cursor: o.runtime.cursor,
    log,
    decide: decide.decide,
  });
  const slots = progress.slots;
  const { PHASE, INDEX } = progress;

  return {
    configure(c: { services: Services; agentPlugin: string; loadBudgetMs: number }) {
      decide.configure(c.services);
      dispatch.configure(c.agentPlugin);
      files.configure(c.loadBudgetMs);
    },
    /** Loads a rule set; returns each rule file's result and the handler names. */
    async load(msg: LoadRequest): Promise<{ results: FileResult[]; handlers: string[] }> {
      const results = await files.load(msg.modules, msg.rules);
      table.restore(msg.states ?? {});
      table.install(files.instances, new Set(msg.disabled ?? []));
      return { results, handlers: table.names };
    },
    /** Runs every handler of its kind on every item of `items` (the hot loop). */
    evaluate: dispatch.evaluate,
    jobs,
    changes: sync.changes,
    maybeSweep: (now: number) => sync.maybeSweep(now, dispatch.latest),
    /** The handler (or rule file) running now, from the progress slots. */
    current(): string | undefined {
      const phase = slots[PHASE];
      return phase === 2 ? table.all[slots[INDEX]!]?.name : phase === 1 ? files.loading : undefined;
    },
    get names() {
      return table.names;
    },
  };
}

/** What {@linkcode createRuleSet} returns. */
export type RuleSet = ReturnType<typeof createRuleSet>;
