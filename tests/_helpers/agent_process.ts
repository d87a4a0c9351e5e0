/** The agent run as a real process through scripts/agent, with its output read line by line. */
export interface AgentProcess {
  /** Every stdout/stderr line so far. */
  readonly lines: string[];
  /** Resolves with the first line (already seen or future) matching `re`; rejects on timeout. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: Deno.Signal): void;
  readonly status: Promise<Deno.CommandStatus>;
  readonly pid: number;
}

const root = new URL("../../", import.meta.url).pathname;

/** Starts `scripts/agent ...args` (the same flags as the compiled binary). */
export function startAgent(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): AgentProcess {
  const child = new Deno.Command(`${root}scripts/agent`, {
    args,
    cwd: options.cwd ?? root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  const lines: string[] = [];
  const waiters = new Set<{ re: RegExp; resolve: (l: string) => void }>();
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
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = pumped.then(() => child.status);
  return {
    lines,
    pid: child.pid,
    status,
    kill: (signal = "SIGTERM") => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    },
    waitFor(re, timeoutMs = 20_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { re, resolve: (l: string) => (clearTimeout(timer), resolve(l)) };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `no line matching ${re} within ${timeoutMs} ms; output:\n${lines.join("\n")}`,
            ),
          );
        }, timeoutMs);
        waiters.add(w);
      });
    },
  };
}
