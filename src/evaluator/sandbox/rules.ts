/**
 * The rule set in the worker: loads rule files into handlers, runs every handler of its kind
 * on every item (the hot loop), turns return values into fired/cleared events, and collects the
 * handler-state changes for the agent.
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
import { type Action, actionsOf, type Services } from "./actions.ts";
import type { Glue } from "./enclose.ts";
import { createJobs } from "./jobs.ts";
import { safeString } from "./errors.ts";
import { ShapeError } from "./exports.ts";
import type { Loader } from "./loader.ts";
import type { LogBook } from "./logs.ts";
import type {
  Batch,
  FileResult,
  Handler,
  HandlerState,
  Instance,
  Item,
  LoadRequest,
  RuleEvent,
} from "./types.ts";

export type { Batch, FileResult, Item, LoadRequest, RuleEvent };

/** Most handlers of all rule files together (a file that would exceed it is not loaded). */
export const MAX_HANDLERS = 2000;
/** Handlers logged once per interval when they keep throwing (with a count of the rest). */
const ERROR_LOG_INTERVAL_MS = 10_000;
/** Series state is dropped after this long without a sample (seconds of sample time). */
const SERIES_TTL_S = 3600;
const SWEEP_MS = 60_000;
/** Distinct warnings kept per handler (each is logged once). */
const MAX_WARNED = 100;
const NO_ACTIONS: Action[] = [];

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
  const { glue, loader, runtime, logs } = o;
  const slots = o.progress.slots;
  const { PHASE, INDEX, CALLS } = o.progress;
  const cursor = runtime.cursor;
  let services: Services = new Map();
  let agentPlugin = "";
  let loadBudgetMs = 2000;
  let instances = new Map<string, Instance>();
  const states = new Map<string, HandlerState>();
  let handlers: Handler[] = [];
  let byName = new Map<string, Handler>();
  let metricHandlers: Handler[] = [];
  let notificationHandlers: Handler[] = [];
  /** The rule file whose top-level code runs now (for console lines). */
  let loading: string | undefined;
  /** Handlers (names) whose state changed since the last sync to the agent. */
  const dirty = new Set<string>();
  /** Handlers whose fired set changed in this batch (sent with every result). */
  const firedNow = new Set<Handler>();
  let lastSweep = glue.now();
  let latest = 0;
  const jobs = createJobs(glue, o.progress);

  /** The handler (or rule file) running now, from the progress slots. */
  function current(): string | undefined {
    const phase = slots[PHASE];
    return phase === 2 ? handlers[slots[INDEX]!]?.name : phase === 1 ? loading : undefined;
  }

  function configure(c: { services: Services; agentPlugin: string; loadBudgetMs: number }) {
    services = c.services;
    agentPlugin = c.agentPlugin;
    loadBudgetMs = c.loadBudgetMs;
  }

  /** Loads a rule set; returns each rule file's result and the handler names. */
  async function load(msg: LoadRequest): Promise<{ results: FileResult[]; handlers: string[] }> {
    const files = Object.keys(msg.modules);
    const at = new Map(files.map((f, i) => [f, i]));
    const enter = (file: string) => {
      slots[PHASE] = 1;
      slots[INDEX] = at.get(file) ?? -1;
      loading = file;
      o.progress.begin(-1, loadBudgetMs); // each file has the whole budget
    };
    const failedImport = await loader.importAll(msg.modules, enter);
    slots[PHASE] = 0;
    jobs.forget(); // only the glue's own (no rule code runs while modules are imported)
    const results: FileResult[] = [];
    const next = new Map<string, Instance>();
    let total = 0;
    for (const file of msg.rules) {
      const old = instances.get(file);
      let result: FileResult = { file, ok: true };
      try {
        const failed = failedImport.get(file);
        if (failed !== undefined) throw failed; // its module did not even import
        enter(file);
        const { exports, sig } = loader.instantiate(file);
        const inst = old && old.sig === sig
          ? old
          : { file, sig, handlers: loader.collect(file, exports) };
        await jobs.settle();
        if (total + inst.handlers.length > MAX_HANDLERS) {
          throw new ShapeError(
            `exports ${inst.handlers.length} handlers, which would bring the rule set to more ` +
              `than ${MAX_HANDLERS} handlers (the limit of all rule files together)`,
            "metrics",
          );
        }
        total += inst.handlers.length;
        next.set(file, inst);
      } catch (e) {
        result = fileProblem(file, e, failedImport.get(file));
        if (old && total + old.handlers.length <= MAX_HANDLERS) {
          next.set(file, old);
          total += old.handlers.length;
          result.kept = true;
        }
      }
      slots[PHASE] = 0;
      loading = undefined;
      results.push(result);
    }
    instances = next;
    for (const [name, state] of Object.entries(msg.states ?? {})) states.set(name, state);
    install(new Set(msg.disabled ?? []));
    return { results, handlers: handlers.map((h) => h.name) };
  }

  function fileProblem(file: string, e: unknown, failed: unknown): FileResult {
    if (e instanceof ShapeError) {
      return {
        file,
        ok: false,
        message: e.shape,
        exportName: e.exportName,
        member: e.member,
      };
    }
    const d = failed !== undefined ? e as ReturnType<Loader["describe"]> : loader.describe(e);
    return {
      file,
      ok: false,
      message: d.message,
      line: d.file === file ? d.line : undefined,
      stack: d.stack,
    };
  }

  /** Builds the handler list from the loaded instances (contexts kept for unchanged ones). */
  function install(disabled: ReadonlySet<string>) {
    const previous = new Map(handlers.map((h) => [h.name, h]));
    handlers = [];
    for (const inst of instances.values()) {
      for (const h of inst.handlers) {
        if (disabled.has(h.name)) continue;
        const before = previous.get(h.name);
        let state = states.get(h.name);
        if (state === undefined) states.set(h.name, state = runtime.emptyState());
        const name = h.name;
        const c = before && before.fn === h.fn
          ? before.c
          : runtime.createContext(name, () => dirty.add(name));
        c.use(state);
        handlers.push({
          ...h,
          index: handlers.length,
          c,
          ctx: glue.freeze(c.ctx),
          state,
          warned: before?.warned ?? new Set(),
          lastError: -Infinity,
          suppressed: 0,
          firing: Object.keys(state.fired).length,
          firedDelta: {},
        });
      }
    }
    const live = new Set(handlers.map((h) => h.name));
    for (const name of [...states.keys()]) {
      if (!live.has(name) && !disabled.has(name)) states.delete(name);
    }
    byName = new Map(handlers.map((h) => [h.name, h]));
    metricHandlers = handlers.filter((h) => h.kind === "metric");
    notificationHandlers = handlers.filter((h) => h.kind === "notification");
  }

  /**
   * The hot loop: every handler of its kind on every item. Kept free of rarely taken paths
   * (a throw, an action): V8 would compile them from no type feedback and leave the optimized
   * loop each time one is first taken.
   */
  function evaluate(items: readonly Item[], batch: Batch) {
    const skip = batch.skip;
    let evaluations = 0;
    slots[PHASE] = 2;
    for (let n = 0; n < items.length; n++) {
      const item = items[n]!;
      const list = item.severity !== undefined
        ? (item.plugin === agentPlugin ? NO_HANDLERS : notificationHandlers)
        : metricHandlers;
      if (list.length === 0) continue;
      const key = item.host + "/" + item.plugin +
        (item.plugin_instance ? "-" + item.plugin_instance : "") +
        "/" + item.type + (item.type_instance ? "-" + item.type_instance : "");
      const time = item.time;
      if (time > latest) latest = time;
      cursor.key = key;
      cursor.time = time;
      for (let i = 0; i < list.length; i++) {
        const h = list[i]!;
        if (skip.size !== 0 && skip.has(h.name)) continue;
        slots[INDEX] = h.index;
        // A new call: contexts notice it lazily; the host tells a stuck call from a slow
        // batch by this counter.
        slots[CALLS] = ++cursor.call;
        evaluations++;
        let r: unknown;
        try {
          r = h.fn(item, h.ctx);
        } catch (e) {
          threw(h, e, batch);
          continue;
        }
        if ((r === undefined || r === null || r === false) && h.firing === 0) continue;
        try {
          decide(h, r, key, time, batch.events);
        } catch (e) {
          threw(h, e, batch); // a getter or proxy in what it returned threw
        }
      }
    }
    slots[PHASE] = 0;
    batch.evaluations = evaluations;
  }

  function threw(h: Handler, e: unknown, batch: Batch) {
    batch.errors++;
    batch.errorsBy ??= {};
    batch.errorsBy[h.name] = (batch.errorsBy[h.name] ?? 0) + 1;
    const now = glue.now();
    if (now - h.lastError < ERROR_LOG_INTERVAL_MS) {
      h.suppressed++;
      return;
    }
    const d = loader.describe(e);
    const more = h.suppressed ? ` (${h.suppressed} more errors of this handler not logged)` : "";
    logs.glue({
      level: "error",
      msg: `rule handler threw ${d.message}${more}`,
      handler: h.name,
      file: d.file ?? h.file,
      line: d.line,
      stack: d.stack,
    });
    h.lastError = now;
    h.suppressed = 0;
  }

  function warnOnce(h: Handler, id: string, msg: string) {
    if (h.warned.has(id)) return;
    if (h.warned.size < MAX_WARNED) h.warned.add(id);
    logs.glue({ level: "error", msg, handler: h.name });
  }

  /** A handler returned something, or is fired for some series: fired/cleared for `key`. */
  function decide(h: Handler, r: unknown, key: string, time: number, events: RuleEvent[]) {
    let actions = NO_ACTIONS;
    if (r !== undefined && r !== null && r !== false) {
      if (typeof r === "object" && typeof (r as { then?: unknown }).then === "function") {
        warnOnce(
          h,
          "async",
          "returned a Promise: handlers must be synchronous (the action was not taken)",
        );
      } else {
        actions = actionsOf(r, services, (why) => warnOnce(h, why.id, why.msg), describeValue);
      }
    }
    const fired = h.state.fired;
    if (actions.length !== 0) {
      if (fired[key] === undefined) {
        fired[key] = 1;
        h.firing++;
        h.firedDelta[key] = 1;
        firedNow.add(h);
        events.push({ kind: "fired", handler: h.name, key, actions, time });
      }
    } else if (fired[key] !== undefined && !h.c.latched(key)) {
      delete fired[key];
      h.firing--;
      h.firedDelta[key] = null;
      firedNow.add(h);
      events.push({ kind: "cleared", handler: h.name, key, time });
    }
  }

  /** Now and then, forget series a handler has not seen for SERIES_TTL_S of sample time. */
  function maybeSweep(now: number) {
    if (now - lastSweep < SWEEP_MS || latest <= 0) return;
    lastSweep = now;
    for (const h of handlers) h.c.expire(latest - SERIES_TTL_S);
  }

  /**
   * State changes for the agent as JSON texts per handler: fired/cleared always; series and
   * ctx.state when `sync`, at most `max` series (round robin over the handlers). A handler's
   * state is serialized in its own watched time; if that throws, the change is not sent (and
   * logged).
   */
  function changes(sync: boolean, max: number): string {
    const fired = new Map<string, Record<string, 1 | null>>();
    for (const h of firedNow) {
      fired.set(h.name, h.firedDelta);
      h.firedDelta = {};
    }
    firedNow.clear();
    const parts: string[] = [];
    if (sync && dirty.size !== 0) {
      let budget = max;
      for (const name of [...dirty]) {
        if (budget <= 0) break;
        dirty.delete(name);
        const h = byName.get(name);
        if (h === undefined) continue; // removed or disabled meanwhile
        const delta = h.c.takeDelta(budget) as { s?: unknown; k?: object; f?: unknown } | null;
        if (delta === null) continue;
        for (const _ in delta.k) budget--;
        if (delta.s !== undefined) budget--;
        const f = fired.get(name);
        if (f !== undefined) delta.f = f, fired.delete(name);
        const text = serialize(h, delta);
        if (text !== null) parts.push(o.toJson(name) + ":" + text);
        if (h.c.dirty) dirty.add(name); // the rest later, after the others (round robin)
      }
    }
    for (const [name, f] of fired) parts.push(o.toJson(name) + ":" + o.toJson({ f }));
    return parts.join(",");
  }

  /** A handler's delta as JSON, serialized as the handler's own (watched) time. */
  function serialize(h: Handler, delta: unknown): string | null {
    slots[PHASE] = 2;
    slots[INDEX] = h.index;
    try {
      return o.toJson(delta);
    } catch (e) {
      const d = loader.describe(e);
      logs.glue({
        level: "error",
        msg: `the handler's state cannot be saved (ctx.state and ctx.series must hold plain ` +
          `JSON-able data): ${d.message}; its changes since the last sync are not kept`,
        handler: h.name,
        file: h.file,
      });
      return null;
    } finally {
      slots[PHASE] = 0;
    }
  }

  function describeValue(v: unknown): string {
    try {
      return o.toJson(v) ?? safeString(v);
    } catch {
      return safeString(v);
    }
  }

  return {
    configure,
    load,
    evaluate,
    jobs,
    changes,
    maybeSweep,
    current,
    get names() {
      return handlers.map((h) => h.name);
    },
  };
}

const NO_HANDLERS: never[] = [];

/** What {@linkcode createRuleSet} returns. */
export type RuleSet = ReturnType<typeof createRuleSet>;
