// deno-lint-ignore-file no-explicit-any
/**
 * What changed in one handler's state since the agent's copy was last synced: whether the
 * handler state (`ctx.state`) was handed out, and the series keys whose records changed, each
 * listed once (its record's `e` is 1 while listed). No Set: the first touch of a series per
 * sync is a field check, not a hash insert (measured: the Set's churn cost the p99 latency).
 *
 * Bundled into the rule worker with `_context.ts` (`scripts/build_sandbox.ts`): it must stay
 * free of imports. Handler state layout: see `_context.ts`.
 */
export class StateChanges {
  /** Whether `ctx.state` was handed out since the last take(). */
  private stateTouched = false;
  /** Series keys listed for the next delta. */
  private touched: string[] = [];
  /** Whether `onDirty` was called for what is listed now. */
  private marked = false;

  /**
   * `onDirty` is called the first time something changes after a take() (so the caller can
   * collect what to sync without checking every handler after every call).
   */
  constructor(private readonly onDirty: () => void) {}

  private mark() {
    if (!this.marked) {
      this.marked = true;
      this.onDirty();
    }
  }

  /** The handler state was handed out (the handler may change it). */
  touchState() {
    this.stateTouched = true;
    this.mark();
  }

  /** Lists series `key` (its record `record`) for the next delta (once until then). */
  touchSeries(record: any, key: string) {
    if (record.e !== 1) {
      record.e = 1;
      this.touched.push(key);
      this.mark();
    }
  }

  /** Whether anything was touched since the last take(). */
  get dirty(): boolean {
    return this.stateTouched || this.touched.length !== 0;
  }

  /** A restored state's records may say "listed" for a list they are not on: unlist them. */
  relist(hs: any) {
    const listed = new Set(this.touched);
    for (const k in hs.series) {
      if (hs.series[k].e === 1 && !listed.has(k)) hs.series[k].e = 0;
    }
  }

  /**
   * What changed in handler state `hs` since the last call, for the agent's copy: `s` the
   * handler state, `k` touched series (null: gone), at most `max` of them (the rest stay for
   * the next call). Null when nothing changed.
   */
  take(hs: any, max: number): any {
    if (!this.stateTouched && this.touched.length === 0) return null;
    const delta: any = {};
    if (this.stateTouched) delta.s = hs.state;
    const touched = this.touched;
    if (touched.length !== 0) {
      const k: any = {};
      const n = Math.min(max, touched.length);
      for (let i = 0; i < n; i++) {
        const t = touched[i]!;
        const record = hs.series[t];
        if (record !== undefined) record.e = 0; // listed again at its next touch
        k[t] = record ?? null;
      }
      this.touched = n === touched.length ? [] : touched.slice(n);
      delta.k = k;
    }
    this.stateTouched = false;
    this.marked = this.touched.length !== 0; // what is left goes with a later delta
    return delta;
  }

  /**
   * Forgets series of `hs` not touched since `before` (sample time) that are not fired, and
   * lists them for the next delta (as gone). Returns how many were dropped.
   */
  expire(hs: any, before: number): number {
    let dropped = 0;
    for (const k in hs.series) {
      const record = hs.series[k];
      if (record.t < before && hs.fired[k] === undefined) {
        delete hs.series[k];
        if (record.e !== 1) this.touched.push(k); // (a listed one is sent as gone: null)
        this.mark();
        dropped++;
      }
    }
    return dropped;
  }
}
