import { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from "../model/mod.ts";

/** One formatted event on its way out. */
export interface LogEvent {
  time: Date;
  level: LogLevel;
  component: string;
  msg: string;
  fields: LogFields | undefined;
}

/** Where formatted events go (stdout, syslog, a test array). Must not throw. */
export type LogSink = (event: LogEvent) => void;

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Most verbose level written. Default "info". */
  level?: LogLevel;
  /** Default: {@linkcode stdoutSink} with text lines. */
  sink?: LogSink;
  /** Component of the root logger. Default "agent". */
  component?: string;
}

/** A logger writing every event at or above `level` to `sink`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const max = LOG_LEVELS.indexOf(options.level ?? "info");
  const sink = options.sink ?? stdoutSink("text");
  const make = (component: string): Logger => {
    const at = (level: LogLevel) => {
      const enabled = LOG_LEVELS.indexOf(level) <= max;
      return (msg: string, fields?: LogFields) => {
        if (enabled) sink({ time: new Date(), level, component, msg, fields });
      };
    };
    return {
      fatal: at("fatal"),
      error: at("error"),
      warn: at("warn"),
      info: at("info"),
      debug: at("debug"),
      enabled: (level) => LOG_LEVELS.indexOf(level) <= max,
      child: (c) => make(c),
    };
  };
  return make(options.component ?? "agent");
}

/**
 * `2026-11-23T13:40:00.123Z INFO  listener: listening addr=127.0.0.1:25826`: one greppable line.
 */
export function formatText(e: LogEvent): string {
  let line = `${e.time.toISOString()} ${e.level.toUpperCase().padEnd(5)} ${e.component}: ${
    oneLine(e.msg)
  }`;
  if (e.fields) {
    for (const [k, v] of Object.entries(e.fields)) {
      if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
    }
  }
  return line;
}

/** `{"time":…,"level":"info","component":"listener","msg":"listening",…fields}`. */
export function formatJson(e: LogEvent): string {
  const fields: LogFields = {};
  if (e.fields) {
    for (const [k, v] of Object.entries(e.fields)) {
      fields[k] = v instanceof Error ? errorText(v) : v;
    }
  }
  return JSON.stringify(
    { time: e.time.toISOString(), level: e.level, component: e.component, msg: e.msg, ...fields },
    (_k, v) => typeof v === "bigint" ? v.toString() : v,
  );
}

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(errorText(v));
  const s = typeof v === "string"
    ? v
    : typeof v === "bigint"
    ? v.toString()
    : JSON.stringify(v) ?? String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

function errorText(e: Error): string {
  return e.stack ?? `${e.name}: ${e.message}`;
}

function oneLine(s: string): string {
  return s.includes("\n") ? s.replaceAll("\n", "\\n") : s;
}

const encoder = new TextEncoder();

/** Writes each event as one line on stdout (text or JSON lines). */
export function stdoutSink(format: "text" | "json"): LogSink {
  const fmt = format === "json" ? formatJson : formatText;
  return (e) => {
    const bytes = encoder.encode(fmt(e) + "\n");
    try {
      let off = 0;
      while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
    } catch {
      // stdout closed: nothing sensible left to do with a log line
    }
  };
}
