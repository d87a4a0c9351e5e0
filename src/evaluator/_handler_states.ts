/**
 * The agent's copy of each rule handler's state (`ctx.state`, `ctx.series` and the series it
 * fired for), kept up to date from the deltas the rule host sends with its results and given to
 * a new host after a restart, so that no handler loses its state or its firing conditions.
 * @module
 */
import type { RuleEvent } from "../model/mod.ts";
import { contextRuntime } from "./_context.ts";

/** Merges the sandbox's state deltas into the agent's copy of handler state. */
const { applyDelta } = contextRuntime();

/** A handler's state as far as the agent reads it (the rest is the sandbox's business). */
interface HandlerState {
  /** The series (`host/plugin-instance/type-instance`) the handler fired for, not cleared yet. */
  fired?: Record<string, unknown>;
}

/** One condition firing now: a handler that fired for a series and has not cleared it. */
export interface Firing {
  handler: string;
  key: string;
}

/** Handler states by handler name (`file::kind::name`). */
export class HandlerStates {
  readonly #states = new Map<string, unknown>();

  /** Merges the deltas of a result (`states` of a `result` reply). */
  apply(deltas: Record<string, unknown> | undefined): void {
    for (const [name, delta] of Object.entries(deltas ?? {})) {
      this.#states.set(name, applyDelta(this.#states.get(name), delta));
    }
  }

  /** Every handler's state, for the `load` request of a new rule host. */
  toRecord(): Record<string, unknown> {
    return Object.fromEntries(this.#states);
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
      const fired = (this.#states.get(name) as HandlerState | undefined)?.fired;
      this.#states.delete(name);
      const time = Date.now() / 1000;
      for (const key of Object.keys(fired ?? {})) {
        onEvent({ kind: "cleared", handler: name, key, time, removed: true });
      }
    }
  }

  /** The conditions firing now, as far as the last synced deltas tell. */
  firing(): Firing[] {
    const out: Firing[] = [];
    for (const [handler, state] of this.#states) {
      for (const key of Object.keys((state as HandlerState | undefined)?.fired ?? {})) {
        out.push({ handler, key });
      }
    }
    return out;
  }
}
