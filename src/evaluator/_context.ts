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
 * the recording's clock. A record exists once a helper left its resting state (a latch whose
 * condition is false, a count of 0: the same as a new one) or the handler asked for `ctx.series`
 * (then it has `data`), and its `t` is a whole second: records are held by the rule host and by
 * the agent's copy, and with 1 000 hosts and 50 handlers a record per series seen was ~60 000
 * of them (tens of megabytes in both, where nothing was happening).
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
  const changes = new StateChanges(onDirty);
  const records = new SeriesRecords(cursor, changes);

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
      return records.hs.state;
    },
    get series() {
      const s = records.record(true);
      const data = s.data ??= {};
      records.touch(); // the rule may change it
      return data;
    },
    sustained(condition: boolean, options: any = {}) {
      // Without `clear`, a latch whose condition is false is at rest: the same as a new one.
      const h = records.helper(options.id, SUSTAINED, !!condition || options.clear !== undefined);
      if (h === null) return false;
      if (stepSustained(h, condition, options, cursor.time)) records.touch();
      return h.a === 1;
    },
    consecutive(condition: boolean, options: any = {}) {
      const h = records.helper(options.id, CONSECUTIVE, !!condition); // a count of 0 is a new one
      if (h === null) return 0;
      if (stepConsecutive(h, condition)) records.touch();
      return h.n;
    },
    rate(value: number | bigint | null | undefined, options: any = {}) {
      const h = records.helper(options.id, RATE, true);
      const seconds = options.seconds ?? 60;
      if (value === null || value === undefined) return null;
      records.touch();
      return stepRate(h, value, seconds, cursor.time);
    },
  };

  return {
    ctx,
    /** Makes the context use handler state `state` (once; again after a restore). */
    use(state: any) {
      records.hs = state;
      records.current = null;
      changes.relist(state);
    },
    /** For a single call (tests, tools): state, series `k`, sample time `t`, a new call. */
    bind(state: any, k: string, t: number) {
      records.hs = state;
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
      return changes.take(records.hs, max);
    },
    /** Forgets series unseen since `before` ({@linkcode StateChanges.expire}). */
    expire(before: number) {
      return changes.expire(records.hs, before);
    },
    /** Whether a latch (an active `sustained`) of series `k` holds the condition active. */
    latched(k: string) {
      return holdsLatch(records.hs.series[k]);
    },
  };
}

/**
 * One handler's series records in its state: the current series' record and its helper
 * records, looked up once per handler call (the cursor's `call` says when a new one starts).
 */
class SeriesRecords {
  /** The handler state being used. */
  hs: any = null;
  /** The current series' record, once looked up in this call (null: not yet, or none). */
  current: any = null;
  /** The cursor call this context last reset itself for. */
  private seen = -1;
  /** Helper calls so far in this handler call (their default ids: "#0", "#1", …). */
  private call = 0;

  constructor(private readonly cursor: Cursor, private readonly changes: StateChanges) {}

  /** A new handler call: forget what was cached for the last one (lazily). */
  private begin() {
    if (this.seen !== this.cursor.call) {
      this.seen = this.cursor.call;
      this.current = null;
      this.call = 0;
    }
  }

  /**
   * The current series' record, created on first use when `create` (else null when there is
   * none). Reading it changes nothing: its time `t` (for expiry) moves only in steps of T_STEP
   * seconds, and only what changes state is listed for the next delta (touch()), so a steady
   * series costs almost no writes or sync.
   */
  record(create: boolean) {
    this.begin();
    if (this.current === null) {
      const key = cursorKey(this.cursor);
      const time = this.cursor.time;
      const found = this.hs.series[key];
      if (found !== undefined) {
        this.current = found;
        if (time > found.t + T_STEP || time < found.t) {
          found.t = Math.floor(time);
          this.touch(); // the agent's copy keeps a time close enough for expiry after a restart
        }
      } else if (create) {
        this.current = this.hs.series[key] = { h: {}, t: Math.floor(time), e: 0 };
        this.touch();
      }
    }
    return this.current;
  }

  /** Lists the current series for the next delta (once until then). */
  touch() {
    this.changes.touchSeries(this.current, cursorKey(this.cursor));
  }

  /**
   * The helper record of this call site (kind: SUSTAINED, CONSECUTIVE or RATE); with `create`
   * false, null when the series has none yet (a helper at rest is no different from a new one,
   * so none is kept: state grows with the series where something happens, not with the fleet).
   */
  helper(id: string | undefined, kind: number, create: boolean) {
    this.begin();
    const name = id ?? (this.call < IDS.length ? IDS[this.call++]! : "#" + this.call++);
    const s = this.record(create);
    if (s === null) return null;
    let h = s.h[name];
    if (h === undefined) {
      if (!create) return null;
      h = s.h[name] = newHelper(kind);
      this.touch();
    }
    return h;
  }
}

/** A fresh handler state. */
function emptyState() {
  return { state: {}, series: {}, fired: {} };
}
