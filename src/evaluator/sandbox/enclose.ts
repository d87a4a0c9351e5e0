/**
 * Encloses the rule worker before any rule exists. In this order:
 *
 * 1. takes every reference the glue needs (stdio, the post to the host's thread, the clock,
 *    the runtime's rejection hook) — after this, the glue never looks anything up on an object
 *    a rule can reach;
 * 2. removes every global a rule has no use for: Deno's namespace, I/O, timers, workers,
 *    message channels, event targets, streams, WebAssembly, finalizers — everything that could
 *    reach the plumbing, leave a message for another rule, or run code later, outside a
 *    handler's budget. What stays: the ECMAScript built-ins, `console` (the glue's),
 *    `TextEncoder`, `TextDecoder`, `URL`, `URLSearchParams`, `atob`, `btoa`,
 *    `structuredClone`, `DOMException` and `performance.now()`;
 * 3. hardens every JavaScript intrinsic with SES (`lockdown()`: frozen prototypes, no
 *    code from strings, tamed Error);
 * 4. freezes the global object itself (`harden(globalThis)`) and cuts its prototype chain, so
 *    a rule can neither add a global for another rule to find nor reach `EventTarget`'s
 *    methods on the global scope.
 *
 * @module
 */
import "ses";
import { PROGRESS_BYTES } from "../_progress.ts";

/** What a rule's `console.*` call hands to the glue. */
export type ConsoleSink = (level: "info" | "warn" | "error" | "debug", args: unknown[]) => void;

/** A V8 `prepareStackTrace` function. */
export type StackMapper = (error: unknown, frames: CallSite[]) => string;

/** The part of a V8 call site the glue reads. */
export interface CallSite {
  getFileName(): string | null | undefined;
  getFunctionName(): string | null;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
}

/** What the glue keeps from before the enclosure. Nothing here is reachable from a rule. */
export interface Glue {
  /**
   * Reads the process's stdin (the agent's requests) into `b`, blocking this thread until
   * something arrives; null at the end of the input.
   */
  readSync(b: Uint8Array): number | null;
  /** The process's stdout: the replies (a frame is written whole under the shared lock). */
  readonly stdout: { writeSync(b: Uint8Array): number };
  /** Posts to the rule host's main thread (the captured `postMessage` of the worker). */
  toHost(message: unknown): void;
  /** `performance.now()`. */
  now(): number;
  /** Where rule `console.*` output goes (set once the glue is running). */
  setConsoleSink(sink: ConsoleSink): void;
  /** Formats every stack trace in the worker (set by the module loader). */
  setStackMapper(mapper: StackMapper): void;
  /** Receives every unhandled promise rejection (instead of the global scope's event). */
  setRejectionSink(sink: (reason: unknown) => void): void;
  /** Freezes a (plain) object: the captured `Object.freeze`. */
  freeze<T>(o: T): T;
  /** The buffer shared with the host's budget watch (see `_progress.ts`). */
  readonly progress: SharedArrayBuffer;
  /**
   * V8 promise hooks: `init` whenever a promise is created, `before` before each promise job
   * runs (in the worker's thread).
   */
  onPromise(init: (promise: object) => void, before: (promise: object) => void): void;
  /** Resolves after every pending promise job has run (on the event loop's next turn). */
  nextTurn(): Promise<void>;
  /** A short `blob:` URL holding JavaScript `js` (to import a rule module from). */
  moduleUrl(js: string): string;
  /** Releases a URL from {@linkcode Glue.moduleUrl}. */
  dropUrl(url: string): void;
  /**
   * A memory-reducing garbage collection (V8's `gc()` with `--expose-gc`, else nothing): what a
   * rule load dropped is given back now, not when V8's memory reducer gets to it.
   */
  collectGarbage(): void;
}

