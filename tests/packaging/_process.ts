/** A process started by a packaging test, its stdout/stderr read line by line. */
export interface Process {
  readonly lines: string[];
  readonly pid: number;
  /** Resolves with the first line (seen or future) matching `re`; rejects on timeout or exit. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (idempotent), then the exit status. */
  stop(): Promise<Deno.CommandStatus>;
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
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      return await status;
    },
  };
}

/** Runs a command to completion; throws with its output when it fails. */
export async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { NO_COLOR: "1", ...options.env },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} exited with ${out.code}:\n${text}`);
  return text;
}

/** A systemd-like $NOTIFY_SOCKET receiver bound at `path`. */
export function notifySocket(path: string) {
  const conn = Deno.listenDatagram({ transport: "unixpacket", path });
  const received: string[] = [];
  const done = (async () => {
    try {
      for (;;) {
        const [bytes] = await conn.receive();
        received.push(new TextDecoder().decode(bytes));
      }
    } catch { /* closed */ }
  })();
  return {
    received,
    async waitFor(text: string, timeoutMs = 20_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      while (!received.some((m) => m.split("\n").includes(text))) {
        if (Date.now() > end) {
          throw new Error(
            `no ${text} on $NOTIFY_SOCKET within ${timeoutMs} ms (got ${JSON.stringify(received)})`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      conn.close();
      await done;
    },
  };
}
