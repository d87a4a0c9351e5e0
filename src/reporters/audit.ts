import { join } from "node:path";
import {
  type LineAppender,
  type Logger,
  openLineAppender,
  readLineLog,
  type Reporter,
  rotateFiles,
  type RunRecord,
} from "../model/mod.ts";
import { triggerName } from "./log.ts";

/** The audit file's name in StateDir; rotated copies are `audit.jsonl.1` (newest) … `.N`. */
export const AUDIT_FILE = "audit.jsonl";
/** Most bytes of a result's message (the command's output) one audit line keeps. */
export const AUDIT_MESSAGE_MAX = 4096;

/** Options of {@linkcode createAuditReporter}. */
export interface AuditOptions {
  /** Rotate before a line would make the file larger than this. Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept. Default 5. */
  keep?: number;
  /** Where write failures are reported (the reporter itself never throws). */
  logger?: Logger;
  /** Epoch ms, for the `time` field. Default Date.now. */
  now?: () => number;
}

/** One audit line (JSON). */
export interface AuditLine {
  time: string;
  task_id: number | string;
  /** `rule`, `remote` or `cli`. */
  trigger: string;
  /** Rule handler name, or `remote:<task_id>[@sender]`, or `cli`. */
  trigger_name: string;
  sender?: string;
  service: string;
  command: string;
  argv: string[];
  code: number;
  duration_ms: number;
  output_bytes: number;
  truncated: boolean;
  timed_out: boolean;
  /** The result's message (the output, or why nothing ran), at most AUDIT_MESSAGE_MAX bytes. */
  message: string;
  /** Central mode: the agent that ran it; `late`: its result came after RemoteResultTimeout. */
  host?: string;
  late?: boolean;
}

/**
 * Appends one JSON line per record to `StateDir/audit.jsonl` (mode 0600, synced to disk before
 * `report` resolves), rotating by size. The executor awaits it before any other reporter. At
 * creation the file is read once by the line-log reader: a torn last line (a power loss during
 * an append) or garbage is set aside (logged, the original kept as `audit.jsonl.corrupt-<time>`),
 * so the next record starts on a line of its own.
 */
export function createAuditReporter(stateDir: string, options: AuditOptions = {}): Reporter {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const keep = options.keep ?? 5;
  const now = options.now ?? Date.now;
  const path = join(stateDir, AUDIT_FILE);
  let file: LineAppender | null = null;
  // The one reader, once, at creation (the agent's start): what a crash left is set aside now.
  let chain: Promise<void> = readLineLog(path, {
    parse: (l) => {
      const v = JSON.parse(l);
      return v !== null && typeof v === "object" && typeof v.time === "string" ? true : undefined;
    },
    ...(options.logger ? { logger: options.logger } : {}),
    now,
  }).then(() => {}, (e) =>
    options.logger?.error("cannot read the audit file", {
      file: path,
      error: (e as Error).message,
    }));

  async function open() {
    await Deno.mkdir(stateDir, { recursive: true });
    file = await openLineAppender(path, { mode: 0o600 });
  }

  async function rotate() {
    file?.close();
    file = null;
    await rotateFiles(path, keep);
    await open();
  }

  async function append(text: string) {
    if (!file) await open();
    if (file!.size > 0 && file!.size + text.length > maxBytes) await rotate();
    await file!.append(text); // a failed append is cut off again: no torn line left behind
  }

  return {
    name: "audit",
    report(r: RunRecord) {
      const text = JSON.stringify(auditLine(r, now())) + "\n";
      chain = chain.then(() => append(text)).catch((e) => {
        file?.close();
        file = null;
        options.logger?.error("cannot write the audit file", {
          file: path,
          error: (e as Error).message,
        });
      });
      return chain;
    },
    close() {
      chain = chain.then(() => {
        file?.close();
        file = null;
      });
      return chain;
    },
  };
}

/** The audit line of a record. */
export function auditLine(r: RunRecord, now: number): AuditLine {
  return {
    time: new Date(now).toISOString(),
    task_id: r.result.task_id,
    trigger: r.trigger.kind,
    trigger_name: triggerName(r.trigger),
    ...(r.trigger.kind === "remote" && r.trigger.sender ? { sender: r.trigger.sender } : {}),
    service: r.service,
    command: r.command,
    argv: r.argv,
    code: r.result.code,
    duration_ms: r.durationMs,
    output_bytes: r.outputBytes,
    truncated: r.truncated,
    timed_out: r.timedOut,
    message: clipBytes(r.result.message, AUDIT_MESSAGE_MAX),
    ...(r.host !== undefined ? { host: r.host } : {}),
    ...(r.late ? { late: true } : {}),
  };
}

/** The first `max` UTF-8 bytes of `text` (on a character boundary), with a note if cut. */
function clipBytes(text: string, max: number): string {
  if (text.length <= max / 3) return text; // fast path: fits whatever the characters
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= max) return text;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // not inside a character
  return new TextDecoder().decode(bytes.subarray(0, end)) +
    `\n[edge-agent: ${bytes.length - end} more bytes of the message not audited]`;
}
