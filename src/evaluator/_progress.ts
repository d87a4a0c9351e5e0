/**
 * The buffer the rule worker and the rule host's main thread share: what runs now (phase,
 * handler or rule-file index, a call counter), the running request (id, start, budget) for the
 * host's budget watch, and the lock that keeps each frame written to stdout whole (both write
 * there). Both sides use {@linkcode progressView}, the worker bundled into its source
 * (`scripts/build_sandbox.ts`): it must stay free of imports.
 */
export function progressView(buffer: SharedArrayBuffer) {
  const i32 = new Int32Array(buffer, 0, 5);
  const f64 = new Float64Array(buffer, 0, 5);
  /** Int32 slots (phase: 0 idle, 1 loading rule file `index`, 2 running handler `index`). */
  const PHASE = 0, INDEX = 1, CALLS = 2, LOCK = 3, ID = 4;
  /** Float64 slots: request start (epoch ms, 0 when idle) and its budget (ms). */
  const STARTED = 3, BUDGET = 4;
  const now = () => performance.timeOrigin + performance.now();

  return {
    /** The worker writes phase, index and calls straight into these slots (hot path). */
    slots: i32,
    PHASE,
    INDEX,
    CALLS,
    now,
    /** A request starts: what the budget watch reads. */
    begin(id: number, budget: number) {
      i32[ID] = id;
      f64[BUDGET] = budget;
      f64[STARTED] = now();
    },
    /** The request ended (before its reply is written: a slow write is not a slow rule). */
    end() {
      f64[STARTED] = 0;
    },
    /** The running request, or null when idle. */
    running(): { id: number; started: number; budget: number } | null {
      const started = f64[STARTED]!;
      return started === 0 ? null : { id: i32[ID]!, started, budget: f64[BUDGET]! };
    },
    /** [phase, index, calls] as they are now. */
    where(): [number, number, number] {
      return [Atomics.load(i32, PHASE), Atomics.load(i32, INDEX), Atomics.load(i32, CALLS)];
    },
    /**
     * Writes `bytes` whole to `out` under the lock. With `wait` false it gives up (false) when
     * the other side holds the lock.
     */
    write(out: { writeSync(b: Uint8Array): number }, bytes: Uint8Array, wait: boolean): boolean {
      while (Atomics.compareExchange(i32, LOCK, 0, 1) !== 0) {
        if (!wait) return false;
        Atomics.wait(i32, LOCK, 1, 1);
      }
      try {
        let at = 0;
        while (at < bytes.length) at += out.writeSync(bytes.subarray(at));
      } finally {
        Atomics.store(i32, LOCK, 0);
      }
      return true;
    },
  };
}

/** What {@linkcode progressView} returns. */
export type ProgressView = ReturnType<typeof progressView>;

/** Bytes of the shared buffer. */
export const PROGRESS_BYTES = 40;
