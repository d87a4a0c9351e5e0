// deno-lint-ignore-file no-explicit-any
import type { DecoderRuntime } from "../collectd/mod.ts";
import type { ContextRuntime } from "./_context.ts";
import type { FrameCodec } from "./_frames.ts";
import type { ProgressView } from "./_progress.ts";
import type { ModuleLoader } from "./_worker_modules.ts";

/**
 * The body of the rule worker (runs inside the rule host, in a Worker with `permissions:
 * "none"`). Shipped as source text (`workerMain.toString()`, loaded from a `data:` URL), so the
 * host can create it after it revoked its own read permission: it must stay self-contained, with
 * no imports and nothing captured from outside.
 *
 * It talks to the agent itself: it reads the requests from the process's stdin (`configure`,
 * `load`, `batch` with decoded items, `packets` with raw collectd packets, decoded here) and
 * writes `ready`, `loaded` and `result` frames to its stdout, through stdio handles taken
 * before the lockdown removes them from rules' reach. The host's main thread only watches the
 * budget, through the shared `progress` buffer (see host.ts, PROGRESS): phase 1 = loading rule
 * file `index`, 2 = running handler `index`, `calls` counts handler calls, and the running
 * request's id, start time and budget; and it shares the stdout lock (a frame is written
 * whole). The host sends the buffer and a private MessagePort first; the worker reports the
 * names of rule files and handlers (for the host's overrun reports) and the end of its input
 * there.
 */
