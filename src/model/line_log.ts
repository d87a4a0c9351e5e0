import { dirname } from "node:path";
import type { Logger } from "./logger.ts";
import { setAsideName, syncDir, writeAll, writeFileDurable } from "./durable_file.ts";

/**
 * Line logs: the append-only state files of StateDir (`seen-task-ids.log`, `audit.jsonl`), one
 * record per line, each line synced before the call that wrote it resolves. A record is
 * complete only with its newline: a power loss in the middle of an append leaves a "torn" last
 * line, which is never taken for a record (a cut `154` must not read as task `15`).
 *
 * {@linkcode readLineLog} is the one reader: it keeps every complete, readable record, sets the
 * rest aside (the original file is kept as `<file>.corrupt-<time>`, the file rewritten with the
 * kept records) and says so in one error line naming the file, the byte offset and what was lost.
 * {@linkcode openLineAppender} is the one appender: a failed append is cut back off the file,
 * and an append after a torn line starts on a new line.
 */

/** What {@linkcode readLineLog} could not read. */
export interface SetAside {
  /** The state file. */
  file: string;
  /** Where its original bytes were kept (`<file>.corrupt-<time>`); null when that failed. */
  savedAs: string | null;
  /** Byte offset of the first unreadable byte. */
  offset: number;
  /** Unreadable bytes and lines (a torn last line counts as one). */
  lostBytes: number;
  lostLines: number;
  /** Whether the last line had no newline (a write cut short). */
  torn: boolean;
  /** Records kept. */
  kept: number;
  /** Whether the file now holds only the kept records (false: the rewrite failed, e.g. disk full). */
  rewritten: boolean;
}

/** Options of {@linkcode readLineLog}. */
export interface ReadLineLogOptions<T> {
  /** One complete line (without its newline) → a record, or undefined (or a throw) when unreadable. */
  parse: (line: string) => T | undefined;
  /** Where the error line about what was set aside goes. */
  logger?: Logger;
  /** Epoch ms for the `<time>` of the set-aside name. Default Date.now. */
  now?: () => number;
  /** Mode of the rewritten file. Default 0o600. */
  mode?: number;
  /**
   * Only read: skip what is unreadable, set nothing aside, rewrite nothing, log nothing (a
   * reader beside the process that owns the file, e.g. `agent status`). `setAside` still says
   * what was skipped (`savedAs` null, `rewritten` false). Default false.
   */
  readOnly?: boolean;
}

/** What a line log held. */
export interface LineLogContents<T> {
  records: T[];
  /** Null when every line was a readable record (or the file is missing). */
  setAside: SetAside | null;
}

const NL = 0x0a;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads the line log `path` (a missing file is empty): every newline-terminated line that
 * `parse` accepts is a record; empty lines are skipped; anything else (a torn last line,
 * garbage, invalid UTF-8) is set aside. Never throws for bad content; throws only when the file
 * exists and cannot be read.
 */
