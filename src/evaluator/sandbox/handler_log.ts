/**
 * A handler's own problems as the glue's log lines: a handler that throws is logged at most once
 * per interval (with a count of the errors not logged) and counted in the batch every time; a
 * warning (an unknown service, a Promise returned) is logged once per handler and kind.
 * @module
 */
import type { Glue } from "./enclose.ts";
import type { Describer } from "./errors.ts";
import type { LogBook } from "./logs.ts";
import type { Batch, Handler } from "./types.ts";

/** Handlers logged once per interval when they keep throwing (with a count of the rest). */
const ERROR_LOG_INTERVAL_MS = 10_000;
/** Distinct warnings kept per handler (each is logged once). */
const MAX_WARNED = 100;

/** The handler log of one worker. */
export function createHandlerLog(glue: Glue, logs: LogBook, describe: Describer["describe"]) {
  return {
    /** Handler `h` threw `e` in `batch`. */
    threw(h: Handler, e: unknown, batch: Batch): void {
      batch.errors++;
      batch.errorsBy ??= {};
      batch.errorsBy[h.name] = (batch.errorsBy[h.name] ?? 0) + 1;
      const now = glue.now();
      if (now - h.lastError < ERROR_LOG_INTERVAL_MS) {
        h.suppressed++;
        return;
      }
      const d = describe(e);
      const more = h.suppressed ? ` (${h.suppressed} more errors of this handler not logged)` : "";
      logs.glue({
        level: "error",
        msg: `rule handler threw ${d.message}${more}`,
        handler: h.name,
        file: d.file ?? h.file,
        line: d.line,
        stack: d.stack,
      });
      h.lastError = now;
      h.suppressed = 0;
    },
    /** Logs warning `msg` of handler `h` unless one with `id` was logged before. */
    warnOnce(h: Handler, id: string, msg: string): void {
      if (h.warned.has(id)) return;
      if (h.warned.size < MAX_WARNED) h.warned.add(id);
      logs.glue({ level: "error", msg, handler: h.name });
    },
  };
}

/** What {@linkcode createHandlerLog} returns. */
export type HandlerLog = ReturnType<typeof createHandlerLog>;
