/**
 * The handlers of the loaded rule files, in the order they run, each with its context, the
 * worker's copy of its state and its bookkeeping; split by kind and by the plugin they read for
 * the hot loop (one lookup per item, not a test per handler), and by name for the state sync. A reload keeps the context (and so the helpers' call-site numbering) of a
 * handler whose function is the same.
 * @module
 */
import type { ContextRuntime } from "../_context.ts";
import type { Glue } from "./enclose.ts";
import type { Handler, HandlerState, Instance } from "./types.ts";

/** The handler list of one worker. */
export class HandlerTable {
  /** Every handler, by index (the progress slots name a handler by it). */
  all: Handler[] = [];
  byName = new Map<string, Handler>();
  metric: Handler[] = [];
  notification: Handler[] = [];
  /** The metric handlers an item of a plugin goes to, in order. */
  metricFor: ByPlugin = byPlugin([]);
  /** The notification handlers an item of a plugin goes to, in order. */
  notificationFor: ByPlugin = byPlugin([]);
  /** Handler states by name (kept for disabled handlers, dropped for removed ones). */
  private readonly states = new Map<string, HandlerState>();

  /** `onDirty(name)`: handler `name`'s state changed since its last delta. */
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly glue: Glue,
    private readonly onDirty: (name: string) => void,
  ) {}

  /** Takes the agent's copies of handler states (a load, e.g. after a rule-host restart). */
  restore(states: Record<string, HandlerState>): void {
    for (const [name, state] of Object.entries(states)) this.states.set(name, state);
  }

  /** Builds the handler list from the loaded instances, leaving `disabled` handlers out. */
  install(instances: Iterable<Instance>, disabled: ReadonlySet<string>): void {
    const { runtime, states } = this;
    const previous = new Map(this.all.map((h) => [h.name, h]));
    const handlers: Handler[] = [];
    for (const inst of instances) {
      for (const h of inst.handlers) {
        if (disabled.has(h.name)) continue;
        const before = previous.get(h.name);
        let state = states.get(h.name);
        if (state === undefined) states.set(h.name, state = runtime.emptyState());
        const name = h.name;
        const c = before && before.fn === h.fn
          ? before.c
          : runtime.createContext(name, () => this.onDirty(name));
        c.use(state);
        handlers.push({
          ...h,
          index: handlers.length,
          c,
          ctx: this.glue.freeze(c.ctx),
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
    this.all = handlers;
    this.byName = new Map(handlers.map((h) => [h.name, h]));
    this.metric = handlers.filter((h) => h.kind === "metric");
    this.notification = handlers.filter((h) => h.kind === "notification");
    this.metricFor = byPlugin(this.metric);
    this.notificationFor = byPlugin(this.notification);
  }

  /** The handlers' names, in order. */
  get names(): string[] {
    return this.all.map((h) => h.name);
  }
}

/**
 * Handlers by the plugin of the items they are called for: `named` for each plugin a handler
 * declares (those handlers and every undeclared one, in order), `other` for the rest.
 */
export interface ByPlugin {
  named: Map<string, Handler[]>;
  other: Handler[];
}

function byPlugin(list: Handler[]): ByPlugin {
  const named = new Map<string, Handler[]>();
  for (const h of list) for (const p of h.plugins ?? []) named.set(p, []);
  for (const [p, l] of named) {
    for (const h of list) if (h.plugins === null || h.plugins.includes(p)) l.push(h);
  }
  return { named, other: list.filter((h) => h.plugins === null) };
}
