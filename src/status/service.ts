import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Config } from "../config/mod.ts";
import type { Counters, Logger, Reporter } from "../model/mod.ts";
import { collectReport, type StatusSources } from "./_collect.ts";
import { createRunLog } from "./_runs.ts";
import { createSampler } from "./_sampler.ts";
import { STATUS_SOCKET, STATUS_VERSION, type StatusError } from "./schema.ts";
import { createStatusServer } from "./server.ts";

/** Options of {@linkcode createStatusService}. */
export interface StatusServiceOptions {
  counters: Counters;
  logger: Logger;
  /** The running stages and the config in force; null while they are swapped (reload, stop). */
  view(): StatusSources | null;
  /** Bound on one status connection. Default 3000 ms. */
  timeoutMs?: number;
}

/**
 * What the agent serves `agent status` from: a reporter that keeps the last runs, a 1-s sampler
 * of the counters every stage already keeps (rates, the last packet's age: nothing per packet),
 * and the status socket `<StateDir>/status.sock`. Lifecycle: `start(config)` after the stages
 * started (again after each reload: it hashes the config file the agent just loaded and moves
 * the socket when StateDir changed); `stop()` last.
 */
export interface StatusService {
  /** One of the executor's reporters: it keeps the last runs in memory. */
  readonly reporter: Reporter;
  start(config: Config): Promise<void>;
  stop(): Promise<void>;
}

export function createStatusService(options: StatusServiceOptions): StatusService {
  const startedAt = Date.now();
  const sampler = createSampler(options.counters);
  const runs = createRunLog();
  let timer: ReturnType<typeof setInterval> | undefined;
  let loaded: { file: string | null; sha256: string | null } = { file: null, sha256: null };

  async function answer(): Promise<unknown> {
    let sources = options.view();
    // A reload swaps the stages in about a second: wait for the new ones rather than fail.
    for (let i = 0; sources === null && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      sources = options.view();
    }
    if (sources === null) {
      const error: StatusError = {
        version: STATUS_VERSION,
        error: "the agent is starting, reloading its config or stopping; ask again in a moment",
      };
      return error;
    }
    const file = sources.config.source;
    const onDisk = file === loaded.file ? await hashFile(file) : undefined;
    return collectReport({
      sources,
      startedAt,
      config: {
        sha256: loaded.sha256,
        ...(onDisk !== undefined && loaded.sha256 !== null
          ? { changedOnDisk: onDisk !== loaded.sha256 }
          : {}),
      },
      rates: sampler.rates(),
      lastRuns: await runs.recent(sources.config.StateDir),
      now: Date.now(),
      pid: Deno.pid,
    });
  }

  const server = createStatusServer({
    logger: options.logger,
    answer,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });

  return {
    reporter: runs.reporter,
    async start(config) {
      loaded = { file: config.source, sha256: (await hashFile(config.source)) ?? null };
      if (timer === undefined) {
        sampler.tick();
        const t = setInterval(() => sampler.tick(), 1000);
        Deno.unrefTimer(t);
        timer = t;
      }
      await server.start(join(config.StateDir, STATUS_SOCKET));
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await server.stop();
    },
  };
}

/** sha256 (hex) of a file's bytes; undefined when there is no file or it cannot be read. */
export async function hashFile(file: string | null): Promise<string | undefined> {
  if (file === null) return undefined;
  try {
    return createHash("sha256").update(await Deno.readFile(file)).digest("hex");
  } catch {
    return undefined;
  }
}
