/**
 * The hot loop: every handler of its kind on every item, each call in the handler's watched
 * time (the progress slots say whose code runs and count the calls). Kept free of rarely taken
 * paths (a throw, an action): V8 would compile them from no type feedback and leave the
 * optimized loop each time one is first taken; those live in `handler_log.ts` and `decide.ts`.
 * No allocation per item (its series key is built only when a handler's state or result needs it).
 * @module
 */
import { type Cursor, cursorKey } from "../_context.ts";
import type { ProgressView } from "../_progress.ts";
import type { HandlerLog } from "./handler_log.ts";
import type { HandlerTable } from "./handler_table.ts";
import type { Batch, Handler, Item, RuleEvent } from "./types.ts";

/** Options of {@linkcode createDispatch}. */
export interface DispatchOptions {
  table: HandlerTable;
  progress: ProgressView;
  cursor: Cursor;
  log: HandlerLog;
  decide: (h: Handler, r: unknown, key: string, time: number, events: RuleEvent[]) => void;
}

const NO_HANDLERS: never[] = [];

/** The dispatch of one worker; `configure()` names the agent's own plugin (not dispatched). */
export function createDispatch(o: DispatchOptions) {
  const { table, cursor, log, decide } = o;
  const slots = o.progress.slots;
  const { PHASE, INDEX, CALLS } = o.progress;
  let agentPlugin = "";
  /** The latest sample time seen (for series expiry). */
  let latest = 0;

  function evaluate(items: readonly Item[], batch: Batch) {
    const skip = batch.skip;
    const metricFor = table.metricFor;
    const notificationFor = table.notificationFor;
    let evaluations = 0;
    slots[PHASE] = 2;
    for (let n = 0; n < items.length; n++) {
      const item = items[n]!;
      const list = item.severity !== undefined
        ? (item.plugin === agentPlugin
          ? NO_HANDLERS
          : notificationFor.named.get(item.plugin) ?? notificationFor.other)
        : metricFor.named.get(item.plugin) ?? metricFor.other;
      if (list.length === 0) continue;
      const time = item.time;
      if (time > latest) latest = time;
      cursor.parts = item;
      cursor.time = time;
      for (let i = 0; i < list.length; i++) {
        const h = list[i]!;
        if (h.types !== null && !h.types.includes(item.type)) continue;
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
          log.threw(h, e, batch);
          continue;
        }
        if ((r === undefined || r === null || r === false) && h.firing === 0) continue;
        try {
          decide(h, r, cursorKey(cursor), time, batch.events);
        } catch (e) {
          log.threw(h, e, batch); // a getter or proxy in what it returned threw
        }
      }
    }
    slots[PHASE] = 0;
    batch.evaluations = evaluations;
  }

  return {
    configure(plugin: string): void {
      agentPlugin = plugin;
    },
    evaluate,
    /** The latest sample time seen so far (0: none). */
    get latest(): number {
      return latest;
    },
  };
}
