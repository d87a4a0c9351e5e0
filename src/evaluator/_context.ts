// deno-lint-ignore-file no-explicit-any
/**
 * The `ctx` a handler receives: per-handler and per-series state and the stateful helpers
 * (sustained conditions with hysteresis, consecutive counts, rates over a window).
 *
 * The sandbox bundles this module into the rule worker (`scripts/build_sandbox.ts`), the agent
 * uses `applyDelta`: it must stay free of imports (the bundle admits only pure modules). All state it
 * keeps is plain JSON-able data inside the handler's state object, which the agent holds a copy
 * of (it survives a restart of the rule host).
 *
 * Handler state layout: `{ state: {}, series: { [key]: { data: {}, h: { [id]: helper },
 * t: lastTime, e: 1 while listed for the next delta } }, fired: { [key]: 1 } }`; a series not
 * seen for an hour is forgotten. Time is the sample's own time (seconds), so a replay runs on
 * the recording's clock.
 */
export function contextRuntime() {
  const IDS = Array.from({ length: 16 }, (_, i) => "#" + i);
  /** Helper kinds. */
  const SUSTAINED = 0, CONSECUTIVE = 1, RATE = 2;
  /** A series record's time moves in steps of this many seconds (it only serves expiry). */
  const T_STEP = 60;
  /**
   * What is being evaluated now, shared by every context: the evaluation loop sets `key` and
   * `time` once per sample and bumps `call` before each handler call (no per-call work in the
   * contexts: each notices a new call lazily, the first time the handler uses its `ctx`).
   */
  const cursor = { key: "", time: 0, call: 0 };

  /**
   * One handler's context object. `onDirty` is called the first time the handler's state
   * changes after a takeDelta() (so the caller can collect what to sync without checking every
   * handler after every call).
   */
  function createContext(handlerName: string, onDirty: () => void = () => {}) {
    let hs: any = null; // the handler state being used
    let seriesState: any = null;
    let seen = -1; // the cursor call this context last reset itself for
    let call = 0;
    /**
     * What changed since the last takeDelta(): the handler state, and series keys, each listed
     * once (its record's `e` is 1 while listed). No Set: the first touch of a series per sync
     * is a field check, not a hash insert (measured: the Set's churn cost the p99 latency).
     */
    let stateTouched = false;
    let touched: string[] = [];
    let marked = false;
    const mark = () => {
      if (!marked) {
        marked = true;
        onDirty();
      }
    };
    const fresh = () => {
      if (seen !== cursor.call) {
        seen = cursor.call;
        seriesState = null;
        call = 0;
      }
    };

    /**
     * The current series' record (created on first use). Reading it changes nothing: its time
     * `t` (for expiry) moves only in steps of T_STEP seconds, and only what changes state is
     * listed for the next delta (touch()), so a steady series costs almost no writes or sync.
     */
    const record = () => {
      fresh();
      if (seriesState === null) {
        const key = cursor.key;
        const time = cursor.time;
        seriesState = hs.series[key];
        if (seriesState === undefined) {
          seriesState = hs.series[key] = { data: {}, h: {}, t: time, e: 0 };
          touch();
        } else if (time > seriesState.t + T_STEP || time < seriesState.t) {
          seriesState.t = time;
          touch(); // the agent's copy keeps a time close enough for expiry after a restart
        }
      }
      return seriesState;
    };
    /** Lists the current series for the next delta (once until then). */
    const touch = () => {
      if (seriesState.e !== 1) {
        seriesState.e = 1;
        touched.push(cursor.key);
        mark();
      }
    };
    /** The helper record of this call site (kind: SUSTAINED, CONSECUTIVE or RATE). */
    const helper = (id: string | undefined, kind: number) => {
      const s = record();
      const name = id ?? (call < IDS.length ? IDS[call++]! : "#" + call++);
      let h = s.h[name];
      if (h === undefined) {
        h = s.h[name] = kind === SUSTAINED
          ? { a: 0, n: 0, t: 0, cn: 0, ct: 0 }
          : kind === CONSECUTIVE
          ? { n: 0 }
          : { s: [] as number[] };
        touch();
      }
      return h;
    };

    const ctx = {
      get handler() {
        return handlerName;
      },
      get key() {
        return cursor.key;
      },
      get time() {
        return cursor.time;
      },
      get state() {
        stateTouched = true;
        mark();
        return hs.state;
      },
      get series() {
        const data = record().data;
        touch(); // the rule may change it
        return data;
      },
      sustained(condition: boolean, options: any = {}) {
        const h = helper(options.id, SUSTAINED);
        const time = cursor.time;
        const samples = options.samples ?? (options.seconds === undefined ? 1 : 0);
        const seconds = options.seconds ?? 0;
        const clearSamples = options.clearSamples ?? (options.clearSeconds === undefined ? 1 : 0);
        const clearSeconds = options.clearSeconds ?? 0;
        let a = h.a, n = h.n, t = h.t, cn = h.cn, ct = h.ct;
        // The counts stop at what the decision needs (so a steady condition changes nothing).
        if (condition) {
          if (n === 0) t = time;
          if (n < samples || n === 0) n++;
          if (!a && n >= samples && time - t >= seconds) a = 1;
        } else {
          n = 0;
        }
        // Clearing: by default when the condition is false; with `clear`, only when that holds
        // (a hysteresis band: fire under 50 MB, clear only above 60 MB).
        const clearing = options.clear === undefined ? !condition : options.clear === true;
        if (clearing) {
          if (cn === 0) ct = time;
          if (cn < clearSamples || cn === 0) cn++;
          if (a && cn >= clearSamples && time - ct >= clearSeconds) a = 0;
        } else cn = 0;
        if (a !== h.a || n !== h.n || t !== h.t || cn !== h.cn || ct !== h.ct) {
          h.a = a, h.n = n, h.t = t, h.cn = cn, h.ct = ct;
          touch();
        }
        return a === 1;
      },
      consecutive(condition: boolean, options: any = {}) {
        const h = helper(options.id, CONSECUTIVE);
        if (condition) {
          h.n++;
          touch();
        } else if (h.n !== 0) {
          h.n = 0;
          touch();
        }
        return h.n;
      },
      rate(value: number | bigint | null | undefined, options: any = {}) {
        const h = helper(options.id, RATE);
        const time = cursor.time;
        const seconds = options.seconds ?? 60;
        if (value === null || value === undefined) return null;
        touch();
        const s: number[] = h.s;
        s.push(time, Number(value));
        let from = 0;
        while (from + 2 < s.length && time - s[from]! > seconds) from += 2;
        if (from > 0) s.splice(0, from);
        if (s.length < 4) return null;
        const dt = s[s.length - 2]! - s[0]!;
        if (dt <= 0) return null;
        const dv = s[s.length - 1]! - s[1]!;
        return dv < 0 ? null : dv / dt;
      },
    };

    return {
      ctx,
      /** Makes the context use handler state `state` (once; again after a restore). */
      use(state: any) {
        hs = state;
        seriesState = null;
        // A restored record may say "listed" for a list it is not on: list it again when touched.
        const listed = new Set(touched);
        for (const k in state.series) {
          if (state.series[k].e === 1 && !listed.has(k)) state.series[k].e = 0;
        }
      },
      /** For a single call (tests, tools): state, series `k`, sample time `t`, a new call. */
      bind(state: any, k: string, t: number) {
        hs = state;
        cursor.key = k;
        cursor.time = t;
        cursor.call++;
      },
      /** Whether anything was touched since the last takeDelta(). */
      get dirty() {
        return stateTouched || touched.length !== 0;
      },
      /**
       * What changed in the handler state since the last call, for the agent's copy: `s` the
       * handler state, `k` touched series (null: gone), at most `max` of them (the rest stay for
       * the next call). Null when nothing changed.
       */
      takeDelta(max = Infinity) {
        if (!stateTouched && touched.length === 0) return null;
        const delta: any = {};
        if (stateTouched) delta.s = hs.state;
        if (touched.length !== 0) {
          const k: any = {};
          const n = Math.min(max, touched.length);
          for (let i = 0; i < n; i++) {
            const t = touched[i]!;
            const record = hs.series[t];
            if (record !== undefined) record.e = 0; // listed again at its next touch
            k[t] = record ?? null;
          }
          touched = n === touched.length ? [] : touched.slice(n);
          delta.k = k;
        }
        stateTouched = false;
        marked = touched.length !== 0; // what is left goes with a later delta
        return delta;
      },
      /**
       * Forgets series not touched since `before` (sample time) that are not fired, and marks
       * them for the next delta. Returns how many were dropped.
       */
      expire(before: number) {
        let dropped = 0;
        for (const k in hs.series) {
          const record = hs.series[k];
          if (record.t < before && hs.fired[k] === undefined) {
            delete hs.series[k];
            if (record.e !== 1) touched.push(k); // (a listed one is sent as gone: null)
            mark();
            dropped++;
          }
        }
        return dropped;
      },
      /** Whether a latch (an active `sustained`) of series `k` holds the condition active. */
      latched(k: string) {
        const s = hs.series[k];
        if (s === undefined) return false;
        for (const id in s.h) if (s.h[id].a === 1) return true;
        return false;
      },
    };
  }

  /** A fresh handler state. */
  function emptyState() {
    return { state: {}, series: {}, fired: {} };
  }

  /**
   * Applies a delta (from takeDelta, plus `f`: fired keys set to 1 or null) to a copy of a
   * handler's state; returns the updated state.
   */
  function applyDelta(target: any, delta: any) {
    const st = target ?? emptyState();
    if (delta.s !== undefined) st.state = delta.s;
    for (const k in delta.k ?? {}) {
      if (delta.k[k] === null) delete st.series[k];
      else st.series[k] = delta.k[k];
    }
    for (const k in delta.f ?? {}) {
      if (delta.f[k] === null) delete st.fired[k];
      else st.fired[k] = 1;
    }
    return st;
  }

  return { cursor, createContext, emptyState, applyDelta };
}

/** What {@linkcode contextRuntime} returns. */
export type ContextRuntime = ReturnType<typeof contextRuntime>;
