/**
 * The agent's copy of each rule handler's state (`ctx.state`, `ctx.series` and the series it
 * fired for), kept up to date from the deltas the rule host sends with its results and given to
 * a new host after a restart, so that no handler loses its state or its firing conditions.
 *
 * Each series record is kept as its JSON text: with 1 000 hosts and 50 handlers there are
 * ~60 000 records, which as parsed objects (record, helpers, boxed times) held ~250 bytes each
 * in the agent, as text ~130. Only a new rule host reads them back.
 * @module
 */
import type { RuleEvent } from "../model/mod.ts";

/** One handler's copy: its `ctx.state`, its series records (JSON text), the keys it fired for. */
interface Copy {
  state: unknown;
  series: Map<string, string>;
  fired: Set<string>;
}

/** A delta of the sandbox (`_context.ts` takeDelta(), plus `f`: fired keys set to 1 or null). */
interface Delta {
  s?: unknown;
  k?: Record<string, unknown>;
  f?: Record<string, unknown>;
}

/** One condition firing now: a handler that fired for a series and has not cleared it. */
export interface Firing {
  handler: string;
  key: string;
}

/** Handler states by handler name (`file::kind::name`). */
export class HandlerStates {
  readonly #states = new Map<string, Copy>();

  /** Merges the deltas of a result (`states` of a `result` reply). */
  apply(deltas: Record<string, unknown> | undefined): void {
    for (const name in deltas) {
      const delta = deltas[name] as Delta;
      let copy = this.#states.get(name);
      if (copy === undefined) {
        copy = { state: {}, series: new Map(), fired: new Set() };
        this.#states.set(name, copy);
      }
      if (delta.s !== undefined) copy.state = delta.s;
      for (const k in delta.k) {
        const record = delta.k[k];
        if (record === null) copy.series.delete(k);
        else copy.series.set(k, JSON.stringify(record));
      }
      for (const k in delta.f) {
        if (delta.f[k] === null) copy.fired.delete(k);
        else copy.fired.add(k);
      }
    }
  }

  /** Every handler's state, for the `load` request of a new rule host (`_context.ts` layout). */
  toRecord(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, copy] of this.#states) {
      const series: Record<string, unknown> = {};
      for (const [k, json] of copy.series) series[k] = JSON.parse(json);
      const fired: Record<string, 1> = {};
      for (const k of copy.fired) fired[k] = 1;
      out[name] = { state: copy.state, series, fired };
    }
    return out;
  }

  /**
   * Forgets each handler that is gone (not `running` and not `disabled`: its file changed or
   * was deleted): every series it had fired for is reported `cleared` (marked `removed`) to
   * `onEvent`, so nothing waits on it forever.
   */
  prune(
    running: readonly string[],
    disabled: (name: string) => boolean,
    onEvent: (e: RuleEvent) => void,
  ): void {
    for (const name of [...this.#states.keys()]) {
      if (running.includes(name) || disabled(name)) continue;
      const fired = this.#states.get(name)?.fired ?? [];
      this.#states.delete(name);
      const time = Date.now() / 1000;
      for (const key of fired) {
        onEvent({ kind: "cleared", handler: name, key, time, removed: true });
      }
    }
  }

  /** The conditions firing now, as far as the last synced deltas tell. */
  firing(): Firing[] {
    const out: Firing[] = [];
    for (const [handler, copy] of this.#states) {
      for (const key of copy.fired) {
        out.push({ handler, key });
      }
    }
    return out;
  }
}
