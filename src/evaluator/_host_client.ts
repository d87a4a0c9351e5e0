import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeFrame, readFrames } from "./_frames.ts";
import { type Reply, ReplySchema, type Request } from "./_protocol.ts";

/** How to start the rule host: a program and its arguments (plus environment additions). */
export interface HostCommand {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
}

/**
 * V8 flags of the rule host: no code from strings (eval, new Function), bounded heap, a young
 * generation of at most 3 × 4 MiB (V8 grew it to 3 × 16 MiB under a flood and kept it), and
 * `gc()` for the host's own code (each thread collects once after start-up or a rule load; the
 * sandbox takes `gc` off the worker's global before any rule exists).
 */
export const HOST_V8_FLAGS = "--disallow-code-generation-from-strings,--max-old-space-size=512," +
  "--max-semi-space-size=4,--expose-gc";

/** The hidden subcommand that runs the rule host (registered in src/cli/commands.ts). */
export const HOST_SUBCOMMAND = "__rule-host";

/**
 * Runs the rule host (the hidden subcommand). Its module, which holds the sandbox's source
 * (0.3 MB of text, ~0.6 MB as a string), is loaded only here: the agent never evaluates it.
 */
export async function runRuleHost(): Promise<number> {
  const host = await import("./host.ts");
  return await host.runRuleHost();
}

/**
 * The agent's own program with the hidden `__rule-host` subcommand. Compiled binary: the binary
 * itself (V8 flags through DENO_V8_FLAGS). `deno run`: Deno.execPath() running the same entry
 * module with only --allow-env (see below), the sandbox's V8 flags and the deno.json found
 * beside (or above) the entry, so bare imports resolve as in the agent. A bundle (`X.js`, built
 * by scripts/bundle) runs the rule host's own bundle beside it, `X.rule-host.js`.
 */
export function defaultHostCommand(entry: string = Deno.mainModule): HostCommand {
  const env = { DENO_V8_FLAGS: HOST_V8_FLAGS };
  if (Deno.build.standalone) return { cmd: Deno.execPath(), args: [HOST_SUBCOMMAND], env };
  if (entry.startsWith("file:") && entry.endsWith(".js")) entry = hostBundle(entry);
  return {
    cmd: Deno.execPath(),
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--unstable-worker-options",
      // npm dependencies of the agent's module graph read the environment while loading
      // (readable-stream); the host revokes env, like everything else, before any rule exists.
      "--allow-env",
      `--v8-flags=${HOST_V8_FLAGS}`,
      ...configArgs(entry),
      entry,
      HOST_SUBCOMMAND,
    ],
  };
}

/** The rule host's bundle beside the agent's bundle `X.js` (scripts/bundle): `X.rule-host.js`. */
function hostBundle(agentBundle: string): string {
  return agentBundle.slice(0, -".js".length) + ".rule-host.js";
}

/**
 * `--config <deno.json>` beside or above a TypeScript entry (main.ts in a checkout). A bundle
 * (`.js`) has its imports inlined and needs none, so its folders are not searched (the flags do
 * not let the agent look there). A deno.json the flags hide is an error, not "none".
 */
function configArgs(entry: string): string[] {
  if (!entry.startsWith("file:") || !entry.endsWith(".ts")) return [];
  let dir = dirname(fileURLToPath(entry));
  for (;;) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      try {
        if (Deno.statSync(join(dir, name)).isFile) return ["--config", join(dir, name)];
      } catch (e) {
        if (e instanceof Deno.errors.NotCapable) {
          throw new Error(
            `The rule host needs the import map of ${join(dir, name)}: grant --allow-read for it`,
            { cause: e },
          );
        }
      }
    }
    const up = dirname(dir);
    if (up === dir) return [];
    dir = up;
  }
}

/** What a request can end with besides a reply: the host died or went silent. */
export type Outcome = Reply | { t: "died"; message: string };

/** Why a request ended without a result, for the log. */
export function describeOutcome(o: Outcome): string {
  if (o.t === "died" || o.t === "fatal") return o.message;
  if (o.t === "overrun" && o.phase === "unknown") {
    return `the batch was still running after ${o.ms} ms with no single handler call stuck ` +
      "(an overloaded machine, or batches too large for RuleBudgetMs)";
  }
  return `unexpected ${o.t}`;
}

/** A running rule host. */
export interface HostProcess {
  readonly pid: number;
  /**
   * Sends `request`; resolves with its reply, or with the overrun/fatal/died that ended every
   * request in flight (`died` after `timeoutMs` without a reply).
   */
  request(request: Request, timeoutMs: number): Promise<Outcome>;
  /** Sends a request that has no reply (configure). */
  send(request: Request): Promise<void>;
  /** Kills the process (SIGKILL) and waits for it to exit. Idempotent. */
  kill(): Promise<void>;
}

/** Starts the host and waits for its `ready` (or fails within `readyTimeoutMs`). */
export async function spawnHost(
  command: HostCommand,
  readyTimeoutMs = 15_000,
): Promise<HostProcess> {
  const child = new Deno.Command(command.cmd, {
    args: command.args,
    ...(command.env ? { env: command.env } : {}),
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  /** Resolvers of the requests in flight, oldest first (replies come in request order). */
  const waiting: ((o: Outcome) => void)[] = [];
  let ended: string | null = null;
  const ready = Promise.withResolvers<void>();

  const deliver = (o: Outcome) => {
    if (o.t === "result" || o.t === "loaded") waiting.shift()?.(o);
    else for (const w of waiting.splice(0)) w(o); // overrun, fatal, died end every request
  };
  (async () => {
    try {
      for await (const raw of readFrames(child.stdout)) {
        const parsed = ReplySchema.safeParse(raw);
        if (!parsed.success) {
          ended = `sent an invalid message: ${parsed.error.issues[0]?.message ?? "?"}`;
          break;
        }
        const reply = parsed.data;
        if (reply.t === "ready") ready.resolve();
        else if (reply.t === "fatal") {
          ended = reply.message;
          ready.reject(new Error(`rule host failed: ${reply.message}`));
          deliver(reply);
        } else deliver(reply);
      }
    } catch (e) {
      ended = (e as Error).message;
    }
    ended ??= "exited";
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    const status = await child.status;
    const why = `rule host ${ended} (exit code ${status.code}${
      status.signal ? `, ${status.signal}` : ""
    })`;
    ready.reject(new Error(why));
    deliver({ t: "died", message: why });
  })();

  const timer = setTimeout(
    () => ready.reject(new Error(`rule host not ready after ${readyTimeoutMs} ms`)),
    readyTimeoutMs,
  );
  const kill = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
  };
  try {
    await ready.promise;
  } catch (e) {
    await kill();
    throw e;
  } finally {
    clearTimeout(timer);
  }

  return {
    pid: child.pid,
    kill,
    async send(request) {
      await writer.write(encodeFrame(request));
    },
    request(request, timeoutMs) {
      if (ended !== null) return Promise.resolve({ t: "died", message: `rule host ${ended}` });
      const { promise, resolve } = Promise.withResolvers<Outcome>();
      const t = setTimeout(() => {
        deliver({ t: "died", message: `no reply from the rule host within ${timeoutMs} ms` });
        void kill();
      }, timeoutMs);
      waiting.push((o) => {
        clearTimeout(t);
        resolve(o);
      });
      writer.write(encodeFrame(request)).catch((e) => deliver({ t: "died", message: String(e) }));
      return promise;
    },
  };
}
