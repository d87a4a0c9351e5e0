import type { Logger } from "../model/mod.ts";
import { STATUS_REQUEST, STATUS_VERSION } from "./schema.ts";

/** Options of {@linkcode createStatusServer}. */
export interface StatusServerOptions {
  logger: Logger;
  /** The answer to the one request ({@linkcode STATUS_REQUEST}): a JSON-able value. */
  answer(): Promise<unknown>;
  /** Bound on one connection, from accept to the last byte written. Default 3000 ms. */
  timeoutMs?: number;
  /** Connections served at once; one beyond is closed at once. Default 4. */
  maxConnections?: number;
}

/**
 * The status socket: a unix stream socket, mode 0600, in the agent's own 0700 StateDir. One
 * request per connection, a fixed request of at most 64 bytes, one JSON line back, then close;
 * bounded in time and in connections. It reads nothing but the request and changes nothing.
 * `start` never throws: the agent runs without its status socket rather than not at all (the
 * error is logged). `stop` closes it and removes the socket file; `start` may be called again
 * (a reload that moved StateDir).
 */
export interface StatusServer {
  start(path: string): Promise<void>;
  stop(): Promise<void>;
  /** Where it listens now, or null. */
  readonly path: string | null;
}

const MAX_REQUEST = 64;
const encoder = new TextEncoder();

export function createStatusServer(options: StatusServerOptions): StatusServer {
  const log = options.logger;
  const timeoutMs = options.timeoutMs ?? 3000;
  const maxConnections = options.maxConnections ?? 4;
  const active = new Set<Promise<void>>();
  let listener: Deno.UnixListener | null = null;
  let path: string | null = null;

  /** One answer at a time, shared by the requests that ask meanwhile. */
  let answering: Promise<unknown> | null = null;
  const answer = () =>
    answering ??= options.answer().catch((e) => {
      log.error("cannot build the status report", { error: (e as Error).message });
      return { version: STATUS_VERSION, error: `the agent could not build its status: ${e}` };
    }).finally(() => (answering = null));

  async function exchange(conn: Deno.UnixConn) {
    const request = await readRequest(conn);
    const reply = request === STATUS_REQUEST ? await answer() : {
      version: STATUS_VERSION,
      error: `unknown request (expected ${JSON.stringify(STATUS_REQUEST)})`,
    };
    const bytes = encoder.encode(JSON.stringify(reply) + "\n");
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
  }

  /** Serves one connection; the timeout ends it (slot freed, connection closed) whatever hangs. */
  async function serve(conn: Deno.UnixConn) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      const work = exchange(conn);
      work.catch(() => {}); // after the timeout its failure (the closed connection) is moot
      await Promise.race([work, timedOut]);
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource || e instanceof Deno.errors.BrokenPipe)) {
        log.debug("status request not answered", { error: (e as Error).message });
      }
    } finally {
      clearTimeout(timer);
      close(conn);
    }
  }

  async function accept(l: Deno.UnixListener) {
    try {
      for await (const conn of l) {
        if (active.size >= maxConnections) {
          close(conn);
          continue;
        }
        const p = serve(conn).finally(() => active.delete(p));
        active.add(p);
      }
    } catch (e) {
      if (listener === l) log.error("status socket failed", { error: (e as Error).message });
    }
  }

  return {
    get path() {
      return path;
    },
    async start(at) {
      if (listener && path === at) return;
      await this.stop();
      try {
        if (await listening(at)) {
          log.error(
            `another process answers on ${at} (a second agent with this StateDir?); this agent ` +
              "serves no status socket",
          );
          return;
        }
        await Deno.remove(at).catch((e) => {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        });
        const l = Deno.listen({ transport: "unix", path: at });
        await Deno.chmod(at, 0o600);
        listener = l;
        path = at;
        void accept(l);
      } catch (e) {
        log.error(
          `cannot serve the status socket ${at} (\`agent status\` will say the agent is not ` +
            "running)",
          { error: (e as Error).message },
        );
      }
    },
    async stop() {
      const l = listener;
      const at = path;
      listener = null;
      path = null;
      if (!l || at === null) return;
      close(l);
      await Promise.allSettled([...active]);
      await Deno.remove(at).catch(() => {});
    },
  };
}

/** Reads the request: up to a newline, at most {@linkcode MAX_REQUEST} bytes. */
async function readRequest(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(MAX_REQUEST);
  let n = 0;
  while (n < MAX_REQUEST) {
    const got = await conn.read(buf.subarray(n));
    if (got === null) break;
    n += got;
    if (buf.subarray(0, n).includes(0x0a)) break;
  }
  return new TextDecoder().decode(buf.subarray(0, n));
}

/**
 * Whether something accepts connections on `path` now: false only for "no such file" and
 * "refused" (a socket left by a killed agent); anything else (a denied permission) is thrown,
 * never taken for "nobody there" (the socket would be removed from under its owner).
 */
async function listening(path: string): Promise<boolean> {
  try {
    (await Deno.connect({ transport: "unix", path })).close();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.ConnectionRefused) {
      return false;
    }
    throw e;
  }
}

function close(c: { close(): void }) {
  try {
    c.close();
  } catch { /* closed already */ }
}
