/**
 * The log lines a batch sends to the agent, bounded: a rule's `console.*` output is capped per
 * handler per batch (what is dropped is counted and reported in one line per handler), and the
 * glue's own lines about a handler (it threw, returned an invalid action, named an unknown
 * service) have their own, larger allowance, so console output never crowds them out. Texts are
 * clipped; control characters are escaped by the agent when it writes the line.
 * @module
 */

/** One log line for the agent (the shape of `RuleLogSchema` in `_protocol.ts`). */
export interface LogEntry {
  level: "error" | "warn" | "info" | "debug";
  msg: string;
  handler?: string | undefined;
  file?: string | undefined;
  line?: number | undefined;
  stack?: string | undefined;
}

/** Console lines one handler may log per batch. */
export const CONSOLE_PER_HANDLER = 10;
/** Console lines of all handlers together per batch. */
export const CONSOLE_PER_BATCH = 100;
/** Lines of the glue's own (errors, warnings about handlers) per batch. */
export const GLUE_PER_BATCH = 500;
/** Longest message or stack a rule can put in one log line. */
export const MAX_TEXT = 4000;

const clip = (t: string) => t.length > MAX_TEXT ? t.slice(0, MAX_TEXT) + "… (cut)" : t;

/** A batch's log lines. */
export class LogBook {
  #console: LogEntry[] = [];
  #glue: LogEntry[] = [];
  /** Console lines per handler (name; "" for none) in this batch, and how many were dropped. */
  #counts = new Map<string, number>();
  #dropped = new Map<string, number>();
  #glueDropped = 0;

  /** A rule's console output (`handler`: the handler or rule file running, if any). */
  console(level: LogEntry["level"], msg: string, handler: string | undefined): void {
    const key = handler ?? "";
    const n = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, n);
    if (n > CONSOLE_PER_HANDLER || this.#console.length >= CONSOLE_PER_BATCH) {
      this.#dropped.set(key, (this.#dropped.get(key) ?? 0) + 1);
      return;
    }
    this.#console.push({ level, msg: clip(msg), handler });
  }

  /** A line of the glue's own about a handler or a rule file. */
  glue(entry: LogEntry): void {
    if (this.#glue.length >= GLUE_PER_BATCH) {
      this.#glueDropped++;
      return;
    }
    entry.msg = clip(entry.msg);
    if (entry.stack !== undefined) entry.stack = clip(entry.stack);
    this.#glue.push(entry);
  }

  /** Every line of the batch (the glue's first), and a fresh start for the next batch. */
  take(): LogEntry[] {
    const out = this.#glue;
    if (this.#glueDropped !== 0) {
      out.push({
        level: "error",
        msg: `${this.#glueDropped} more rule error lines in this batch were not logged`,
      });
    }
    for (const e of this.#console) out.push(e);
    for (const [handler, n] of this.#dropped) {
      out.push({
        level: "warn",
        msg: `${n} console line(s) not logged (at most ${CONSOLE_PER_HANDLER} per handler and ` +
          `${CONSOLE_PER_BATCH} in all per batch)`,
        handler: handler === "" ? undefined : handler,
      });
    }
    this.#glue = [];
    this.#console = [];
    this.#glueDropped = 0;
    if (this.#counts.size !== 0) this.#counts = new Map();
    if (this.#dropped.size !== 0) this.#dropped = new Map();
    return out;
  }
}
