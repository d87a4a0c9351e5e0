// deno-lint-ignore-file no-explicit-any
/**
 * Closes what permissions do not cover, in the rule worker, before any rule code exists: no
 * code from strings (eval, the Function constructors, string timers) and no nested workers.
 * The rule host also runs with --disallow-code-generation-from-strings; this is the second
 * layer. Shipped as source text like {@linkcode workerMain}: must stay self-contained.
 */
export function lockdown() {
  const g: any = globalThis;
  const refuse = () => {
    throw new EvalError("code generation is not available to rules");
  };
  for (const f of [function () {}, async function () {}, function* () {}, async function* () {}]) {
    Object.defineProperty(Object.getPrototypeOf(f), "constructor", { value: refuse });
  }
  for (const name of ["eval", "Worker", "Function"]) {
    Object.defineProperty(g, name, { value: undefined, configurable: false, writable: false });
  }
  for (const name of ["setTimeout", "setInterval"]) {
    const timer = g[name];
    Object.defineProperty(g, name, {
      value: (fn: unknown, ...rest: unknown[]) => {
        if (typeof fn !== "function") refuse();
        return timer(fn, ...rest);
      },
      configurable: false,
      writable: false,
    });
  }
  // The process's stdio is the host protocol (stdout carries its frames, stdin the agent's
  // requests) and needs no permission: a rule writing there could forge results (events for
  // other handlers, overruns blaming them), reading there could steal requests. Deno's
  // internal namespace (`Deno[Deno.internal].core`) reaches raw ops on the same descriptors.
  const D = g.Deno;
  for (const key of ["stdin", "stdout", "stderr", D?.internal]) {
    if (key === undefined) continue;
    Object.defineProperty(D, key, { value: undefined, writable: false, configurable: false });
  }
  // Deno.exit in a worker would end the worker (every rule) without a word.
  try {
    Object.defineProperty(g.Deno, "exit", {
      value: () => {
        throw new Error("Deno.exit() is not available to rules");
      },
    });
  } catch { /* a frozen namespace: the budget still catches a worker that went away */ }
  // Shared built-ins are frozen, so a rule cannot change what the glue (the collectd decoder
  // included) or another rule runs, e.g. replace Array.prototype.push to forge another
  // handler's events. (Not
  // Error.prototype: Deno sets `name` on its own errors, which a frozen prototype forbids.)
  const typedArray = Object.getPrototypeOf(Uint8Array);
  for (
    const o of [
      Object,
      Object.prototype,
      Array,
      Array.prototype,
      Object.getPrototypeOf(function () {}),
      Map.prototype,
      Set.prototype,
      WeakMap.prototype,
      WeakSet.prototype,
      Promise,
      Promise.prototype,
      String.prototype,
      Number.prototype,
      Boolean.prototype,
      BigInt.prototype,
      Symbol.prototype,
      RegExp.prototype,
      Date.prototype,
      typedArray,
      typedArray.prototype,
      Int32Array.prototype,
      Float64Array.prototype,
      Uint8Array.prototype,
      Uint32Array.prototype,
      DataView.prototype,
      TextDecoder.prototype,
      String,
      Number,
      BigInt,
      JSON,
      Math,
      Reflect,
      Atomics,
    ]
  ) Object.freeze(o);
}
