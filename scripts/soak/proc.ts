/**
 * Soak harness: child processes with their output kept (a bounded tail in memory, everything in a
 * log file), waiting for lines, and telling an expected kill from an exit of its own.
 */

/** One started child process. */
export interface Proc {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process ended (after its output was read to the end). */
  readonly status: Promise<Deno.CommandStatus>;
  /** True once the process ended without the harness having signalled it. */
  readonly exitedOnItsOwn: boolean;
  /** The last lines of output (bounded). */
  tail(): string[];
  /** Resolves with the first line matching `re` from now on (or in the tail); rejects on timeout. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (default SIGTERM) as an expected stop. */
  kill(signal?: Deno.Signal): void;
  /** Sends SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
  /** Every line, as observed; for follow-up analysis (e.g. broker connection lines). */
  onLine(fn: (line: string) => void): void;
}

/** Options of {@linkcode spawnProc}. */
export interface SpawnOptions {
  args: string[];
  /** Output is appended here (created). */
  logFile: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Lines kept in memory. Default 400. */
  tailLines?: number;
}

/** Starts `command` with its stdout/stderr read line by line into the log file and a tail. */
export function spawnProc(name: string, command: string, options: SpawnOptions): Proc {
  const child = new Deno.Command(command, {
    args: options.args,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const max = options.tailLines ?? 400;
  const lines: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const log = Deno.openSync(options.logFile, { append: true, create: true });
  const enc = new TextEncoder();
  let signalled = false;
  let ended = false;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (lines.length > max) lines.splice(0, lines.length - max);
        try {
          log.writeSync(enc.encode(line + "\n"));
        } catch { /* log file gone: keep the tail */ }
        for (const l of listeners) l(line);
      }
    }
  };
  const status = Promise.all([pump(child.stdout), pump(child.stderr)]).then(async () => {
    const s = await child.status;
    ended = true;
    try {
      log.close();
    } catch { /* closed */ }
    return s;
  });
  const proc: Proc = {
    name,
    pid: child.pid,
    status,
    get exitedOnItsOwn() {
      return ended && !signalled;
    },
    tail: () => lines.slice(),
    onLine: (fn) => void listeners.push(fn),
    waitFor(re, timeoutMs = 30_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        let done = false;
        const fn = (l: string) => {
          if (done || !re.test(l)) return;
          done = true;
          clearTimeout(timer);
          resolve(l);
        };
        const timer = setTimeout(() => {
          done = true;
          reject(
            new Error(
              `${name}: no line matching ${re} within ${timeoutMs} ms; last lines:\n` +
                lines.slice(-30).join("\n"),
            ),
          );
        }, timeoutMs);
        listeners.push(fn);
        status.then(() => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          reject(
            new Error(
              `${name} exited before printing ${re}; last lines:\n${lines.slice(-30).join("\n")}`,
            ),
          );
        });
      });
    },
    kill(signal = "SIGTERM") {
      signalled = true;
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    },
    async stop(graceMs = 5000) {
      if (ended) return await status;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      const s = await status;
      clearTimeout(timer);
      return s;
    },
  };
  return proc;
}

/** A UDP port that was free a moment ago on 127.0.0.1. */
export function freeUdpPort(): number {
  const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (s.addr as Deno.NetAddr).port;
  s.close();
  return port;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freeTcpPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Resolves once a TCP connection to 127.0.0.1:port succeeds; rejects after `timeoutMs`. */
export async function waitForTcp(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (e) {
      if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port}: ${e}`);
      await sleep(50);
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