export async function readLineLog<T>(
  path: string,
  options: ReadLineLogOptions<T>,
): Promise<LineLogContents<T>> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { records: [], setAside: null };
    throw new Error(`Cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const records: T[] = [];
  const keep: Uint8Array[] = [];
  let firstBad = -1;
  let lostBytes = 0;
  let lostLines = 0;
  let preview = "";
  let start = 0;
  while (start < bytes.length) {
    const nl = bytes.indexOf(NL, start);
    const end = nl < 0 ? bytes.length : nl;
    if (nl >= 0 && end === start) {
      start = end + 1; // an empty line: nothing lost
      continue;
    }
    const record = nl < 0 ? undefined : parseLine(bytes.subarray(start, end), options.parse);
    if (record !== undefined) {
      records.push(record);
      keep.push(bytes.subarray(start, end + 1));
    } else {
      if (firstBad < 0) firstBad = start;
      lostBytes += end - start + (nl < 0 ? 0 : 1);
      lostLines++;
      if (preview.length < 120) preview += lossy(bytes.subarray(start, Math.min(end, start + 120)));
    }
    start = end + 1;
  }
  if (firstBad < 0) return { records, setAside: null };
  const torn = bytes.length > 0 && bytes[bytes.length - 1] !== NL;
  if (options.readOnly) {
    const skipped = { savedAs: null, kept: records.length, rewritten: false };
    return {
      records,
      setAside: { file: path, offset: firstBad, lostBytes, lostLines, torn, ...skipped },
    };
  }
  const now = options.now ?? Date.now;
  let saved: string | null = null;
  for (let n = 0; n < 100 && saved === null; n++) {
    const name = setAsideName(path, now()) + (n ? `.${n}` : "");
    try {
      // A second name for the same bytes: costs no space, and `path` is never missing.
      await Deno.link(path, name);
      saved = name;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) break;
    }
  }
  if (saved) await syncDir(dirname(saved));
  let rewritten = false;
  try {
    await writeFileDurable(path, concat(keep), { mode: options.mode ?? 0o600 });
    rewritten = true;
  } catch {
    // e.g. disk full: the records are in memory; the appender starts a new line after a torn one
  }
  const setAside: SetAside = {
    file: path,
    savedAs: saved,
    offset: firstBad,
    lostBytes,
    lostLines,
    torn,
    kept: records.length,
    rewritten,
  };
  options.logger?.error(
    `state file ${path}: set aside ${lostBytes} unreadable byte(s) in ${lostLines} line(s) ` +
      `from byte offset ${firstBad}` + (torn ? " (a torn last line: a write cut short)" : "") +
      `; kept ${records.length} complete record(s)` +
      (saved ? `; the original is kept as ${saved}` : "") +
      (rewritten ? "" : "; the file could not be rewritten (it is read around instead)"),
    {
      file: path,
      offset: firstBad,
      lost_bytes: lostBytes,
      lost_lines: lostLines,
      kept: records.length,
      saved_as: saved,
      lost: preview.slice(0, 120),
    },
  );
  return { records, setAside };
}

function parseLine<T>(bytes: Uint8Array, parse: (line: string) => T | undefined): T | undefined {
  try {
    return parse(utf8.decode(bytes)) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Printable preview of lost bytes (for the log line). */
function lossy(bytes: Uint8Array): string {
  // deno-lint-ignore no-control-regex
  return new TextDecoder().decode(bytes).replace(/[\u0000-\u001f\u007f]/g, "\ufffd");
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An open line log (see {@linkcode openLineAppender}). */
export interface LineAppender {
  /**
   * Appends `text` (whole lines, each ending in a newline) and syncs it to disk. On failure
   * (disk full, I/O error) what was written of it is cut off again, and the error is thrown.
   */
  append(text: string): Promise<void>;
  /** Bytes in the file. */
  readonly size: number;
  /** Closes the file (idempotent); `append` must not be called after it. */
  close(): void;
}

/**
 * Opens `path` for appending (created with `mode`, default 0o600). When the file does not end
 * with a newline (a torn line the reader could not rewrite), the first append starts a new line.
 */
export async function openLineAppender(
  path: string,
  options: { mode?: number } = {},
): Promise<LineAppender> {
  const file = await Deno.open(path, {
    read: true,
    append: true,
    create: true,
    mode: options.mode ?? 0o600,
  });
  const encoder = new TextEncoder();
  let size: number;
  let newline = false;
  try {
    size = (await file.stat()).size;
    if (size > 0) {
      const last = new Uint8Array(1);
      await file.seek(size - 1, Deno.SeekMode.Start);
      newline = (await file.read(last)) === 1 && last[0] !== NL;
    }
  } catch (e) {
    file.close();
    throw e;
  }
  let closed = false;
  return {
    get size() {
      return size;
    },
    async append(text) {
      const bytes = encoder.encode(newline ? "\n" + text : text);
      const before = size;
      try {
        await writeAll(file, bytes);
        await file.syncData();
        // After a cut that failed, the file holds more than counted.
        size = newline ? (await file.stat()).size : size + bytes.length;
        newline = false;
      } catch (e) {
        // Cut off what was written of it, so the next append does not continue a torn line.
        try {
          await file.truncate(before);
        } catch {
          newline = true;
        }
        throw e;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      file.close();
    },
  };
}
