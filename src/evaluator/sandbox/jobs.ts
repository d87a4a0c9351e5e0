/**
 * Promise jobs rule code leaves behind run after the call that made them returned. They run
 * before the request ends ({@linkcode Jobs.settle}), each as the watched time of the rule whose
 * promise it is: V8 promise hooks note the owner (phase and index in the progress slots) of
 * every promise rule code creates, and set those slots before each of its jobs runs, so an
 * endless chain of jobs is that rule's overrun, not an unwatched stall of every rule.
 * @module
 */
import type { ProgressView } from "../_progress.ts";
import type { Glue } from "./enclose.ts";

/** Encodes a promise owner's phase above its index. */
const OWNER_PHASE = 1 << 20;

/** See the module comment. */
export interface Jobs {
  /** Whether rule code created promises since the last settle() (whose jobs may be pending). */
  readonly pending: boolean;
  /** Forgets what the glue's own promises made look pending (no rule code ran meanwhile). */
  forget(): void;
  /** Runs the pending jobs (and the jobs they make) before resolving. */
  settle(): Promise<void>;
}

/** Installs the promise hooks of the worker. */
export function createJobs(glue: Glue, progress: ProgressView): Jobs {
  const slots = progress.slots;
  const { PHASE, INDEX } = progress;
  /** The index of the rule that created a promise last; -1: none since the last settle(). */
  let promised = -1;
  /** Whose each promise is (phase × 2^20 + index). */
  const owner = new WeakMap<object, number>();
  /** While settle() waits for the jobs to run. */
  let draining = false;
  glue.onPromise((promise) => {
    const phase = slots[PHASE]!;
    if (phase !== 0) {
      promised = slots[INDEX]!;
      owner.set(promise, phase * OWNER_PHASE + promised);
    }
  }, (promise) => {
    if (!draining) return;
    const o = owner.get(promise);
    if (o === undefined) slots[PHASE] = 0; // the glue's own job
    else {
      slots[PHASE] = Math.floor(o / OWNER_PHASE);
      slots[INDEX] = o % OWNER_PHASE;
    }
  });
  return {
    get pending() {
      return promised >= 0;
    },
    forget() {
      promised = -1;
    },
    async settle() {
      while (promised >= 0) {
        promised = -1;
        slots[PHASE] = 0; // the glue's own promises below are not the rule's
        draining = true;
        await glue.nextTurn();
        draining = false;
        slots[PHASE] = 0;
      }
    },
  };
}
