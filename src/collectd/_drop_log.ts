/**
 * The intake's log lines about bad datagrams and receive failures, rate-limited: they are driven
 * by input from the network.
 * @module
 */
import { rateLimited } from "../log/mod.ts";
import type { Logger } from "../model/mod.ts";

/** Most "dropped collectd packet" lines per interval overall. */
const MAX_LINES = 50;

/** Log lines of the intake (see {@linkcode dropLog}). */
export interface DropLog {
  /** A datagram (or part) from `source` on Listen entry `listen` was dropped for `reason`. */
  dropped(source: string, reason: string, listen: string): void;
  /** Something failed that is not a datagram's fault (`message` is the log line). */
  failed(message: string): void;
}

/**
 * Per source address and reason at most one "dropped" line per interval, and at most MAX_LINES
 * lines per interval overall (spoofed source addresses must not flood the log either); each
 * failure message at most once per interval.
 */
export function dropLog(log: Logger, intervalMs: number): DropLog {
  let windowStart = 0;
  let windowLines = 0;
  const warn = rateLimited((key, suppressed) => {
    const now = Date.now();
    if (now - windowStart >= intervalMs) windowStart = now, windowLines = 0;
    if (++windowLines > MAX_LINES) return;
    const [source, reason, at] = key.split("|");
    log.warn("dropped collectd packet", {
      from: source,
      reason,
      listen: at,
      ...(suppressed > 0 ? { suppressed } : {}),
      ...(windowLines === MAX_LINES ? { note: "more bad packets: log lines paused" } : {}),
    });
  }, { intervalMs });
  const complain = rateLimited((key, suppressed) => {
    log.error(key, suppressed > 0 ? { suppressed } : {});
  }, { intervalMs });
  return {
    dropped: (source, reason, listen) => warn(`${source}|${reason}|${listen}`),
    failed: complain,
  };
}