/** ECMAScript globals rules keep (SES hardens them). Anything else on the global goes. */
const LANGUAGE = [
  "Object",
  "Function",
  "Array",
  "Number",
  "parseFloat",
  "parseInt",
  "Infinity",
  "NaN",
  "undefined",
  "Boolean",
  "String",
  "Symbol",
  "Date",
  "Promise",
  "RegExp",
  "Error",
  "AggregateError",
  "EvalError",
  "RangeError",
  "ReferenceError",
  "SyntaxError",
  "TypeError",
  "URIError",
  "SuppressedError",
  "globalThis",
  "JSON",
  "Math",
  "Intl",
  "ArrayBuffer",
  "Atomics",
  "Uint8Array",
  "Int8Array",
  "Uint16Array",
  "Int16Array",
  "Uint32Array",
  "Int32Array",
  "BigUint64Array",
  "BigInt64Array",
  "Uint8ClampedArray",
  "Float16Array",
  "Float32Array",
  "Float64Array",
  "DataView",
  "Map",
  "BigInt",
  "Set",
  "Iterator",
  "WeakMap",
  "WeakSet",
  "Proxy",
  "Reflect",
  "DisposableStack",
  "AsyncDisposableStack",
  "Temporal",
  "decodeURI",
  "decodeURIComponent",
  "encodeURI",
  "encodeURIComponent",
  "escape",
  "unescape",
  "eval",
  "isFinite",
  "isNaN",
  // SES's lockdown() expects these; they are removed right after it (see AFTER_LOCKDOWN).
  "SharedArrayBuffer",
  "FinalizationRegistry",
  "WeakRef",
  "WebAssembly",
] as const;

/** Host (web) globals rules keep: synchronous, stateless, harmless. */
const HOST = [
  "TextEncoder",
  "TextDecoder",
  "URL",
  "URLSearchParams",
  "atob",
  "btoa",
  "structuredClone",
  "DOMException",
] as const;

/**
 * Removed after lockdown(): finalizer and `WeakRef` callbacks and WebAssembly's asynchronous
 * compilation would run rule code later, outside any budget; a SharedArrayBuffer is only good
 * for waiting on or signalling another thread.
 */
const AFTER_LOCKDOWN = ["SharedArrayBuffer", "FinalizationRegistry", "WeakRef", "WebAssembly"];

/** lockdown()'s options, every one given, so SES never reads them from `process.env`. */
const LOCKDOWN_OPTIONS = {
  errorTaming: "unsafe", // stack traces stay readable (mapped to rule files by the glue)
  errorTrapping: "none",
  reporting: "none",
  unhandledRejectionTrapping: "none",
  regExpTaming: "safe",
  localeTaming: "safe",
  consoleTaming: "unsafe", // the console is the glue's own
  // Fewest built-ins turned into accessors (moderate would include Array.prototype.push and
  // [Symbol.iterator], every TypedArray method and Promise.prototype.constructor: hot paths).
  overrideTaming: "min",
  stackFiltering: "verbose",
  domainTaming: "unsafe",
  evalTaming: "no-eval",
  overrideDebug: [],
  legacyRegeneratorRuntimeTaming: "safe",
  __hardenTaming__: "safe",
} as const;

/** The globals SES and Deno add that the enclosure uses. */
interface Enclosable {
  lockdown(options: typeof LOCKDOWN_OPTIONS): void;
  harden<T>(o: T): T;
  Deno: typeof Deno & { internal: symbol; [key: symbol]: { core: DenoCore } };
  postMessage(message: unknown): void;
  console: Console;
  performance: Performance;
}

/** The runtime hooks the enclosure takes from Deno's internal namespace (then removed). */
interface DenoCore {
  setUnhandledPromiseRejectionHandler(fn: (promise: unknown, reason: unknown) => boolean): void;
  setPromiseHooks(init: (p: object) => void, before: (p: object) => void): void;
}

/**
 * Encloses the worker (see the module comment) and returns the glue's references. Throws when
 * the result is not what it must be (a global left writable): the worker then fails to start,
 * which the agent reports, rather than running rules in a half-closed sandbox.
 */
