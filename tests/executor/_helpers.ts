import type { Clock, Runner, RunOutcome, RunSpec } from "../../src/executor/mod.ts";
import type { Reporter, RunRecord } from "../../src/model/mod.ts";

/** A clock whose time only moves when a test says so; timers fire in order. */
export class FakeClock implements Clock {
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #seq = 0;
  constructor(public time = Date.UTC(2026, 10, 23, 12)) {}
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.#seq;
    this.#timers.push({ at: this.time + Math.max(0, ms), fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.#timers = this.#timers.filter((t) => t.id !== h);
  };
  /** Moves time forward by `ms`, firing due timers in order; `settle` runs after each one. */
  async advance(ms: number, settle: () => Promise<void> = () => Promise.resolve()) {
    const target = this.time + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.time = next.at;
      next.fn();
      await settle();
    }
    this.time = target;
  }
}

/** A runner that starts nothing and answers with `code` at once, recording every spec. */
export function fakeRunner(code = 0): Runner & { calls: RunSpec[] } {
  const calls: RunSpec[] = [];
  return {
    calls,
    run(spec, onSpawn) {
      calls.push(spec);
      onSpawn?.();
      const o: RunOutcome = {
        kind: "exited",
        code,
        output: "ok\n",
        outputBytes: 3,
        truncated: false,
        timedOut: false,
        stopped: false,
        signals: [],
        durationMs: 1,
      };
      return Promise.resolve(o);
    },
  };
}

export { memoryLogger } from "../_helpers/memory_logger.ts";

/** A reporter that keeps every record. */
export function memoryReporter(name = "memory"): Reporter & { records: RunRecord[] } {
  const records: RunRecord[] = [];
  return {
    name,
    records,
    report(r) {
      records.push(r);
      return Promise.resolve();
    },
  };
}
