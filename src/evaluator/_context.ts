// deno-lint-ignore-file no-explicit-any
/**
 * The `ctx` a handler receives: per-handler and per-series state and the stateful helpers
 * (sustained conditions with hysteresis, consecutive counts, rates over a window). The helpers'
 * arithmetic is in `_context_helpers.ts`, the list of what changed since the last sync in
 * `_context_changes.ts`; this module holds the series records and the `ctx` facade.
 *
 * The sandbox bundles these modules into the rule worker (`scripts/build_sandbox.ts`): they may
 * import only each other (the bundle admits only pure modules). All state it keeps is plain
 * JSON-able data inside the handler's state object, which the agent holds a copy of, built from
 * the deltas (`_handler_states.ts`; it survives a restart of the rule host).
 *
 * Handler state layout: `{ state: {}, series: { [key]: { h: { [id]: helper }, t: lastTime,
 * e: 1 while listed for the next delta, data?: {} } }, fired: { [key]: 1 } }`; a series not
 * seen for an hour is forgotten. Time is the sample's own time (seconds), so a replay runs on
 * the recording's clock. A record's `data` exists once the handler asked for `ctx.series`, and
 * its `t` is a whole second: with 1 000 hosts and 50 handlers there are ~60 000 records, each
 * held by the rule host and by the agent's copy, and an empty object or a boxed fractional
 * number in each is megabytes in both.
 */
import { StateChanges } from "./_context_changes.ts";
import {
  CONSECUTIVE,
  holdsLatch,
  newHelper,
  RATE,
  stepConsecutive,
  stepRate,
  stepSustained,
  SUSTAINED,
} from "./_context_helpers.ts";

/** The parts of a sample its series key is made of. */
export interface SeriesParts {
  host: string;
  plugin: string;
  plugin_instance: string;
  type: string;
  type_instance: string;
}

/**
 * What is being evaluated now, shared by every context of a runtime: the evaluation loop sets
 * the sample (`parts`) and `time` once per sample and bumps `call` before each handler call (no
 * per-call work in the contexts: each notices a new call lazily, the first time the handler uses
 * its `ctx`). The series key is built from `parts` the first time something asks for it
 * ({@linkcode cursorKey}): most samples reach no handler that keeps state or fires, and building
 * and hashing a key string for each was a tenth of the rule worker's time.
 */
export interface Cursor {
  /** The sample's series key, once built ("" before). */
  key: string;
  /** The sample whose key is not built yet (null once it is). */
  parts: SeriesParts | null;
  time: number;
  call: number;
}

/** The current sample's series key, `host/plugin[-instance]/type[-instance]`. */
export function cursorKey(cursor: Cursor): string {
  const p = cursor.parts;
  if (p !== null) {
    cursor.key = p.host + "/" + p.plugin + (p.plugin_instance ? "-" + p.plugin_instance : "") +
      "/" + p.type + (p.type_instance ? "-" + p.type_instance : "");
    cursor.parts = null;
  }
  return cursor.key;
}

const IDS = Array.from({ length: 16 }, (_, i) => "#" + i);
/**
 * A series record's time moves in steps of this many seconds (it only serves the one-hour
 * expiry, which it makes 55-60 minutes of silence). Each step is a record synced to the agent:
 * ~0.14 per value received with the footprint bench's 50 handlers at 60 s steps, a fifth of
 * that at 300 s.
 */
const T_STEP = 300;

/** The contexts of one rule worker (or of the agent's tools), sharing one cursor. */
export function contextRuntime() {
  const cursor: Cursor = { key: "", parts: null, time: 0, call: 0 };
  return {
    cursor,
    /** One handler's context object (see {@linkcode createContext}). */
    createContext: (handlerName: string, onDirty: () => void = () => {}) =>
      createContext(cursor, handlerName, onDirty),
    emptyState,
  };
}

/** What {@linkcode contextRuntime} returns. */
export type ContextRuntime = ReturnType<typeof contextRuntime>;

