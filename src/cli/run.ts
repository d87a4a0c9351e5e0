import { resolve } from "node:path";
import { createAgent } from "../agent.ts";
import { openRecorder, type Recorder } from "../evaluator/mod.ts";
import { ExitCode, type Logger } from "../model/mod.ts";
import { createSystemdNotifier } from "../systemd/mod.ts";
import { VERSION } from "../version.ts";
import type { CliCommand } from "./_command.ts";
import {
  checkHeldByDaemon,
  CONFIG_OPTION,
  loadFromArgs,
  loggerFor,
  reloadConfig,
} from "./_config.ts";

/** How long SIGTERM/SIGINT waits for running work before exiting anyway. */
const STOP_BOUND_MS = 30_000;

/** `agent [run] --config FILE`: run until SIGTERM/SIGINT; SIGHUP reloads. */
export const runCommand: CliCommand = {
  name: "run",
  summary: "run the agent (the default command)",
  usage: "agent [run] [--config FILE] [--record FILE.jsonl (relative to StateDir) " +
    "[--record-max-size SIZE (default 100M)] [--record-keep N (default 3)]]",
  options: {
    ...CONFIG_OPTION,
    record: { type: "string" },
    "record-max-size": { type: "string" },
    "record-keep": { type: "string" },
  },
  async run({ values, positionals }, io) {
    if (positionals.length) {
      io.stderr(
        `agent run: unexpected argument "${positionals[0]}" (a subcommand comes first: ` +
          `agent ${positionals[0]} …)\nUsage: ${this.usage}\n`,
      );
      return ExitCode.USAGE;
    }
    const maxBytes = parseSize(String(values["record-max-size"] ?? "100M"));
    const keep = Number(values["record-keep"] ?? 3);
    if (!(maxBytes >= 1024) || !Number.isInteger(keep) || keep < 0 || keep > 100) {
      io.stderr(
        "agent run: --record-max-size takes a size of at least 1K (e.g. 500M, 2G) and " +
          `--record-keep an integer 0-100\nUsage: ${this.usage}\n`,
      );
      return ExitCode.USAGE;
    }
    const loaded = await loadFromArgs(values);
    checkHeldByDaemon(loaded.config);
    const log = loggerFor(loaded.config);
    for (const w of loaded.warnings) log.warn(w);
    log.info(`edge-agent ${VERSION} starting`, {
      config: loaded.config.source ?? "built-in default",
    });
    let recorder: Recorder | undefined;
    if (typeof values.record === "string") {
      const stateDir = loaded.config.StateDir;
      recorder = await openRecording(values.record, { stateDir, maxBytes, keep, log });
      if (!recorder) return ExitCode.RUNTIME;
    }
    const agent = createAgent(loaded.config, {
      logger: log,
      ...(recorder ? { record: (item) => recorder.write(item) } : {}),
    });

    // systemd (Type=notify): READY once listening, WATCHDOG while alive, RELOADING, STOPPING.
    // The socket's own end lives in StateDir, which least-privilege flags always allow.
    const systemd = createSystemdNotifier({
      bindPath: resolve(loaded.config.StateDir, "notify.sock"),
      onError: (e) => log.warn(e.message),
    });

    // Signal handlers go in before start, so a signal during start-up is never fatal.
    let started = false;
    let reloadPending = false;
    const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
    const onStop = (signal: Deno.Signal) => () => stop(signal);
    const handlers: [Deno.Signal, () => void][] = [
      ["SIGTERM", onStop("SIGTERM")],
      ["SIGINT", onStop("SIGINT")],
      ["SIGHUP", () => started ? void reload() : (reloadPending = true)],
    ];
    for (const [s, h] of handlers) Deno.addSignalListener(s, h);
    const removeHandlers = () => {
      for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    };

    try {
      await agent.start();
    } catch (e) {
      log.fatal("cannot start", { error: (e as Error).message });
      await agent.stop();
      await recorder?.close();
      await systemd.close();
      removeHandlers();
      return ExitCode.RUNTIME;
    }
    started = true;
    await systemd.ready(readyStatus());
    systemd.startWatchdog();
    if (reloadPending) void reload();

    function readyStatus() {
      const addrs = agent.listening.map((a) => `${a.hostname}:${a.port}`).join(", ");
      return `listening on ${addrs}; ${agent.status().rules_loaded} rule handler(s)`;
    }

    async function reload() {
      const source = agent.config.source;
      log.info("SIGHUP: reloading config and rules", { config: source ?? "built-in default" });
      await systemd.reloading();
      try {
        const next = source ? await reloadConfig(source) : { config: agent.config, warnings: [] };
        for (const w of next.warnings) log.warn(w);
        await agent.reload(next.config);
      } catch (e) {
        log.error("reload rejected; the previous config keeps running", {
          error: (e as Error).message,
        });
      }
      await systemd.ready(readyStatus());
    }

    const signal = await stopped;
    log.info(`${signal}: stopping`);
    await systemd.stopping(`${signal}: stopping`);
    removeHandlers();
    const timer = setTimeout(() => {
      log.error(`stop took longer than ${STOP_BOUND_MS} ms; exiting anyway`);
      Deno.exit(ExitCode.RUNTIME);
    }, STOP_BOUND_MS);
    await agent.stop();
    await recorder?.close();
    await systemd.close();
    clearTimeout(timer);
    return ExitCode.OK;
  },
};

/** Options of {@linkcode openRecording}. */
interface RecordingOptions {
  stateDir: string;
  /** Size at which the file is rotated, and how many rotated files are kept. */
  maxBytes: number;
  keep: number;
  log: Logger;
}

/**
 * Opens `--record NAME`, relative to StateDir: the one folder the agent may always write (least
 * privilege). Undefined when it cannot be opened (logged as fatal: the agent does not start).
 */
async function openRecording(
  name: string,
  options: RecordingOptions,
): Promise<Recorder | undefined> {
  const { stateDir, maxBytes, keep, log } = options;
  const file = resolve(stateDir, name);
  let recorder: Recorder;
  try {
    await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
    recorder = await openRecorder(file, { maxBytes, keep, onError: (m) => log.error(m) });
  } catch (e) {
    log.fatal(`Cannot record to ${file}: ${(e as Error).message}`);
    return undefined;
  }
  log.info("recording every decoded metric and notification", { file, max_bytes: maxBytes, keep });
  return recorder;
}

/** `500M`, `2G`, `64K` (powers of 1024, optional `iB`/`B`) or plain bytes; NaN when invalid. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([KMGkmg])(?:i?[Bb])?|[Bb])?$/.exec(text.trim());
  if (!m) return NaN;
  const unit = { k: 1, m: 2, g: 3 }[(m[2] ?? "").toLowerCase() as "k" | "m" | "g"] ?? 0;
  return Math.floor(Number(m[1]) * 1024 ** unit);
}
