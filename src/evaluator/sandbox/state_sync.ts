/**
 * The handler-state changes sent to the agent with each reply (it keeps a copy that survives a
 * rule-host restart): fired/cleared sets always, series and `ctx.state` when the agent asks for
 * a sync, at most so many series per reply (round robin over the handlers). A handler's state
 * is serialized in its own watched time: a `toJSON`, getter or proxy trap in it is the
 * handler's code. Also forgets, now and then, series a handler has not seen for an hour.
 * @module
 */
import type { ProgressView } from "../_progress.ts";
import type { Describer } from "./errors.ts";
import type { HandlerTable } from "./handler_table.ts";
import type { LogBook } from "./logs.ts";
import type { Handler } from "./types.ts";

/** Series state is dropped after this long without a sample (seconds of sample time). */
const SERIES_TTL_S = 3600;
const SWEEP_MS = 60_000;

/** Options of {@linkcode createStateSync}. */
export interface StateSyncOptions {
  table: HandlerTable;
  progress: ProgressView;
  logs: LogBook;
  describe: Describer["describe"];
  /** `value` as JSON text (bigints tagged): the protocol's encoder. */
  toJson(value: unknown): string;
  /** The clock the sweep is paced by (ms). */
  now(): number;
}

/** The state sync of one worker. */
export function createStateSync(o: StateSyncOptions) {
  const { table, logs } = o;
  const slots = o.progress.slots;
  const { PHASE, INDEX } = o.progress;
  /** Handlers (names) whose state changed since the last sync to the agent. */
  const dirty = new Set<string>();
  /** Handlers whose fired set changed in this batch (sent with every result). */
  const firedNow = new Set<Handler>();
  let lastSweep = o.now();

  /**
   * State changes for the agent as JSON texts per handler: fired/cleared always; series and
   * ctx.state when `sync`, at most `max` series. If a handler's state cannot be serialized,
   * the change is not sent (and logged).
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
        const h = table.byName.get(name);
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
      const d = o.describe(e);
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

  return {
    /** Handler `name`'s state changed (its context's onDirty). */
    dirty: (name: string): void => void dirty.add(name),
    firedNow,
    changes,
    /**
     * Now and then (`now`: the clock), forget series a handler has not seen for SERIES_TTL_S
     * before `latest` (sample time; 0: no sample yet).
     */
    maybeSweep(now: number, latest: number): void {
      if (now - lastSweep < SWEEP_MS || latest <= 0) return;
      lastSweep = now;
      for (const h of table.all) h.c.expire(latest - SERIES_TTL_S);
    },
  };
}
