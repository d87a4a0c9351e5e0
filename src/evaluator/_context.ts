// deno-lint-ignore-file no-explicit-any
/**
 * The `ctx` a handler receives: per-handler and per-series state and the stateful helpers
 * (sustained conditions with hysteresis, consecutive counts, rates over a window).
 *
 * This function is shipped to the sandbox as source text (`contextRuntime.toString()`), so it
 * must stay self-contained: no imports, no references to anything outside its body. All state it
 * keeps is plain JSON-able data inside the handler's state object, which the agent holds a copy
 * of (it survives a restart of the rule host).
 *
 * Handler state layout: `{ state: {}, series: { [key]: { data: {}, h: { [id]: helper } } },
 * fired: { [key]: 1 } }`. Time is the sample's own time (seconds), so a replay runs on the
 * recording's clock.
 */
export function contextRuntime() {
  /** One handler's context object; `bind` points it at the current sample before each call. */
  function createContext(handlerName: string) {
    let hs: any = null; // the handler state being used
    let seriesState: any = null;
    let key = "";
    let time = 0;
    let call = 0;
    let dirty = false;

    const series = () => {
      if (seriesState === null) {
        seriesState = hs.series[key];
        if (seriesState === undefined) seriesState = hs.series[key] = { data: {}, h: {} };
      }
      return seriesState;
    };
    const helper = (id: string | undefined, init: () => any) => {
      const name = id ?? "#" + call++;
      const s = series();
      dirty = true;
      let h = s.h[name];
      if (h === undefined) h = s.h[name] = init();
      return h;
    };

    const ctx = {
      get handler() {
        return handlerName;
      },
      get key() {
        return key;
      },
      get time() {
        return time;
      },
      get state() {
        dirty = true;
        return hs.state;
      },
      get series() {
        dirty = true;
        return series().data;
      },
      sustained(condition: boolean, options: any = {}) {
        const h = helper(options.id, () => ({ a: 0, n: 0, t: 0, cn: 0, ct: 0 }));
        const samples = options.samples ?? (options.seconds === undefined ? 1 : 0);
        const seconds = options.seconds ?? 0;
        const clearSamples = options.clearSamples ?? (options.clearSeconds === undefined ? 1 : 0);
        const clearSeconds = options.clearSeconds ?? 0;
        if (condition) {
          if (h.n === 0) h.t = time;
          h.n++;
          if (!h.a && h.n >= samples && time - h.t >= seconds) h.a = 1;
        } else {
          h.n = 0;
        }
        // Clearing: by default when the condition is false; with `clear`, only when that holds
        // (a hysteresis band: fire under 50 MB, clear only above 60 MB).
        const clearing = options.clear === undefined ? !condition : options.clear === true;
        if (clearing) {
          if (h.cn === 0) h.ct = time;
          h.cn++;
          if (h.a && h.cn >= clearSamples && time - h.ct >= clearSeconds) h.a = 0;
        } else h.cn = 0;
        return h.a === 1;
      },
      consecutive(condition: boolean, options: any = {}) {
        const h = helper(options.id, () => ({ n: 0 }));
        h.n = condition ? h.n + 1 : 0;
        return h.n;
      },
      rate(value: number | bigint | null | undefined, options: any = {}) {
        const h = helper(options.id, () => ({ s: [] as number[] }));
        const seconds = options.seconds ?? 60;
        if (value === null || value === undefined) return null;
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
      /** Points the context at handler state `state`, series `k`, sample time `t`. */
      bind(state: any, k: string, t: number) {
        hs = state;
        key = k;
        time = t;
        seriesState = null;
        call = 0;
      },
      /** Whether the last call touched the state (then its copy must go to the agent). */
      takeDirty() {
        const d = dirty;
        dirty = false;
        return d;
      },
      /** Whether a latch (an active `sustained`) of series `k` holds the condition active. */
      latched(state: any, k: string) {
        const s = state.series[k];
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

  return { createContext, emptyState };
}

/** What {@linkcode contextRuntime} returns. */
export type ContextRuntime = ReturnType<typeof contextRuntime>;