export function enclose(): Glue {
  const g = globalThis as unknown as Enclosable & Record<string, unknown>;
  const D = g.Deno;
  const core = D[D.internal]!.core;
  const lockdown = g.lockdown;
  const stdinFile = D.stdin;
  const readSync = (b: Uint8Array) => stdinFile.readSync(b);
  const stdoutFile = D.stdout;
  const stdout = { writeSync: (b: Uint8Array) => stdoutFile.writeSync(b) };
  const post = g.postMessage.bind(g);
  const perf = g.performance;
  const now = () => perf.now();
  const timeOrigin = perf.timeOrigin;
  const freeze = Object.freeze;
  const progress = new SharedArrayBuffer(PROGRESS_BYTES);
  const setTimer = setTimeout;
  const BlobOf = Blob;
  const createUrl = URL.createObjectURL;
  const revokeUrl = URL.revokeObjectURL;
  const setPromiseHooks = core.setPromiseHooks.bind(core);
  const defineProperty = Object.defineProperty;
  const gc = g.gc as ((o: object) => void) | undefined; // emptied on the global below
  // `_release_memory.ts`'s options (the worker is built only from the modules it names).
  const releaseMemory = { type: "major", execution: "sync", flavor: "last-resort" };

  let consoleSink: ConsoleSink = () => {};
  let stackMapper: StackMapper | null = null;
  let rejectionSink: (reason: unknown) => void = () => {};
  const logTo = (level: "info" | "warn" | "error" | "debug") => (...args: unknown[]) =>
    consoleSink(level, args);
  const console = {
    log: logTo("info"),
    info: logTo("info"),
    debug: logTo("debug"),
    warn: logTo("warn"),
    error: logTo("error"),
    trace: logTo("debug"),
  };

  // Lazy globals are read now (Deno loads their code on first use, which a frozen realm forbids).
  // The language's globals stay as they are; the host's few are re-made plain data properties.
  const language = new Set<string>(LANGUAGE);
  const host = new Map<string, unknown>();
  for (const name of HOST) host.set(name, g[name]);
  host.set("console", console);
  host.set("performance", { now, timeOrigin });
  // (Symbol-keyed properties stay: the runtime brands the global scope with one.)
  for (const name of Object.getOwnPropertyNames(g)) {
    if (language.has(name)) continue;
    // V8's `gc` (--expose-gc) is writable but not configurable: emptied, then frozen below.
    if (name === "gc" && !Reflect.deleteProperty(g, name) && Reflect.set(g, name, undefined)) {
      continue;
    }
    if (!Reflect.deleteProperty(g, name)) {
      throw new Error(`sandbox: cannot remove the global ${name}`);
    }
  }
  for (const [name, value] of host) {
    defineProperty(g, name, { value, writable: true, enumerable: false, configurable: true });
  }
  // Atomics.waitAsync settles a promise later, from another thread's notification.
  Reflect.deleteProperty(Atomics, "waitAsync");

  lockdown(LOCKDOWN_OPTIONS);
  const harden = g.harden;
  for (const name of AFTER_LOCKDOWN) Reflect.deleteProperty(g, name);
  // Stack traces: one formatter, the glue's (the loader maps frames to rule files). SES keeps
  // `Error.prepareStackTrace` assignable until harden() below freezes `Error`.
  (Error as unknown as { prepareStackTrace: StackMapper }).prepareStackTrace = (e, frames) =>
    stackMapper !== null ? stackMapper(e, frames) : String(e);
  // The runtime would dispatch unhandled rejections as an event on the global scope, where
  // listeners could run rule code later; the glue takes them (true: handled).
  core.setUnhandledPromiseRejectionHandler((_promise, reason) => {
    rejectionSink(reason);
    return true;
  });
  Object.setPrototypeOf(g, null);
  harden(g);
  for (const name of ["console", "TextEncoder", "Array", "Object"]) {
    const d = Object.getOwnPropertyDescriptor(g, name);
    if (d === undefined || d.writable || d.configurable) {
      throw new Error(`sandbox: the global ${name} is still writable after harden()`);
    }
  }
  if (!Object.isFrozen(g) || !Object.isFrozen(Array.prototype)) {
    throw new Error("sandbox: the global object is not frozen after harden()");
  }

  return {
    readSync,
    stdout,
    toHost: post,
    now,
    freeze,
    progress,
    onPromise: (init, before) => setPromiseHooks(init, before),
    nextTurn: () => new Promise<void>((resolve) => void setTimer(resolve, 0)),
    moduleUrl: (js) => createUrl(new BlobOf([js], { type: "text/javascript" })),
    dropUrl: (url) => revokeUrl(url),
    collectGarbage: () => gc?.(releaseMemory),
    setConsoleSink: (sink) => void (consoleSink = sink),
    setStackMapper: (mapper) => void (stackMapper = mapper),
    setRejectionSink: (sink) => void (rejectionSink = sink),
  };
}