/**
 * One handler's context object, reading the sample from `cursor`. `onDirty` is called the first
 * time the handler's state changes after a takeDelta() (so the caller can collect what to sync
 * without checking every handler after every call).
 */
function createContext(cursor: Cursor, handlerName: string, onDirty: () => void) {
  let hs: any = null; // the handler state being used
  let seriesState: any = null;
  let seen = -1; // the cursor call this context last reset itself for
  let call = 0;
  const changes = new StateChanges(onDirty);

  /**
   * The current series' record (created on first use). Reading it changes nothing: its time
   * `t` (for expiry) moves only in steps of T_STEP seconds, and only what changes state is
   * listed for the next delta (touch()), so a steady series costs almost no writes or sync.
   */
  const record = () => {
    if (seen !== cursor.call) {
      seen = cursor.call;
      seriesState = null;
      call = 0;
    }
    if (seriesState === null) {
      const key = cursorKey(cursor);
      const time = cursor.time;
      seriesState = hs.series[key];
      if (seriesState === undefined) {
        seriesState = hs.series[key] = { h: {}, t: Math.floor(time), e: 0 };
        touch();
      } else if (time > seriesState.t + T_STEP || time < seriesState.t) {
        seriesState.t = Math.floor(time);
        touch(); // the agent's copy keeps a time close enough for expiry after a restart
      }
    }
    return seriesState;
  };
  /** Lists the current series for the next delta (once until then). */
  const touch = () => changes.touchSeries(seriesState, cursorKey(cursor));
  /** The helper record of this call site (kind: SUSTAINED, CONSECUTIVE or RATE). */
  const helper = (id: string | undefined, kind: number) => {
    const s = record();
    const name = id ?? (call < IDS.length ? IDS[call++]! : "#" + call++);
    let h = s.h[name];
    if (h === undefined) {
      h = s.h[name] = newHelper(kind);
      touch();
    }
    return h;
  };

  const ctx = {
    get handler() {
      return handlerName;
    },
    get key() {
      return cursorKey(cursor);
    },
    get time() {
      return cursor.time;
    },
    get state() {
      changes.touchState();
      return hs.state;
    },
    get series() {
      const s = record();
      const data = s.data ??= {};
      touch(); // the rule may change it
      return data;
    },
    sustained(condition: boolean, options: any = {}) {
      const h = helper(options.id, SUSTAINED);
      if (stepSustained(h, condition, options, cursor.time)) touch();
      return h.a === 1;
    },
    consecutive(condition: boolean, options: any = {}) {
      const h = helper(options.id, CONSECUTIVE);
      if (stepConsecutive(h, condition)) touch();
      return h.n;
    },
    rate(value: number | bigint | null | undefined, options: any = {}) {
      const h = helper(options.id, RATE);
      const seconds = options.seconds ?? 60;
      if (value === null || value === undefined) return null;
      touch();
      return stepRate(h, value, seconds, cursor.time);
    },
  };

  return {
    ctx,
    /** Makes the context use handler state `state` (once; again after a restore). */
    use(state: any) {
      hs = state;
      seriesState = null;
      changes.relist(state);
    },
    /** For a single call (tests, tools): state, series `k`, sample time `t`, a new call. */
    bind(state: any, k: string, t: number) {
      hs = state;
      cursor.key = k;
      cursor.parts = null;
      cursor.time = t;
      cursor.call++;
    },
    /** Whether anything was touched since the last takeDelta(). */
    get dirty() {
      return changes.dirty;
    },
    /** What changed since the last call, for the agent's copy ({@linkcode StateChanges.take}). */
    takeDelta(max = Infinity) {
      return changes.take(hs, max);
    },
    /** Forgets series unseen since `before` ({@linkcode StateChanges.expire}). */
    expire(before: number) {
      return changes.expire(hs, before);
    },
    /** Whether a latch (an active `sustained`) of series `k` holds the condition active. */
    latched(k: string) {
      return holdsLatch(hs.series[k]);
    },
  };
}

/** A fresh handler state. */
function emptyState() {
  return { state: {}, series: {}, fired: {} };
}
