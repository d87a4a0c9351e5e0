import { type GroupSignaller, groupSignaller, type SignalTarget } from "./_signal.ts";

/** What to run: an absolute argv, its whole environment, and its limits. */
export interface RunSpec {
  argv: string[];
  env: Record<string, string>;
  timeoutMs: number;
  /** Aborting it ends the run like a timeout (SIGTERM, then SIGKILL), marked `stopped`. */
  signal?: AbortSignal;
}

/** How a run ended. `output` holds stdout and stderr together, interleaved as they arrived. */
export type RunOutcome =
  | {
    kind: "exited";
    /** Exit status; 128 + signal number when a signal ended it. */
    code: number;
    output: string;
    /** Bytes of output seen (may exceed what `output` keeps). */
    outputBytes: number;
    truncated: boolean;
    timedOut: boolean;
    /** Ended early because `spec.signal` was aborted (agent shutdown). */
    stopped: boolean;
    /**
     * The signals sent to end it (timeout or stop), in order, and what each reached: the whole
     * process group, or only the command's own process (no kill helper). Empty when none was.
     */
    signals: { signal: "SIGTERM" | "SIGKILL"; target: SignalTarget }[];
    durationMs: number;
  }
  | { kind: "spawn_failed"; reason: "not_found" | "not_permitted" | "other"; error: string };

/** Starts processes. The real one is {@linkcode createProcessRunner}; tests may fake it. */
export interface Runner {
  /** Runs `spec` to completion; `onSpawn` is called right after the process started. */
  run(spec: RunSpec, onSpawn?: () => void): Promise<RunOutcome>;
}

/** Options of {@linkcode createProcessRunner}. */
export interface ProcessRunnerOptions {
  /** Output kept per run; beyond it the output is marked truncated. Default 64 KiB. */
  maxOutputBytes?: number;
  /** Milliseconds between SIGTERM and SIGKILL on timeout. Default 5000. */
  graceMs?: number;
  /** Milliseconds to keep reading output after the process exited (a daemonised grandchild may
   * hold the pipe open). Default 500. */
  drainMs?: number;
  now?: () => number;
  /** Told once when a timeout can only kill the command's own process (see `_signal.ts`). */
  onWarning?: (message: string) => void;
}

/**
 * Runs each command with Deno.Command, without a shell, in a new session and process group
 * (`detached`), stdin from /dev/null, cwd `/`, only the given environment. On timeout the whole
 * group gets SIGTERM, then SIGKILL after the grace period (with a restricted --allow-run list,
 * through /usr/bin/kill when the list holds it; see `_signal.ts`).
 */
export function createProcessRunner(options: ProcessRunnerOptions = {}): Runner {
  const maxBytes = options.maxOutputBytes ?? 64 * 1024;
  const graceMs = options.graceMs ?? 5000;
  const drainMs = options.drainMs ?? 500;
  const now = options.now ?? performance.now.bind(performance);
  const group = groupSignaller(options.onWarning ? { onDegraded: options.onWarning } : {});
  return {
    async run(spec, onSpawn) {
      let child: Deno.ChildProcess;
      try {
        child = new Deno.Command(spec.argv[0]!, {
          args: spec.argv.slice(1),
          env: spec.env,
          clearEnv: true,
          cwd: "/",
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          detached: true,
        }).spawn();
      } catch (e) {
        const reason = e instanceof Deno.errors.NotFound
          ? "not_found"
          : e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
          ? "not_permitted"
          : "other";
        return { kind: "spawn_failed", reason, error: (e as Error).message };
      }
      const started = now();
      onSpawn?.();
      const output = new BoundedOutput(maxBytes);
      const readers = [child.stdout.getReader(), child.stderr.getReader()];
      const pumped = Promise.all(readers.map(async (r) => {
        try {
          for (;;) {
            const { value, done } = await r.read();
            if (done) return;
            output.push(value);
          }
        } catch { /* cancelled after the drain period */ }
      }));
      let timedOut = false;
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const signals: { signal: "SIGTERM" | "SIGKILL"; target: SignalTarget }[] = [];
      const sending: Promise<void>[] = [];
      const signalGroup = (signal: "SIGTERM" | "SIGKILL") => {
        const sent = group.signal(child.pid, signal, child).then((target) => {
          signals.push({ signal, target });
        });
        sending.push(sent);
        return sent;
      };
      const { promise: killed, resolve: killDone } = Promise.withResolvers<void>();
      let stopped = false;
      let ending = false;
      const end = () => {
        if (ending) return;
        ending = true;
        const termed = signalGroup("SIGTERM");
        killTimer = setTimeout(() => {
          void termed.then(() => signalGroup("SIGKILL")).then(() => killDone());
        }, graceMs);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        end();
      }, spec.timeoutMs);
      const onAbort = () => {
        stopped = true;
        end();
      };
      if (spec.signal?.aborted) onAbort();
      else spec.signal?.addEventListener("abort", onAbort, { once: true });
      const status = await child.status;
      const durationMs = now() - started;
      clearTimeout(timer);
      spec.signal?.removeEventListener("abort", onAbort);
      if (ending) await Promise.race([killed, groupGone(group, child.pid)]); // stragglers get SIGKILL
      clearTimeout(killTimer);
      await Promise.all(sending);
      let drainTimer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([pumped, new Promise((r) => drainTimer = setTimeout(r, drainMs))]);
      clearTimeout(drainTimer);
      for (const r of readers) r.cancel().catch(() => {});
      return {
        kind: "exited",
        code: status.signal ? 128 + signalNumber(status.signal) : status.code,
        output: output.text(),
        outputBytes: output.seen,
        truncated: output.seen > maxBytes,
        timedOut,
        stopped,
        signals,
        durationMs,
      };
    },
  };
}

/**
 * Resolves once process group `pgid` has no member left. When that cannot be told it never
 * resolves: the SIGKILL after the grace period then ends the wait (never skipped on a guess).
 */
async function groupGone(group: GroupSignaller, pgid: number): Promise<void> {
  for (;;) {
    const alive = await group.alive(pgid);
    if (alive === false) return;
    if (alive === null) return await new Promise(() => {});
    await new Promise((r) => setTimeout(r, group.pollMs));
  }
}

/** Keeps the first `max` bytes of what it is given and counts the rest. */
class BoundedOutput {
  #chunks: Uint8Array[] = [];
  #kept = 0;
  seen = 0;
  constructor(readonly max: number) {}
  push(chunk: Uint8Array) {
    this.seen += chunk.length;
    const room = this.max - this.#kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.#chunks.push(part.slice());
    this.#kept += part.length;
  }
  text(): string {
    const all = new Uint8Array(this.#kept);
    let off = 0;
    for (const c of this.#chunks) {
      all.set(c, off);
      off += c.length;
    }
    return new TextDecoder().decode(all);
  }
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

function signalNumber(signal: string): number {
  return SIGNALS[signal] ?? 0;
}