export function workerMain(parts: {
  lockdown: () => void;
  moduleLoader: () => ModuleLoader;
  contextRuntime: () => ContextRuntime;
  /** The collectd decoder (evaluated from `decoderSource()` before the lockdown). */
  collectd: DecoderRuntime;
  /** The protocol's framing (frameCodec()). */
  frames: FrameCodec;
  /** The view of the buffer shared with the host's budget watch. */
  progressView: (buffer: SharedArrayBuffer) => ProgressView;
}) {
  // The process's stdio, kept here before the lockdown takes it away from rules.
  const g: any = globalThis;
  const stdin: ReadableStream<Uint8Array> = g.Deno.stdin.readable;
  const stdout: { writeSync(b: Uint8Array): number } = g.Deno.stdout;
  parts.lockdown();
  const { importAll, instantiate, collect, describe } = parts.moduleLoader();
  const runtime = parts.contextRuntime();
  const frames = parts.frames;
  // The host's control port and the shared progress buffer arrive first. Unlike the global
  // scope's listeners (reachable through its EventTarget data), nothing a rule can reach refers
  // to the port or the buffer.
  let port: MessagePort | null = null;
  // The buffer shared with the host's budget watch; it arrives with the port, before serve().
  let shared: ProgressView;
  /** [phase, index, calls]: written before and during every handler call (hot path). */
  let progress: Int32Array;
  let PHASE = 0, INDEX = 0, CALLS = 0;
  /** Writes one frame whole to stdout (the host's main thread writes there too, rarely). */
  const post = (m: unknown) => void shared.write(stdout, frames.jsonFrame(frames.toJson(m)), true);
  const begin = (id: number, budget: number) => shared.begin(id, budget);
  const end = () => shared.end();
  let budgetMs = 50;
  let loadBudgetMs = 2000;

  // A rule's rejected promise or throwing timer must not end the worker.
  g.addEventListener("unhandledrejection", (e: any) => {
    e.preventDefault();
    const d = describe(e.reason);
    log({
      level: "error",
      msg: `unhandled rejection in a rule: ${d.message}`,
      file: d.file,
      line: d.line,
      stack: d.stack,
    });
  });
  g.addEventListener("error", (e: any) => {
    e.preventDefault();
    const d = describe(e.error);
    log({
      level: "error",
      msg: `uncaught error in a rule: ${d.message}`,
      file: d.file,
      line: d.line,
      stack: d.stack,
    });
  });

  let services: Record<string, string[]> = {};
  let agentPlugin = "";
  let logs: any[] = [];
  const MAX_LOGS = 200;
  /** Longest message or stack a rule can put in one log line. */
  const MAX_TEXT = 4000;
  const clip = (t: unknown) =>
    typeof t === "string" && t.length > MAX_TEXT ? t.slice(0, MAX_TEXT) + "… (cut)" : t;
  const log = (entry: any) => {
    if (logs.length >= MAX_LOGS) return;
    entry.msg = clip(entry.msg);
    if (entry.stack !== undefined) entry.stack = clip(entry.stack);
    logs.push(entry);
  };

  // Rule console output becomes agent log lines (stdout belongs to the host protocol).
  let loading = "";
  /** The handler running now, from the progress slots (no per-call bookkeeping needed). */
  const current = () =>
    progress[PHASE] === 2
      ? handlers[progress[INDEX]!]?.name
      : progress[PHASE] === 1
      ? loading
      : undefined;
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    g.console[level] = (...args: unknown[]) =>
      log({
        level: level === "log" ? "info" : level,
        msg: args.map((a) => typeof a === "string" ? a : safeJson(a)).join(" "),
        handler: current(),
      });
  }
  function safeJson(v: unknown) {
    try {
      return JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x) ?? String(v);
    } catch {
      return String(v);
    }
  }

  type Handler = {
    name: string;
    file: string;
    fn: (item: any, ctx: any) => unknown;
    kind: "metric" | "notification";
    index: number;
    c: ReturnType<ContextRuntime["createContext"]>;
    state: any;
    warned: Set<string>;
    lastError: number;
    suppressed: number;
    /** Series this handler is fired for, and fired/cleared changes not yet sent. */
    firing: number;
    firedDelta: Record<string, 1 | null>;
  };
  type Instance = {
    file: string;
    sig: string;
    handlers: Pick<Handler, "name" | "file" | "fn" | "kind">[];
  };
  /** A handler that keeps throwing is logged once per interval, with a count of the rest. */
  const ERROR_LOG_INTERVAL_MS = 10_000;

  let instances = new Map<string, Instance>();
  const states: Record<string, any> = {};
  let handlers: Handler[] = [];
  let byName = new Map<string, Handler>();
  let metricHandlers: Handler[] = [];
  let notificationHandlers: Handler[] = [];

  async function onLoad(msg: any) {
    const failedImport = await importAll(msg.modules);
    const results: any[] = [];
    const next = new Map<string, Instance>();
    (msg.rules as string[]).forEach((file, i) => {
      const old = instances.get(file);
      let result: any = { file, ok: true };
      try {
        if (failedImport[file]) throw failedImport[file]; // its module did not even import
        progress[PHASE] = 1;
        progress[INDEX] = i;
        loading = file;
        const { exports, sig } = instantiate(file);
        progress[PHASE] = 0;
        if (old && old.sig === sig) {
          next.set(file, old);
        } else {
          next.set(file, { file, sig, handlers: collect(file, exports) });
        }
      } catch (e: any) {
        progress[PHASE] = 0;
        if (e && typeof e === "object" && "shape" in e) {
          result = {
            file,
            ok: false,
            message: e.shape,
            exportName: e.exportName,
            member: e.member,
          };
        } else {
          const d = failedImport[file] ?? describe(e);
          result = {
            file,
            ok: false,
            message: d.message,
            line: d.file === file ? d.line : undefined,
            stack: d.stack,
          };
        }
        if (old) {
          next.set(file, old);
          result.kept = true;
        }
      }
      results.push(result);
    });
    instances = next;
    for (const [name, state] of Object.entries(msg.states ?? {})) states[name] = state;
    const disabled = new Set<string>(msg.disabled ?? []);
    const previous = new Map(handlers.map((h) => [h.name, h]));
    handlers = [];
    for (const inst of instances.values()) {
      for (const h of inst.handlers) {
        if (disabled.has(h.name)) continue;
        const before = previous.get(h.name);
        const state = states[h.name] ?? (states[h.name] = runtime.emptyState());
        const name = h.name;
        const c = before && before.fn === h.fn
          ? before.c
          : runtime.createContext(name, () => dirty.add(name));
        c.use(state);
        handlers.push({
          ...h,
          index: handlers.length,
          c,
          state,
          warned: before?.warned ?? new Set(),
          lastError: -Infinity,
          suppressed: 0,
          firing: Object.keys(state.fired).length,
          firedDelta: {},
        });
      }
    }
    const live = new Set(handlers.map((h) => h.name));
    for (const name of Object.keys(states)) {
      if (!live.has(name) && !disabled.has(name)) delete states[name];
    }
    byName = new Map(handlers.map((h) => [h.name, h]));
    metricHandlers = handlers.filter((h) => h.kind === "metric");
    notificationHandlers = handlers.filter((h) => h.kind === "notification");
    end();
    port!.postMessage({ t: "names", rules: msg.rules, handlers: handlers.map((h) => h.name) });
    post({ t: "loaded", results, handlers: handlers.map((h) => h.name) });
  }

  const NO_HANDLERS: Handler[] = [];

  /** Most actions one handler call may return. */
  const MAX_ACTIONS = 16;

  function actionsOf(h: Handler, r: any): any[] {
    let list = Array.isArray(r) ? r : [r];
    if (list.length > MAX_ACTIONS) {
      warnOnce(
        h,
        "many",
        `returned ${list.length} actions; only the first ${MAX_ACTIONS} are taken`,
      );
      list = list.slice(0, MAX_ACTIONS);
    }
    const out: any[] = [];
    for (const a of list) {
      if (a === undefined || a === null || a === false) continue;
      if (
        typeof a !== "object" || typeof a.service !== "string" || typeof a.command !== "string" ||
        (a.host !== undefined && typeof a.host !== "string")
      ) {
        warnOnce(
          h,
          "shape:" + safeJson(a),
          `returned an invalid action ${
            safeJson(a)
          }: expected { service, command } (strings) or a list of them`,
        );
        continue;
      }
      if (a.host === undefined) {
        const commands = services[a.service];
        if (commands === undefined) {
          warnOnce(
            h,
            "svc:" + a.service,
            `Cannot find service "${a.service}" in config.json Services (action not taken)`,
          );
          continue;
        }
        if (!commands.includes(a.command)) {
          warnOnce(
            h,
            "cmd:" + a.service + "/" + a.command,
            `Cannot find command "${a.command}" of service "${a.service}" in config.json Services (action not taken)`,
          );
          continue;
        }
        out.push({ service: a.service, command: a.command });
      } else {
        out.push({ service: a.service, command: a.command, host: a.host });
      }
    }
    return out;
  }
  function warnOnce(h: Handler, id: string, msg: string) {
    if (h.warned.has(id)) return;
    h.warned.add(id);
    log({ level: "error", msg, handler: h.name });
  }

  const NO_ACTIONS: any[] = [];
  /** Series state is dropped after this long without a sample (seconds of sample time). */
  const SERIES_TTL_S = 3600;
  const SWEEP_MS = 60_000;
  let lastSweep = performance.now();
  let latest = 0;

  /** Most series one packet batch's sync carries. */
  const SYNC_SERIES = 512;
  /** Handlers (names) whose state changed since the last sync to the agent. */
  const dirty = new Set<string>();
  /** What is being evaluated: shared with every handler's context. */
  const cursor = runtime.cursor;
  /** Handlers whose fired set changed in this batch (sent with every result). */
  const firedNow = new Set<Handler>();

  // Packets are decoded here, into one reused array (rates from this worker's own tracker, so
  // the first sample after a rule-host restart has null rates).
  let typesDb = parts.collectd.parseTypesDb("");
  let rates = new parts.collectd.RateTracker();
  let record = false;
  let decoded: any[] = [];
  const visitor = {
    metric: (m: any) => void decoded.push(m),
    notification: (n: any) => void decoded.push(n),
  };
  const decodeOptions: any = {
    typesDb,
    rates,
    stats: parts.collectd.createDecodeStats(),
    onUnknownType: (type: string) =>
      log({
        level: "warn",
        msg: `collectd type "${type}" is not in types.db: its values keep positional names ` +
          "(value, or value0, value1, ...); add it to a TypesDB file",
      }),
  };
  function decode(data: Uint8Array, ends: Uint32Array): any[] {
    decoded = record ? [] : decoded;
    decoded.length = 0;
    let from = 0;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i]!;
      parts.collectd.decodePacket(data.subarray(from, end), visitor, decodeOptions);
      from = end;
    }
    return decoded;
  }

  /** Evaluates `items`; `started`: when the worker began on the batch (decoding included). */
  /**
   * One batch: evaluate, then the bookkeeping. The evaluation loop is kept free of rarely
   * taken paths (a throw, an action, a sync): V8 would compile them from no type feedback and
   * leave the optimized loop each time one is first taken.
   */
  function onBatch(msg: any, items: any[], started = performance.now()) {
    const batch: Batch = {
      skip: msg.skip?.length ? new Set<string>(msg.skip) : NO_SKIP,
      events: [],
      evaluations: 0,
      errors: 0,
      errorsBy: undefined,
    };
    progress[PHASE] = 2;
    evaluate(items, batch);
    progress[PHASE] = 0;
    // Now and then, forget series a handler has not seen for SERIES_TTL_S of sample time.
    if (started - lastSweep >= SWEEP_MS && latest > 0) sweep(started);
    const changed = changes(msg.sync === true, msg.t === "packets" ? SYNC_SERIES : Infinity);
    const out = logs;
    logs = [];
    const busyMs = performance.now() - started;
    end();
    const result = {
      t: "result",
      id: msg.id,
      events: batch.events,
      logs: out,
      states: changed,
      evaluations: batch.evaluations,
      errors: batch.errors,
      errorsBy: batch.errorsBy,
      busyMs,
      ...(record ? { items } : {}),
    };
    post(result);
  }

  type Batch = {
    skip: Set<string>;
    events: any[];
    evaluations: number;
    errors: number;
    errorsBy: Record<string, number> | undefined;
  };
  const NO_SKIP = new Set<string>();

  /** The hot loop: every handler of its kind on every item. */
  function evaluate(items: any[], batch: Batch) {
    const skip = batch.skip;
    let evaluations = 0;
    for (let n = 0; n < items.length; n++) {
      const item = items[n];
      const notification = item.severity !== undefined;
      const list = notification
        ? (item.plugin === agentPlugin ? NO_HANDLERS : notificationHandlers)
        : metricHandlers;
      if (list.length === 0) continue;
      const key = item.host + "/" + item.plugin +
        (item.plugin_instance ? "-" + item.plugin_instance : "") +
        "/" + item.type + (item.type_instance ? "-" + item.type_instance : "");
      const time = item.time;
      if (time > latest) latest = time;
      cursor.key = key;
      cursor.time = time;
      for (let i = 0; i < list.length; i++) {
        const h = list[i]!;
        if (skip.size !== 0 && skip.has(h.name)) continue;
        progress[INDEX] = h.index;
        // A new call: contexts notice it lazily; the host tells a stuck call from a slow
        // batch by this counter.
        progress[CALLS] = ++cursor.call;
        evaluations++;
        let r: any;
        try {
          r = h.fn(item, h.c.ctx);
        } catch (e) {
          threw(h, e, batch);
          continue;
        }
        if ((r === undefined || r === null || r === false) && h.firing === 0) continue;
        decide(h, r, key, time, batch.events);
      }
    }
    batch.evaluations = evaluations;
  }

  function threw(h: Handler, e: unknown, batch: Batch) {
    batch.errors++;
    batch.errorsBy ??= {};
    batch.errorsBy[h.name] = (batch.errorsBy[h.name] ?? 0) + 1;
    logThrow(h, e);
  }

  /** A handler returned something, or is fired for some series: fired/cleared for `key`. */
  function decide(h: Handler, r: any, key: string, time: number, events: any[]) {
    if (r === undefined || r === null || r === false) {
      r = NO_ACTIONS;
    } else if (typeof r === "object" && typeof r.then === "function") {
      warnOnce(
        h,
        "async",
        "returned a Promise: handlers must be synchronous (the action was not taken)",
      );
      r = NO_ACTIONS;
    }
    const actions = r === NO_ACTIONS ? r : actionsOf(h, r);
    const fired = h.state.fired;
    if (actions.length !== 0) {
      if (fired[key] === undefined) {
        fired[key] = 1;
        h.firing++;
        h.firedDelta[key] = 1;
        firedNow.add(h);
        events.push({ kind: "fired", handler: h.name, key, actions, time });
      }
    } else if (fired[key] !== undefined && !h.c.latched(key)) {
      delete fired[key];
      h.firing--;
      h.firedDelta[key] = null;
      firedNow.add(h);
      events.push({ kind: "cleared", handler: h.name, key, time });
    }
  }

  function sweep(now: number) {
    lastSweep = now;
    for (const h of handlers) h.c.expire(latest - SERIES_TTL_S);
  }

  /**
   * State changes for the agent: fired/cleared always; series and ctx.state when `sync`, at
   * most `max` series (round robin over the handlers).
   */
  function changes(sync: boolean, max: number): Record<string, any> | undefined {
    let changed: Record<string, any> | undefined;
    for (const h of firedNow) {
      changed ??= {};
      changed[h.name] = { f: h.firedDelta };
      h.firedDelta = {};
    }
    firedNow.clear();
    if (!sync || dirty.size === 0) return changed;
    changed ??= {};
    let budget = max;
    for (const name of [...dirty]) {
      if (budget <= 0) break;
      dirty.delete(name);
      const h = byName.get(name);
      if (h === undefined) continue; // removed or disabled meanwhile
      const delta = h.c.takeDelta(budget);
      if (delta === null) continue;
      for (const _ in delta.k) budget--;
      if (delta.s !== undefined) budget--;
      const entry = changed[name];
      if (entry !== undefined) delta.f = entry.f;
      changed[name] = delta;
      if (h.c.dirty) dirty.add(name); // the rest later, after the others (round robin)
    }
    return changed;
  }

  function logThrow(h: Handler, e: unknown) {
    const now = performance.now();
    if (now - h.lastError < ERROR_LOG_INTERVAL_MS) {
      h.suppressed++;
      return;
    }
    const d = describe(e);
    const more = h.suppressed ? ` (${h.suppressed} more errors of this handler not logged)` : "";
    log({
      level: "error",
      msg: `rule handler threw ${d.message}${more}`,
      handler: h.name,
      file: d.file ?? h.file,
      line: d.line,
      stack: d.stack,
    });
    h.lastError = now;
    h.suppressed = 0;
  }

  async function handle(msg: any) {
    if (msg.t === "configure") {
      services = msg.services;
      agentPlugin = msg.agentPlugin;
      record = msg.record;
      budgetMs = msg.budgetMs;
      loadBudgetMs = msg.loadBudgetMs;
      typesDb = parts.collectd.parseTypesDb(msg.typesDb);
      rates = new parts.collectd.RateTracker();
      decodeOptions.typesDb = typesDb;
      decodeOptions.rates = rates;
    } else if (msg.t === "load") {
      port!.postMessage({ t: "names", rules: msg.rules, handlers: [] });
      begin(-1, loadBudgetMs);
      await onLoad(msg);
    } else if (msg.t === "batch") {
      begin(msg.id, budgetMs);
      onBatch(msg, msg.items);
    } else if (msg.t === "packets") {
      begin(msg.id, budgetMs);
      const started = performance.now();
      onBatch(msg, decode(msg.data, msg.ends), started);
    }
  }

  /** Reads and answers the agent's requests until stdin ends (or stdout breaks). */
  async function serve() {
    try {
      post({ t: "ready" });
      const reader = frames.reader();
      for await (const chunk of stdin) {
        let requests: unknown[];
        try {
          requests = reader.push(chunk);
        } catch (e) {
          post({ t: "fatal", message: `bad request from the agent: ${(e as Error).message}` });
          break;
        }
        for (const request of requests) await handle(request);
      }
    } finally {
      port!.postMessage({ t: "eof" }); // the host exits: no rule host outlives its agent
    }
  }

  const takePort = (e: MessageEvent) => {
    if (port !== null || !e.isTrusted || !(e.ports?.[0] instanceof MessagePort)) return;
    port = e.ports[0];
    shared = parts.progressView(e.data.progress);
    ({ slots: progress, PHASE, INDEX, CALLS } = shared);
    g.removeEventListener("message", takePort);
    void serve();
  };
  g.addEventListener("message", takePort);
  // Rules can neither post to the host nor close the worker.
  for (const name of ["postMessage", "close"]) {
    Object.defineProperty(g, name, { value: undefined, writable: false, configurable: false });
  }
}
