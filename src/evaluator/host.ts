import { encodeFrame } from "./_frames.ts";
import type { Reply } from "./_protocol.ts";
import { SLOW_FACTOR } from "./_slow_factor.ts";
import { type ProgressView, progressView } from "./_progress.ts";
import { releaseMemory } from "./_release_memory.ts";
import { SANDBOX_SOURCE } from "./_sandbox_source.ts";

/**
 * The rule host: the child process the agent starts (`agent __rule-host`) to run rules. Its
 * first act is to give up every permission; then it starts the rule worker (the bundled
 * `sandbox/` modules, from source text, since it can no longer read files), which encloses
 * itself, reads the agent's requests from stdin and writes its replies to stdout itself (no hop
 * through this thread). The agent enforces the time budget by killing this process; the host's
 * main thread only watches the running request and names the culprit (`overrun`) when it runs
 * past its budget.
 */

/** A handler call that has not returned for this long (past the budget) is the culprit. */
const STUCK_MS = 10;

/** Permissions the host revokes before anything else (`import` where the runtime has it). */
const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

/** The source of the rule worker, as loaded from a `data:` URL (see `sandbox/main.ts`). */
export function workerSource(): string {
  return SANDBOX_SOURCE;
}

/** Revokes every permission; returns the names still granted afterwards (should be none). */
export function revokeAll(): string[] {
  const left: string[] = [];
  for (const name of PERMISSIONS) {
    try {
      Deno.permissions.revokeSync({ name } as Deno.PermissionDescriptor);
      if (Deno.permissions.querySync({ name } as Deno.PermissionDescriptor).state === "granted") {
        left.push(name);
      }
    } catch {
      // a permission name this runtime does not know
    }
  }
  return left;
}

/** Whether `eval` works here (it must not: rules could build imports from strings). */
function codeFromStringsAllowed(): boolean {
  try {
    (0, eval)("0");
    return true;
  } catch {
    return false;
  }
}

/** How often the host looks at the running request. */
const WATCH_MS = 5;
/**
 * How often it looks while no request runs and nothing waits to be written: looking every 5 ms,
 * an idle host spent 2 % of a core (0.61 CPU-s in 30 s; 0.08 in 20 s at 100 ms). A request that
 * starts between two looks is first seen at most this late: by the end of the default 50 ms
 * budget it is checked against.
 */
const IDLE_WATCH_MS = 50;

/** Runs the host until its input closes. Resolves to the process exit code. */
export async function runRuleHost(): Promise<number> {
  const left = revokeAll();
  /** The buffer shared with the worker (it creates it and posts it first). */
  let progress: ProgressView | null = null;
  /** Frames waiting for the stdout lock (the worker may be writing). */
  const pending: Uint8Array[] = [];
  const flush = () => {
    while (pending.length !== 0) {
      const frame = pending[0]!;
      if (progress === null) Deno.stdout.writeSync(frame); // before the worker exists
      else if (!progress.write(Deno.stdout, frame, false)) return;
      pending.shift();
    }
  };
  const send = (reply: Reply) => {
    pending.push(encodeFrame(reply));
    flush();
  };
  // stdout carries the protocol: nothing else may print there.
  for (const level of ["log", "info", "debug"] as const) console[level] = console.error;
  if (left.length !== 0) {
    send({ t: "fatal", message: `could not revoke permissions: ${left.join(", ")}` });
    return 1;
  }
  if (codeFromStringsAllowed()) {
    send({
      t: "fatal",
      message: "code generation from strings is enabled in the rule host; it must run with " +
        "--v8-flags=--disallow-code-generation-from-strings (or DENO_V8_FLAGS)",
    });
    return 1;
  }
  // A blob: URL (not data:) keeps the worker's name short in every stack frame of the glue.
  const url = URL.createObjectURL(new Blob([workerSource()], { type: "text/javascript" }));
  const worker = new Worker(
    url,
    // deno-lint-ignore no-explicit-any
    { type: "module", deno: { permissions: "none" } } as any,
  );
  let rules: string[] = [];
  let handlers: string[] = [];
  const done = Promise.withResolvers<number>();

  /**
   * The running request, once past its budget. A handler is blamed only when one call of it
   * has been running for a while (the call counter stands still for STUCK_MS): a batch that
   * is merely slow (a starved CPU, many values) keeps going, up to SLOW_FACTOR × the budget,
   * and is then stopped without blaming anyone. One report: the agent kills the host.
   */
  let watched = { id: 0, started: 0, lastCalls: -1, checkAt: 0 };
  let reported = false;
  const watch = () => {
    flush();
    if (progress === null) return;
    const request = progress.running();
    if (request === null || reported) return;
    const { id, started, budget } = request;
    if (watched.id !== id || watched.started !== started) {
      watched = { id, started, lastCalls: -1, checkAt: started + budget };
    }
    const now = progress.now();
    if (now < watched.checkAt) return;
    const [phase, index, calls] = progress.where();
    const culprit = phase === 1 || (phase === 2 && calls === watched.lastCalls);
    if (!culprit && now - started < budget * SLOW_FACTOR) {
      watched.lastCalls = calls;
      watched.checkAt = now + STUCK_MS;
      return;
    }
    const label = !culprit ? undefined : phase === 1 ? rules[index] : handlers[index];
    reported = true;
    send({
      t: "overrun",
      id,
      phase: label === undefined ? "unknown" : phase === 1 ? "load" : "evaluate",
      label: label ?? "",
      ms: Math.round(now - started),
    });
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    watch();
    const idle = pending.length === 0 && (progress === null || progress.running() === null);
    timer = setTimeout(tick, idle ? IDLE_WATCH_MS : WATCH_MS);
  };
  timer = setTimeout(tick, WATCH_MS);

  // The worker reads requests and writes replies itself; it posts only to this thread: the
  // progress buffer first (then the agent is told the host is ready), the names for overrun
  // reports, the end of its input. Nothing is ever posted to the worker.
  worker.onmessage = (e: MessageEvent) => {
    const msg = e.data;
    if (msg?.t === "progress" && progress === null) {
      progress = progressView(msg.buffer);
      send({ t: "ready" });
      URL.revokeObjectURL(url); // the worker's module is loaded: its source's copy can go
      releaseMemory(); // this thread's start-up is over
    } else if (msg?.t === "names") [rules, handlers] = [msg.rules, msg.handlers];
    else if (msg?.t === "eof") done.resolve(0);
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    send({ t: "fatal", message: `rule worker failed: ${e.message}` });
  };
  const code = await done.promise;
  clearTimeout(timer);
  worker.terminate();
  return code;
}
