/** A process started by a test, its stdout/stderr read line by line. */
export interface Process {
  readonly lines: string[];
  readonly pid: number;
  /** Resolves with the first line (seen or future) matching `re`; rejects on timeout or exit. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (idempotent), SIGKILL when still running 5 s later, then the exit status. */
  stop(): Promise<Deno.CommandStatus>;
  /** Sends `signal` (default SIGTERM); nothing if the process is gone. */
  kill(signal?: Deno.Signal): void;
  readonly status: Promise<Deno.CommandStatus>;
}

/** Starts `cmd args` with stdin closed and both output streams captured. */
export function start(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean } = {},
): Process {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
    clearEnv: options.clearEnv ?? false,
  }).spawn();
  const lines: string[] = [];
  const waiters = new Set<{ re: RegExp; resolve: (line: string) => void }>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        for (const w of waiters) {
          if (w.re.test(line)) {
            waiters.delete(w);
            w.resolve(line);
          }
        }
      }
    }
    if (buf) lines.push(buf);
  };
  const status = Promise.all([pump(child.stdout), pump(child.stderr)]).then(() => child.status);
  return {
    lines,
    pid: child.pid,
    status,
    waitFor(re, timeoutMs = 20_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const fail = (why: string) => {
          waiters.delete(w);
          reject(new Error(`no line matching ${re}: ${why}; output:\n${lines.join("\n")}`));
        };
        const timer = setTimeout(() => fail(`not within ${timeoutMs} ms`), timeoutMs);
        const w = {
          re,
          resolve: (l: string) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        waiters.add(w);
        status.then((s) => {
          if (waiters.has(w)) {
            clearTimeout(timer);
            fail(`the process exited with ${s.code}`);
          }
        });
      });
    },
    kill(signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      // A process that ignores SIGTERM (seen: mosquitto_sub stuck in a futex) must not hang the
      // test for good: SIGKILL after 5 s.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => timer = setTimeout(resolve, 5000));
      const first = await Promise.race([status, late]);
      clearTimeout(timer);
      if (first !== undefined) return first;
      try {
        child.kill("SIGKILL");
      } catch { /* gone meanwhile */ }
      return await status;
    },
  };
}
