import { decoderSource } from "../collectd/mod.ts";
import { contextRuntime } from "./_context.ts";
import { encodeFrame, encodeJsonFrame, readFrames } from "./_frames.ts";
import { type Reply, SLOW_FACTOR } from "./_protocol.ts";
import { lockdown } from "./_worker_lockdown.ts";
import { workerMain } from "./_worker_main.ts";
import { moduleLoader } from "./_worker_modules.ts";

/**
 * The rule host: the child process the agent starts (`agent __rule-host`) to run rules. Its
 * first act is to give up every permission; then it starts the rule worker (from source text,
 * since it can no longer read files) and relays the agent's requests to it (collectd packets
 * as bytes: the worker decodes them). The agent enforces the time budget by killing this process; the host only
 * names the culprit (`overrun`) when a request runs past its budget.
 */

/** A handler call that has not returned for this long (past the budget) is the culprit. */
const STUCK_MS = 10;

/** Permissions the host revokes before anything else (`import` where the runtime has it). */
const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

/** Options of {@linkcode runRuleHost}; the defaults are the real process's streams. */
export interface RuleHostOptions {
  input?: ReadableStream<Uint8Array>;
  write?: (bytes: Uint8Array) => void;
}

/** The source of the rule worker, as loaded from a `data:` URL. */
export function workerSource(): string {
  return `(${workerMain.toString()})({ lockdown: ${lockdown.toString()}, moduleLoader: ${moduleLoader.toString()}, contextRuntime: ${contextRuntime.toString()}, collectd: ${decoderSource()} });\n`;
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

/** Runs the host until its input closes. Resolves to the process exit code. */
export async function runRuleHost(options: RuleHostOptions = {}): Promise<number> {
  const left = revokeAll();
  const stdout = (bytes: Uint8Array) => {
    let at = 0;
    while (at < bytes.length) at += Deno.stdout.writeSync(bytes.subarray(at));
  };
  const write = options.write ?? stdout;
  const send = (reply: Reply) => write(encodeFrame(reply));
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
  const progressBuffer = new SharedArrayBuffer(12);
  const progress = new Int32Array(progressBuffer);
  const worker = new Worker(
    "data:text/javascript;charset=utf-8," + encodeURIComponent(workerSource()),
    // deno-lint-ignore no-explicit-any
    { type: "module", deno: { permissions: "none" } } as any,
  );
  let budgetMs = 50;
  let loadBudgetMs = 2000;
  let rules: string[] = [];
  let handlers: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let started = 0;

  // Requests queued in the worker, oldest first. The oldest one's budget runs from when the
  // worker started it: when it was posted to an idle worker, or when the one before it ended.
  const queue: { id: number; budget: number }[] = [];
  const arm = () => {
    clearTimeout(timer);
    const head = queue[0];
    if (head === undefined) return;
    started = performance.now();
    timer = setTimeout(() => expired(head, -1), head.budget);
  };
  /**
   * The oldest request ran past its budget. A handler is blamed only when one call of it has
   * been running for a while (the call counter stands still for STUCK_MS): a batch that is
   * merely slow (a starved CPU, many values) keeps going, up to SLOW_FACTOR × the budget, and
   * is then stopped without blaming anyone.
   */
  const expired = (head: { id: number; budget: number }, lastCalls: number) => {
    const [phase, index, calls] = [0, 1, 2].map((i) => Atomics.load(progress, i)) as [
      number,
      number,
      number,
    ];
    const elapsed = performance.now() - started;
    const stuck = calls === lastCalls;
    const culprit = phase === 1 || (phase === 2 && stuck);
    if (!culprit && elapsed < head.budget * SLOW_FACTOR) {
      timer = setTimeout(() => expired(head, calls), STUCK_MS);
      return;
    }
    const label = !culprit ? undefined : phase === 1 ? rules[index] : handlers[index];
    send({
      t: "overrun",
      id: head.id,
      phase: label === undefined ? "unknown" : phase === 1 ? "load" : "evaluate",
      label: label ?? "",
      ms: Math.round(elapsed),
    });
  };
  const enqueue = (id: number, budget: number) => {
    queue.push({ id, budget });
    if (queue.length === 1) arm();
  };

  // Requests and replies use a private channel (see workerMain: rules cannot reach it).
  const channel = new MessageChannel();
  worker.postMessage({ t: "port" }, [channel.port2]);
  const toWorker = channel.port1;
  toWorker.onmessage = (e: MessageEvent) => {
    const msg = e.data;
    queue.shift();
    arm();
    // A result comes as JSON text, passed on as is; anything else as an object.
    if (typeof msg === "string") return write(encodeJsonFrame(msg));
    if (msg.t === "loaded") handlers = msg.handlers;
    send(msg);
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    send({ t: "fatal", message: `rule worker failed: ${e.message}` });
  };
  send({ t: "ready" });

  for await (const raw of readFrames(options.input ?? Deno.stdin.readable)) {
    // deno-lint-ignore no-explicit-any
    const msg = raw as any;
    if (msg.t === "configure") {
      budgetMs = msg.budgetMs;
      loadBudgetMs = msg.loadBudgetMs;
      toWorker.postMessage({
        t: "configure",
        services: msg.services,
        agentPlugin: msg.agentPlugin,
        typesDb: msg.typesDb,
        record: msg.record,
        progress: progressBuffer,
      });
    } else if (msg.t === "load") {
      rules = msg.rules;
      enqueue(-1, loadBudgetMs);
      toWorker.postMessage(msg);
    } else if (msg.t === "batch") {
      enqueue(msg.id, budgetMs);
      toWorker.postMessage(msg);
    } else if (msg.t === "packets") {
      enqueue(msg.id, budgetMs);
      toWorker.postMessage(msg, [msg.data.buffer, msg.ends.buffer]);
    }
  }
  worker.terminate();
  return 0;
}
