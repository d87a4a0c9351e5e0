/**
 * The conditions fired now, each with the time of the sample that fired it: what `agent
 * status` shows under the rule stage (`Evaluator.inspect()`). Fed every fired/cleared event
 * (one map operation each; events are rare next to values).
 * @module
 */
import type { RuleEvent } from "../model/mod.ts";

/** A condition fired now: handler, series, epoch ms of the sample that fired it. */
export interface Firing {
  handler: string;
  key: string;
  since: number;
}

/** The fired conditions, by handler and series. */
export class FiringConditions {
  #now = new Map<string, Firing>();

  /** Takes a fired/cleared event in (a repeated `fired` keeps the first sample's time). */
  note(e: RuleEvent): void {
    const id = `${e.handler}\u0000${e.key}`;
    if (e.kind === "cleared") this.#now.delete(id);
    else if (!this.#now.has(id)) {
      this.#now.set(id, { handler: e.handler, key: e.key, since: e.time * 1e3 });
    }
  }

  /** Copies of the conditions fired now. */
  list(): Firing[] {
    return [...this.#now.values()].map((f) => ({ ...f }));
  }
}
