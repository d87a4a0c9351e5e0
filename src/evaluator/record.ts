import { type Metric, type Notification, rotateFiles } from "../model/mod.ts";
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
  /**
   * Rotate before a write would make the file larger than this (bytes): the file becomes
   * `<path>.1`, `.1` becomes `.2` … up to `keep`; the oldest goes. Default 100 MiB.
   */
  maxBytes?: number;
  /** Rotated files kept. Default 3 (so at most 4 × maxBytes on disk). */
  keep?: number;
  /** A failed write (e.g. a full disk): its lines are dropped and counted, nothing throws. */
  onError?: (message: string) => void;
}

const encoder = new TextEncoder();
/** Most characters queued between two writes; beyond, items are dropped (and counted). */
const QUEUE_MAX = 32 * 1024 * 1024;

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

/** Opens (appends to, creating it) the recording file `path`, bounded by size with rotation. */
export async function openRecorder(path: string, options: RecorderOptions = {}): Promise<Recorder> {
  const maxBytes = options.maxBytes ?? 100 * 1024 * 1024;
  const keep = options.keep ?? 3;
  if (!(maxBytes > 0) || !Number.isInteger(keep) || keep < 0) {
    throw new RangeError(`recording limits must be positive (maxBytes ${maxBytes}, keep ${keep})`);
  }
  let file: Deno.FsFile | null = await Deno.open(path, { append: true, create: true });
  let size = (await file.stat()).size;
  let lines: string[] = [];
  let queued = 0;
  let dropped = 0;
  let failing = false;

  async function rotate() {
    file?.close();
    file = null;
    await rotateFiles(path, keep);
    file = await Deno.open(path, { append: true, create: true });
    size = 0;
  }

  async function writeAll(bytes: Uint8Array) {
    if (size > 0 && size + bytes.length > maxBytes) await rotate();
    file ??= await Deno.open(path, { append: true, create: true });
    let at = 0;
    while (at < bytes.length) at += await file.write(bytes.subarray(at));
    size += bytes.length;
  }

  const flush = async () => {
    if (lines.length === 0) return;
    const batch = lines;
    lines = [];
    queued = 0;
    try {
      // one write per line at most maxBytes each, so a rotation never splits a line
      let chunk: string[] = [];
      let chunkBytes = 0;
      for (const line of batch) {
        const n = encoder.encode(line).length + 1;
        if (chunkBytes > 0 && (chunkBytes + n > maxBytes || size + chunkBytes + n > maxBytes)) {
          await writeAll(encoder.encode(chunk.join("\n") + "\n"));
          chunk = [];
          chunkBytes = 0;
        }
        chunk.push(line);
        chunkBytes += n;
      }
      await writeAll(encoder.encode(chunk.join("\n") + "\n"));
      if (failing) options.onError?.(`recording to ${path} works again (${dropped} items lost)`);
      failing = false;
    } catch (e) {
      dropped += batch.length;
      if (!failing) {
        options.onError?.(
          `cannot write the recording ${path}: ${(e as Error).message}; ` +
            "items are dropped until it works again",
        );
      }
      failing = true;
      file?.close();
      file = null;
      size = await Deno.stat(path).then((s) => s.size, () => 0);
    }
  };
  let writing = Promise.resolve();
  const timer = setInterval(() => {
    writing = writing.then(flush);
  }, options.flushMs ?? 1000);
  return {
    write(item) {
      const line = toJson(item);
      if (queued + line.length > QUEUE_MAX) { // a stalled disk must not grow memory
        dropped++;
        return;
      }
      queued += line.length;
      lines.push(line);
    },
    async close() {
      clearInterval(timer);
      await writing;
      await flush();
      file?.close();
      file = null;
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
