import type { Metric, Notification } from "../model/mod.ts";
import { parseItem } from "./items.ts";

/** Appends the decoded stream to a JSON-lines file (one metric or notification per line). */
export interface Recorder {
  /** Queues one item (written within `flushMs`). */
  write(item: Metric | Notification): void;
  /** Writes what is queued and closes the file. */
  close(): Promise<void>;
}

/** Options of {@linkcode openRecorder}. */
export interface RecorderOptions {
  /** Most milliseconds between writes. Default 1000. */
  flushMs?: number;
}

const encoder = new TextEncoder();

/** A bigint beyond 2^53 is written as a plain JSON number (exact in the file). */
function toJson(item: Metric | Notification): string {
  return JSON.stringify(
    item,
    (_k, v) => typeof v === "bigint" ? (JSON as unknown as RawJson).rawJSON(v.toString()) : v,
  );
}
interface RawJson {
  rawJSON(text: string): unknown;
}

/** Opens (appends to, creating it) the recording file `path`. */
export async function openRecorder(path: string, options: RecorderOptions = {}): Promise<Recorder> {
  const file = await Deno.open(path, { append: true, create: true });
  let lines: string[] = [];
  const flush = async () => {
    if (lines.length === 0) return;
    const text = lines.join("\n") + "\n";
    lines = [];
    const bytes = encoder.encode(text);
    let at = 0;
    while (at < bytes.length) at += await file.write(bytes.subarray(at));
  };
  let writing = Promise.resolve();
  const timer = setInterval(() => {
    writing = writing.then(flush);
  }, options.flushMs ?? 1000);
  return {
    write(item) {
      lines.push(toJson(item));
    },
    async close() {
      clearInterval(timer);
      await writing;
      await flush();
      file.close();
    },
  };
}

/**
 * Reads a recording (or any JSON-lines file of metric/notification objects). Blank lines and
 * lines starting with `#` are skipped; a bad line throws with its line number.
 */
export async function readRecording(path: string): Promise<(Metric | Notification)[]> {
  return parseRecording(await Deno.readTextFile(path), path);
}

/** The items of a recording's text; errors name `name:line`. */
export function parseRecording(text: string, name: string): (Metric | Notification)[] {
  const out: (Metric | Notification)[] = [];
  const now = Date.now() / 1000;
  text.split("\n").forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    try {
      out.push(parseItem(JSON.parse(trimmed), now));
    } catch (e) {
      throw new Error(`${name}:${i + 1}: ${(e as Error).message}`);
    }
  });
  return out;
}
