import { join } from "node:path";
import { z } from "zod";
import {
  type RunningReport,
  STATUS_REQUEST,
  STATUS_SOCKET,
  STATUS_VERSION,
  StatusReplySchema,
} from "./schema.ts";

/** What asking the agent gave. */
export type StatusAnswer =
  /** The agent answered with its report. */
  | { kind: "running"; report: RunningReport }
  /** Nobody listens: no socket, or one left by an agent that did not stop cleanly. */
  | { kind: "not_running"; why: string }
  /** Something is there but gave no report (denied, no answer in time, an error, another version). */
  | { kind: "unreachable"; why: string };

/** Options of {@linkcode queryStatus}. */
export interface QueryOptions {
  /** Bound on the whole exchange. Default 5000 ms. */
  timeoutMs?: number;
  /** Default Deno.connect. */
  connect?: (o: Deno.UnixConnectOptions) => Promise<Deno.UnixConn>;
}

/** Largest answer read (a report is a few KiB; lists are capped). */
const MAX_ANSWER = 4 * 1024 * 1024;

/** Asks the agent whose StateDir is `stateDir` for its status over `<StateDir>/status.sock`. */
export async function queryStatus(
  stateDir: string,
  options: QueryOptions = {},
): Promise<StatusAnswer> {
  const path = join(stateDir, STATUS_SOCKET);
  const connect = options.connect ?? Deno.connect;
  const timeoutMs = options.timeoutMs ?? 5000;
  let conn: Deno.UnixConn;
  try {
    conn = await connect({ transport: "unix", path });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { kind: "not_running", why: `no status socket ${path}` };
    }
    if (e instanceof Deno.errors.ConnectionRefused) {
      return {
        kind: "not_running",
        why: `nothing listens on ${path} (left by an agent that did not stop cleanly)`,
      };
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      return {
        kind: "unreachable",
        why: `cannot open ${path}: ${(e as Error).message} (StateDir is root's only: run as root)`,
      };
    }
    if (e instanceof Deno.errors.NotCapable) {
      return {
        kind: "unreachable",
        why:
          `cannot open ${path}: not permitted by this process's flags (${
            (e as Error).message
          }); run the installed edge-agent or scripts/agent, which start status with the ` +
          "operator's flags",
      };
    }
    return { kind: "unreachable", why: `cannot connect to ${path}: ${(e as Error).message}` };
  }
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  let text: string;
  try {
    await conn.write(new TextEncoder().encode(STATUS_REQUEST));
    text = await readLine(conn);
  } catch (e) {
    const why = e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted
      ? `no answer within ${timeoutMs / 1000} s (the agent is hung or overloaded?)`
      : e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe
      ? "closed without an answer (too many status requests at once?)"
      : (e as Error).message;
    return { kind: "unreachable", why: `${path}: ${why}` };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
  return parseAnswer(text, path);
}

/** The agent's answer line → a report, or why it is none. */
export function parseAnswer(text: string, path: string): StatusAnswer {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {
      kind: "unreachable",
      why: text === ""
        ? `${path} closed without an answer`
        : `${path} answered something that is not JSON`,
    };
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (version !== STATUS_VERSION) {
    return {
      kind: "unreachable",
      why: `the agent answers status version ${JSON.stringify(version)}, this command reads ` +
        `version ${STATUS_VERSION}: run the status command of the agent's own version`,
    };
  }
  const parsed = StatusReplySchema.safeParse(raw);
  if (!parsed.success) {
    return {
      kind: "unreachable",
      why: `the agent's answer does not match status version ${STATUS_VERSION}: ` +
        z.prettifyError(parsed.error).replace(/\s*\n\s*/g, "; "),
    };
  }
  if ("error" in parsed.data) return { kind: "unreachable", why: parsed.data.error };
  return { kind: "running", report: parsed.data };
}

async function readLine(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    size += n;
    if (buf.subarray(0, n).includes(0x0a)) break;
    if (size > MAX_ANSWER) throw new Error(`an answer larger than ${MAX_ANSWER} bytes`);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) all.set(c, (at += c.length) - c.length);
  return new TextDecoder().decode(all).trim();
}
